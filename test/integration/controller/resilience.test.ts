import assert from "node:assert/strict";
import { afterEach, beforeEach, describe, it } from "node:test";
import { resolveConfig } from "../../../src/config.ts";
import { Manager } from "../../../src/controller/manager.ts";
import { makeLogger } from "../../../src/observability/logger.ts";
import { awsTestEnv } from "../../support/aws.ts";
import {
  nlbService,
  ownedByCluster,
  settle,
  startTestCluster,
  type TestCluster,
  waitFor,
} from "../../support/cluster.ts";
import { CHART_NAMESPACE, LEADER_LEASE } from "../../support/kube-backend.ts";

awsTestEnv();
const NS = "default";

describe("resilience", () => {
  let c: TestCluster;
  const extra: Manager[] = [];
  beforeEach(async () => {
    c = await startTestCluster();
  });
  afterEach(async () => {
    for (const m of extra.splice(0)) await m.stop();
    await c.close();
  });

  it("converges through AWS throttling, 5xx and dropped answers without duplicates", async () => {
    c.proxy.setFaults([
      // AWS's CreateLoadBalancer is idempotent (a retry returns the same NLB) but moto's is not: losing
      // its answer would test moto, not us. Every other call may lose its answer.
      { match: { service: "elbv2", operation: "CreateLoadBalancer" }, throttleRate: 0.25, errorRate: 0.05 },
      { match: { service: "elbv2" }, throttleRate: 0.25, errorRate: 0.05, dropResponseRate: 0.1 },
      { match: { service: "ec2" }, throttleRate: 0.25 },
    ]);
    c.proxy.reseed(7);
    for (const name of ["a", "b", "c"])
      await c.kube.core.createNamespacedService({ namespace: NS, body: nlbService(name) });
    const m = await c.startController();
    await waitFor(
      "three NLBs with status",
      async () => {
        const list = await c.kube.core.listNamespacedService({ namespace: NS });
        return list.items.filter((s) => s.status?.loadBalancer?.ingress?.[0]?.hostname).length === 3;
      },
      120_000,
    );
    await settle(m);
    const throttled = c.proxy.calls.filter((x) => x.outcome === "throttled").length;
    assert.ok(throttled > 0, "the proxy did throttle");
    c.proxy.setFaults([]);
    const owned = await ownedByCluster(c.elbv2, c.clusterName);
    assert.equal(owned.loadBalancers.length, 3);
    assert.equal(owned.targetGroups.length, 3);
  });

  it("survives dropped watches, a forced 410 and API errors, and still reacts to changes", async (t) => {
    const faults = c.kubeFaults;
    if (!faults) {
      t.skip("a cluster of yours (KUBECONFIG) has no fault injection");
      return;
    }
    const m = await c.startController();
    await c.kube.core.createNamespacedService({ namespace: NS, body: nlbService("one") });
    await waitFor(
      "first NLB",
      async () => (await ownedByCluster(c.elbv2, c.clusterName)).loadBalancers.length === 1,
    );
    faults.expireNextWatches(3);
    faults.dropWatches();
    faults.failNextRequests(5);
    // On the emulator the test's own request may hit an injected 500 too: retry it like any client would.
    await waitFor("Service two created", async () => {
      await c.kube.core.createNamespacedService({ namespace: NS, body: nlbService("two") });
      return true;
    });
    await waitFor(
      "second NLB after the faults",
      async () => (await ownedByCluster(c.elbv2, c.clusterName)).loadBalancers.length === 2,
      60_000,
    );
    await settle(m);
  });

  it("runs one active replica under leader election and fails over when the leader stops", async () => {
    const make = () =>
      new Manager(
        resolveConfig({
          clusterName: c.clusterName,
          kubeconfig: c.controllerKubeconfig,
          awsEndpointUrl: c.proxy.url,
          vpcId: c.vpc.vpcId,
          metricsBindAddress: "0",
          healthProbeBindAddress: "0",
          leaderElect: true,
          leaderElectionNamespace: CHART_NAMESPACE,
          logLevel: "silent",
        }),
        makeLogger("silent"),
      );
    const first = make();
    const second = make();
    extra.push(second, first);
    await first.start();
    let secondLeads = false;
    void second.start().then(() => {
      secondLeads = true;
    });
    await c.kube.core.createNamespacedService({ namespace: NS, body: nlbService("one") });
    await waitFor(
      "NLB by the leader",
      async () => (await ownedByCluster(c.elbv2, c.clusterName)).loadBalancers.length === 1,
    );
    await new Promise((r) => setTimeout(r, 2500));
    assert.equal(secondLeads, false, "the standby does not lead while the leader renews");
    const lease = await c.kube.coordination.readNamespacedLease({
      name: LEADER_LEASE,
      namespace: CHART_NAMESPACE,
    });
    assert.ok(lease.spec?.holderIdentity, "the lease names a holder");

    await first.stop();
    extra.splice(extra.indexOf(first), 1);
    await waitFor("standby takes over", () => secondLeads, 30_000);
    await c.kube.core.createNamespacedService({ namespace: NS, body: nlbService("two") });
    await waitFor(
      "NLB by the new leader",
      async () => (await ownedByCluster(c.elbv2, c.clusterName)).loadBalancers.length === 2,
      30_000,
    );
  });
});
