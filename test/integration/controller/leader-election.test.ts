// Leader election's safety rules on a real kube-apiserver: a leader whose renewals stop getting
// through stops leading before any standby may take the lease, and a stop releases the lease.
import assert from "node:assert/strict";
import { afterEach, beforeEach, describe, it } from "node:test";
import { loadKubeConfig, makeKubeApis } from "../../../src/kube/client.ts";
import { LeaderElector } from "../../../src/kube/leader.ts";
import { makeLogger } from "../../../src/observability/logger.ts";
import { awsTestEnv } from "../../support/aws.ts";
import { startTestCluster, type TestCluster, waitFor } from "../../support/cluster.ts";
import { CHART_NAMESPACE, LEADER_LEASE } from "../../support/kube-backend.ts";

awsTestEnv();
const log = makeLogger("silent");
const FAST = { leaseDurationSeconds: 3, renewDeadlineMs: 2000, retryPeriodMs: 250 };

describe("leader election", () => {
  let c: TestCluster;
  const electors: LeaderElector[] = [];
  beforeEach(async () => {
    c = await startTestCluster({ nodes: 1 });
  });
  afterEach(async () => {
    c.kubeFaults?.setLatency(0);
    for (const e of electors.splice(0)) await e.stop();
    await c.close();
  });

  const elector = (kubeconfig: string, identity: string) => {
    const e = new LeaderElector(
      makeKubeApis(loadKubeConfig(kubeconfig)),
      { namespace: CHART_NAMESPACE, name: LEADER_LEASE, identity, ...FAST },
      log,
    );
    electors.push(e);
    return e;
  };
  const holder = async () =>
    (await c.kube.coordination.readNamespacedLease({ name: LEADER_LEASE, namespace: CHART_NAMESPACE })).spec
      ?.holderIdentity;

  it("a leader cut off from the API server stops leading before a standby takes over", async (t) => {
    if (c.backend !== "real") {
      t.skip("needs the fault proxy in front of only the first candidate (real control plane)");
      return;
    }
    // The first candidate goes through the fault proxy, the second straight to kube-apiserver.
    const first = elector(c.controllerKubeconfig, "first");
    const second = elector(c.kubeconfig, "second");
    let lostAt = 0;
    await first.run(() => {
      lostAt = Date.now();
    });
    let ledAt = 0;
    void second
      .run(() => {})
      .then(() => {
        ledAt = Date.now();
      });
    await new Promise((r) => setTimeout(r, 1500));
    assert.equal(await holder(), "first");
    assert.equal(ledAt, 0, "no second leader while the first renews");

    // Every request of the first now hangs for longer than its renew deadline.
    c.kubeFaults?.setLatency(30_000);
    await waitFor("the first gives up", () => lostAt > 0, 10_000);
    await waitFor("the second leads", () => ledAt > 0, 10_000);
    assert.ok(lostAt < ledAt, `the first stopped (${lostAt}) before the second started (${ledAt})`);
    assert.equal(first.leading, false);
    assert.equal(await holder(), "second");
  });

  it("stop() releases the lease: a standby takes over at once, not after the lease expires", async () => {
    const first = elector(c.kubeconfig, "first");
    const second = elector(c.kubeconfig, "second");
    await first.run(() => {});
    let ledAt = 0;
    void second
      .run(() => {})
      .then(() => {
        ledAt = Date.now();
      });
    const stoppedAt = Date.now();
    await first.stop();
    assert.notEqual(await holder(), "first", "the lease no longer names the stopped leader");
    await waitFor("the second leads", () => ledAt > 0, 10_000);
    assert.ok(
      ledAt - stoppedAt < FAST.leaseDurationSeconds * 1000,
      `took over ${ledAt - stoppedAt} ms after the stop, sooner than the lease would expire`,
    );
  });
});
