// The client-side AWS API budget against AWS's own token buckets (the fault proxy enforces them,
// ten times faster than real time): the controller waits for its tokens instead of being throttled.
import assert from "node:assert/strict";
import { afterEach, beforeEach, describe, it } from "node:test";
import { awsTestEnv } from "../../support/aws.ts";
import {
  nlbService,
  ownedByCluster,
  settle,
  type TestCluster,
  useTestCluster,
  waitFor,
} from "../../support/cluster.ts";
import { awsAccountLimits } from "../../support/fault-proxy.ts";

awsTestEnv();
const NS = "default";
const SERVICES = 12;

describe("client-side AWS API budget", () => {
  const cluster = useTestCluster({ nodes: 1 });
  let c: TestCluster;
  beforeEach(() => {
    c = cluster();
  });
  afterEach(() => c.proxy.setLimits([]));

  it("creates more NLBs than AWS's CreateLoadBalancer burst without one throttling error", async () => {
    // AWS: 10 at once, then 0.2 a second, here at 10x (2 a second). The controller's share of it,
    // in the same compressed time: 5 at once, then 1 a second.
    c.proxy.setLimits(awsAccountLimits, 10);
    const m = await c.startController({
      awsApiBudget: "0.5",
      awsApiThrottle: "elbv2:CreateLoadBalancer=1:5",
    });
    for (let i = 0; i < SERVICES; i++)
      await c.kube.core.createNamespacedService({ namespace: NS, body: nlbService(`svc-${i}`) });
    await waitFor(
      `${SERVICES} NLBs`,
      async () => (await ownedByCluster(c.elbv2, c.clusterName)).loadBalancers.length === SERVICES,
      90_000,
    );
    await settle(m);
    const creates = c.proxy.calls.filter((x) => x.operation === "CreateLoadBalancer");
    assert.equal(
      creates.filter((x) => x.outcome === "throttled").length,
      0,
      `no CreateLoadBalancer throttled: ${creates.map((x) => x.outcome)}`,
    );
    assert.equal(creates.length, SERVICES, "one call per NLB");
    const waited = (await m.metrics.awsBudgetWait.get()).values.find(
      (v) => v.labels.operation === "CreateLoadBalancer",
    );
    assert.ok((waited?.value ?? 0) > 0, "calls beyond the burst waited for the budget");
  });
});
