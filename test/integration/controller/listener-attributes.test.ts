import assert from "node:assert/strict";
import { beforeEach, describe, it } from "node:test";
import {
  DescribeListenerAttributesCommand,
  DescribeListenersCommand,
} from "@aws-sdk/client-elastic-load-balancing-v2";
import { awsTestEnv } from "../../support/aws.ts";
import {
  annotate,
  nlbService,
  ownedByCluster,
  settle,
  type TestCluster,
  useTestCluster,
  waitFor,
} from "../../support/cluster.ts";

awsTestEnv();
const NS = "default";
const KEY = "service.beta.kubernetes.io/aws-load-balancer-listener-attributes.TCP-80";
const IDLE = "tcp.idle_timeout.seconds";

describe("listener-attributes", () => {
  const cluster = useTestCluster();
  let c: TestCluster;
  beforeEach(() => {
    c = cluster();
  });

  /** The idle timeout of each listener by port, as AWS reports it (unreported means the default, 350). */
  const idleTimeouts = async (): Promise<Record<number, string>> => {
    const lb = (await ownedByCluster(c.elbv2, c.clusterName)).loadBalancers[0];
    if (!lb) return {};
    const listeners =
      (await c.elbv2.send(new DescribeListenersCommand({ LoadBalancerArn: lb.arn }))).Listeners ?? [];
    const out: Record<number, string> = {};
    for (const l of listeners) {
      const attrs = await c.elbv2.send(new DescribeListenerAttributesCommand({ ListenerArn: l.ListenerArn }));
      out[l.Port!] = attrs.Attributes?.find((a) => a.Key === IDLE)?.Value ?? "350";
    }
    return out;
  };
  const idleIs = (want: Record<number, string>) => async () => {
    const have = await idleTimeouts();
    return Object.keys(have).length === Object.keys(want).length &&
      Object.entries(want).every(([port, value]) => have[Number(port)] === value)
      ? have
      : undefined;
  };
  const modifyCalls = () => c.proxy.calls.filter((x) => x.operation === "ModifyListenerAttributes").length;

  it("sets and changes the idle timeout of one listener through the running controller, and leaves it when the annotation goes", async () => {
    await c.kube.core.createNamespacedService({
      namespace: NS,
      body: nlbService("web", {
        annotations: { [KEY]: `${IDLE}=600` },
        spec: {
          ports: [
            { name: "http", port: 80, targetPort: 8080, protocol: "TCP" },
            { name: "https", port: 443, targetPort: 8443, protocol: "TCP" },
          ],
        },
      }),
    });
    const m = await c.startController();
    await waitFor("listener 80 at 600 s, 443 at the default", idleIs({ 80: "600", 443: "350" }));
    await settle(m);
    assert.equal(modifyCalls(), 1, "one call, for port 80 only: the default is not set on create");

    c.proxy.resetCalls();
    await annotate(c, "web", { [KEY]: `${IDLE}=900` });
    await waitFor("listener 80 at 900 s", idleIs({ 80: "900", 443: "350" }));
    await settle(m);
    assert.equal(modifyCalls(), 1);

    // Removing the annotation leaves the value as it is (as for NLB and target group attributes):
    // a value set by other means is never overwritten; the default is set by asking for it.
    c.proxy.resetCalls();
    await annotate(c, "web", { [KEY]: null as unknown as string });
    await settle(m);
    assert.equal(modifyCalls(), 0);
    assert.ok(await idleIs({ 80: "900", 443: "350" })(), "listener 80 keeps 900 s");
    assert.ok(
      !c.proxy.calls.some((x) => x.operation === "DescribeListenerAttributes"),
      "attributes are not even read when the Service sets none",
    );
    await annotate(c, "web", { [KEY]: `${IDLE}=350` });
    await waitFor("listener 80 back at the default", idleIs({ 80: "350", 443: "350" }));
    await settle(m);
    assert.equal(modifyCalls(), 1);
    assert.ok(
      !c.proxy.calls.some((x) => /^(Create|Delete)Listener$/.test(x.operation)),
      "attributes change in place",
    );

    // A steady state reads nothing more: the stack is unchanged since its last apply.
    c.proxy.resetCalls();
    await c.startController();
    await settle(c.controller());
    assert.ok(!c.proxy.calls.some((x) => x.operation === "DescribeListenerAttributes"));
  });

  it("a key naming no listener gets a Warning naming the annotation and touches nothing", async () => {
    await c.kube.core.createNamespacedService({
      namespace: NS,
      body: nlbService("web", { annotations: { [`${KEY.slice(0, -2)}8080`]: `${IDLE}=600` } }),
    });
    await c.startController();
    const warning = await waitFor("InvalidAnnotation event", async () =>
      (await c.kube.core.listNamespacedEvent({ namespace: NS })).items.find(
        (e) => e.reason === "InvalidAnnotation",
      ),
    );
    assert.equal(warning.type, "Warning");
    assert.match(warning.message ?? "", /listener-attributes\.TCP-8080/);
    assert.match(warning.message ?? "", /TCP-80\b/);
    assert.equal((await ownedByCluster(c.elbv2, c.clusterName)).loadBalancers.length, 0);
  });
});
