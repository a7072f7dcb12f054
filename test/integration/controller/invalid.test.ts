import assert from "node:assert/strict";
import { beforeEach, describe, it } from "node:test";
import { awsTestEnv } from "../../support/aws.ts";
import {
  annotate,
  isMutatingCall,
  nlbService,
  ownedByCluster,
  settle,
  type TestCluster,
  useTestCluster,
  waitFor,
} from "../../support/cluster.ts";

awsTestEnv();
const NS = "default";

describe("bad input", () => {
  const cluster = useTestCluster();
  let c: TestCluster;
  beforeEach(() => {
    c = cluster();
  });

  it("a wrong annotation gets a Warning naming it, changes nothing in AWS, and neighbours converge; fixing it heals", async () => {
    await c.kube.core.createNamespacedService({ namespace: NS, body: nlbService("good") });
    await c.kube.core.createNamespacedService({ namespace: NS, body: nlbService("other") });
    const m = await c.startController();
    await waitFor(
      "two NLBs",
      async () => (await ownedByCluster(c.elbv2, c.clusterName)).loadBalancers.length === 2,
    );
    await settle(m);
    const before = await ownedByCluster(c.elbv2, c.clusterName);

    c.proxy.resetCalls();
    await annotate(c, "good", { "service.beta.kubernetes.io/aws-load-balancer-healthcheck-interval": "3" });
    await c.kube.core.createNamespacedService({ namespace: NS, body: nlbService("third") });
    const warning = await waitFor("InvalidAnnotation event", async () =>
      (await c.kube.core.listNamespacedEvent({ namespace: NS })).items.find(
        (e) => e.reason === "InvalidAnnotation",
      ),
    );
    assert.equal(warning.type, "Warning");
    assert.equal(warning.involvedObject.name, "good");
    assert.match(warning.message ?? "", /healthcheck-interval/);
    assert.match(warning.message ?? "", /"3"/);
    const condition = await waitFor("not-reconciled condition", async () => {
      const svc = await c.kube.core.readNamespacedService({ name: "good", namespace: NS });
      return svc.status?.conditions?.find(
        (x) => x.type === "aws-nlb-controller/Reconciled" && x.status === "False",
      );
    });
    assert.equal(condition.reason, "InvalidAnnotation");
    assert.match(condition.message, /healthcheck-interval/);
    await waitFor(
      "third converges",
      async () => (await ownedByCluster(c.elbv2, c.clusterName)).loadBalancers.length === 3,
    );
    await settle(m);
    const after = await ownedByCluster(c.elbv2, c.clusterName);
    for (const lb of before.loadBalancers)
      assert.ok(
        after.loadBalancers.some((l) => l.arn === lb.arn),
        "the working NLB stays",
      );
    const goodTg = before.targetGroups.find((t) => t.tags["service.k8s.aws/stack"] === "default/good")!;
    const touched = c.proxy.calls.filter(
      (x) =>
        isMutatingCall(x.operation) &&
        x.operation.includes("TargetGroup") &&
        x.operation.startsWith("Modify"),
    );
    assert.deepEqual(touched, [], `no modification for the invalid Service (${goodTg.name})`);

    c.proxy.resetCalls();
    await annotate(c, "good", { "service.beta.kubernetes.io/aws-load-balancer-healthcheck-interval": "15" });
    await waitFor("healed: health check modified", () =>
      c.proxy.calls.some((x) => x.operation === "ModifyTargetGroup"),
    );
    await waitFor("reconciled condition back to True", async () => {
      const svc = await c.kube.core.readNamespacedService({ name: "good", namespace: NS });
      return svc.status?.conditions?.some(
        (x) => x.type === "aws-nlb-controller/Reconciled" && x.status === "True",
      );
    });
  });
});
