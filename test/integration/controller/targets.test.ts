import assert from "node:assert/strict";
import { beforeEach, describe, it } from "node:test";
import { DescribeTargetHealthCommand } from "@aws-sdk/client-elastic-load-balancing-v2";
import { mergePatch } from "../../../src/kube/client.ts";
import { awsTestEnv } from "../../support/aws.ts";
import {
  nlbService,
  ownedByCluster,
  setEndpoints,
  settle,
  type TestCluster,
  useTestCluster,
  waitFor,
} from "../../support/cluster.ts";

awsTestEnv();
const NS = "default";

describe("target loop", () => {
  const cluster = useTestCluster({ nodes: 3 });
  let c: TestCluster;
  beforeEach(() => {
    c = cluster();
  });

  const targetsOf = async (arn: string) =>
    (
      (await c.elbv2.send(new DescribeTargetHealthCommand({ TargetGroupArn: arn })))
        .TargetHealthDescriptions ?? []
    )
      .filter((h) => h.TargetHealth?.State !== "draining")
      .map((h) => `${h.Target?.Id}:${h.Target?.Port}`)
      .sort();

  it("follows endpoint scaling with the minimum calls, registering before deregistering", async () => {
    await c.kube.core.createNamespacedService({
      namespace: NS,
      body: nlbService("api", {
        annotations: { "service.beta.kubernetes.io/aws-load-balancer-nlb-target-type": "ip" },
      }),
    });
    await setEndpoints(c, NS, "api", ["10.0.0.1", "10.0.0.2"]);
    // Wide enough for the five steps below: on the real control plane each waits for kubelet-like
    // status writes and the EndpointSlice controller, a few hundred milliseconds apiece.
    const m = await c.startController({ targetBatchWindow: "5s" });
    const tg = await waitFor(
      "target group",
      async () => (await ownedByCluster(c.elbv2, c.clusterName)).targetGroups[0],
    );
    await waitFor("two targets", async () => (await targetsOf(tg.arn)).length === 2);
    await settle(m);

    // A rollout: the first slice update syncs at once, the next four inside the batch window after
    // it are gathered into one sync: two registers and one or two deregisters at most.
    c.proxy.resetCalls();
    await setEndpoints(c, NS, "api", ["10.0.0.1", "10.0.0.2", "10.0.0.3"]);
    await setEndpoints(c, NS, "api", ["10.0.0.1", "10.0.0.2", "10.0.0.3", "10.0.0.4"]);
    await setEndpoints(c, NS, "api", ["10.0.0.2", "10.0.0.3", "10.0.0.4"]);
    await setEndpoints(c, NS, "api", ["10.0.0.3", "10.0.0.4"]);
    await setEndpoints(c, NS, "api", ["10.0.0.3", "10.0.0.4", "10.0.0.5"]);
    await waitFor(
      "targets follow",
      async () =>
        (await targetsOf(tg.arn)).join() === ["10.0.0.3:8080", "10.0.0.4:8080", "10.0.0.5:8080"].join(),
    );
    await settle(m);
    const ops = c.proxy.calls.map((x) => x.operation);
    assert.ok(
      ops.indexOf("RegisterTargets") >= 0 &&
        ops.indexOf("RegisterTargets") < ops.indexOf("DeregisterTargets"),
      `register before deregister: ${ops}`,
    );
    assert.ok(ops.filter((o) => o === "RegisterTargets").length <= 2, `few register calls: ${ops}`);
    assert.ok(ops.filter((o) => o === "DeregisterTargets").length <= 2, `few deregister calls: ${ops}`);
    assert.ok(
      !ops.some((o) => o.startsWith("DescribeLoadBalancers") || o === "DescribeListeners"),
      "no stack re-describe for a target change",
    );

    // 450 endpoints: each registered once, in calls of at most 200. A real EndpointSlice controller
    // publishes them as the pods become ready, so the calls follow its updates (three at least).
    c.proxy.resetCalls();
    const many = Array.from({ length: 450 }, (_, i) => `10.1.${Math.floor(i / 200)}.${(i % 200) + 1}`);
    await setEndpoints(c, NS, "api", many);
    await waitFor("450 targets", async () => (await targetsOf(tg.arn)).length === 450, 60_000);
    await settle(m);
    const registered = c.proxy.calls
      .filter((x) => x.operation === "RegisterTargets")
      .map((x) => Object.keys(x.params ?? {}).filter((k) => /^Targets\.member\.\d+\.Id$/.test(k)).length);
    assert.ok(Math.max(...registered) <= 200, `at most 200 a call: ${registered}`);
    assert.ok(registered.length >= 3, `450 targets need three calls at least: ${registered}`);
    assert.equal(
      registered.reduce((a, b) => a + b, 0),
      450,
      "each new target registered once",
    );
    if (c.backend === "emulator") assert.equal(registered.length, 3, "one slice update: the minimum");
  });

  it("drops a node that becomes NotReady or gets the exclude label, and takes it back", async () => {
    await c.kube.core.createNamespacedService({ namespace: NS, body: nlbService("web") });
    const m = await c.startController();
    const tg = await waitFor(
      "target group",
      async () => (await ownedByCluster(c.elbv2, c.clusterName)).targetGroups[0],
    );
    await waitFor("3 instance targets", async () => (await targetsOf(tg.arn)).length === 3);
    const nodes = (await c.kube.core.listNode()).items;
    const [n0, n1] = [nodes[0]!, nodes[1]!];
    const id0 = n0.spec!.providerID!.split("/").pop()!;
    const id1 = n1.spec!.providerID!.split("/").pop()!;

    await c.kube.core.patchNodeStatus(
      {
        name: n0.metadata!.name!,
        body: { status: { conditions: [{ type: "Ready", status: "False", reason: "KubeletNotReady" }] } },
      },
      mergePatch,
    );
    await waitFor(
      "NotReady node removed",
      async () => !(await targetsOf(tg.arn)).some((t) => t.startsWith(id0)),
    );
    await c.kube.core.patchNode(
      {
        name: n1.metadata!.name!,
        body: { metadata: { labels: { "node.kubernetes.io/exclude-from-external-load-balancers": "true" } } },
      },
      mergePatch,
    );
    await waitFor(
      "excluded node removed",
      async () => !(await targetsOf(tg.arn)).some((t) => t.startsWith(id1)),
    );
    assert.equal((await targetsOf(tg.arn)).length, 1);

    await c.kube.core.patchNodeStatus(
      {
        name: n0.metadata!.name!,
        body: { status: { conditions: [{ type: "Ready", status: "True", reason: "KubeletReady" }] } },
      },
      mergePatch,
    );
    await waitFor("ready node back", async () => (await targetsOf(tg.arn)).some((t) => t.startsWith(id0)));
    await settle(m);
    assert.equal((await targetsOf(tg.arn)).length, 2);
  });
});
