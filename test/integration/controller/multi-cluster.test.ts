import assert from "node:assert/strict";
import type { ChildProcess } from "node:child_process";
import { afterEach, beforeEach, describe, it } from "node:test";
import {
  DescribeTargetGroupsCommand,
  DescribeTargetHealthCommand,
  RegisterTargetsCommand,
} from "@aws-sdk/client-elastic-load-balancing-v2";
import type { V1ConfigMap } from "@kubernetes/client-node";
import { jsonPatch, statusCodeOf } from "../../../src/kube/client.ts";
import { awsTestEnv } from "../../support/aws.ts";
import {
  annotate,
  nlbService,
  ownedByCluster,
  setEndpoints,
  settle,
  spawnController,
  startTestCluster,
  type TestCluster,
  waitFor,
} from "../../support/cluster.ts";

awsTestEnv();
const NS = "default";
const MULTI_CLUSTER = "service.beta.kubernetes.io/aws-load-balancer-multi-cluster-target-group";
const RECORD = "aws-nlb-targets-api";
/** A pod of another cluster in the same VPC, registered into our target group behind our back. */
const FOREIGN = "10.0.17.9:8080";

describe("multi-cluster-target-group: targets of other clusters are never deregistered", () => {
  let c: TestCluster;
  let children: ChildProcess[] = [];
  beforeEach(async () => {
    // The record lives in a ConfigMap: the chart grants that access only with this value.
    c = await startTestCluster({ chartValues: { rbac: { multiClusterTargetGroups: true } } });
  });
  afterEach(async () => {
    for (const child of children) child.kill("SIGKILL");
    children = [];
    await c.close();
  });

  function runController(): ChildProcess {
    const child = spawnController(c, { "target-batch-window": "50ms" });
    children.push(child);
    return child;
  }

  async function kill(child: ChildProcess, signal: NodeJS.Signals): Promise<void> {
    const exited = new Promise((r) => child.once("exit", r));
    child.kill(signal);
    await exited;
  }

  const targetsOf = async (arn: string) =>
    (
      (await c.elbv2.send(new DescribeTargetHealthCommand({ TargetGroupArn: arn })))
        .TargetHealthDescriptions ?? []
    )
      .filter((h) => h.TargetHealth?.State !== "draining")
      .map((h) => `${h.Target?.Id}:${h.Target?.Port}`)
      .sort();

  const recordOf = async (): Promise<V1ConfigMap | undefined> => {
    try {
      return await c.kube.core.readNamespacedConfigMap({ name: RECORD, namespace: NS });
    } catch (err) {
      if (statusCodeOf(err) === 404) return undefined;
      throw err;
    }
  };

  const recordedTargets = async () => Object.values((await recordOf())?.data ?? {}).join(",");

  async function sharedService(): Promise<string> {
    await c.kube.core.createNamespacedService({
      namespace: NS,
      body: nlbService("api", {
        annotations: {
          "service.beta.kubernetes.io/aws-load-balancer-nlb-target-type": "ip",
          [MULTI_CLUSTER]: "true",
        },
      }),
    });
    await setEndpoints(c, NS, "api", ["10.0.0.1", "10.0.0.2"]);
    return "api";
  }

  it("deregisters only its own stale targets, across a crash and a restart; turned off, it owns the group again", async () => {
    await sharedService();
    const first = runController();
    const tg = await waitFor(
      "target group",
      async () => (await ownedByCluster(c.elbv2, c.clusterName)).targetGroups[0],
    );
    await waitFor(
      "our two targets",
      async () => (await targetsOf(tg.arn)).join() === "10.0.0.1:8080,10.0.0.2:8080",
    );

    // The record: owned by the Service, keyed by target group, listing what we registered.
    const svc = await c.kube.core.readNamespacedService({ name: "api", namespace: NS });
    const record = await waitFor("the record", recordOf);
    assert.deepEqual(
      record.metadata?.ownerReferences?.map((r) => [r.kind, r.name, r.uid]),
      [["Service", "api", svc.metadata?.uid]],
    );
    assert.equal(record.metadata?.labels?.["app.kubernetes.io/managed-by"], "aws-nlb-controller");
    assert.equal(await recordedTargets(), "10.0.0.1:8080,10.0.0.2:8080");

    // Another cluster registers its own pod into the shared target group.
    const [foreignIp, foreignPort] = FOREIGN.split(":");
    await c.elbv2.send(
      new RegisterTargetsCommand({
        TargetGroupArn: tg.arn,
        Targets: [{ Id: foreignIp, Port: Number(foreignPort) }],
      }),
    );

    // A restarted controller reads the group afresh, foreign target included. A rollout then: our
    // stale 10.0.0.1 goes, the foreign target stays.
    await kill(first, "SIGTERM");
    c.proxy.resetCalls();
    const second = runController();
    await waitFor("the restarted controller to read the group", () =>
      c.proxy.calls.some((x) => x.operation === "DescribeTargetHealth"),
    );
    await setEndpoints(c, NS, "api", ["10.0.0.2", "10.0.0.3"]);
    await waitFor(
      "our stale target deregistered",
      async () =>
        (await targetsOf(tg.arn)).join() === ["10.0.0.2:8080", "10.0.0.3:8080", FOREIGN].sort().join(),
    );
    await waitFor(
      "the record follows",
      async () => (await recordedTargets()) === "10.0.0.2:8080,10.0.0.3:8080",
    );

    // Killed; endpoints change while no controller runs; a new process must still tell ours from theirs.
    await kill(second, "SIGKILL");
    await setEndpoints(c, NS, "api", ["10.0.0.3", "10.0.0.4"]);
    const third = runController();
    await waitFor(
      "converged after the restart",
      async () =>
        (await targetsOf(tg.arn)).join() === ["10.0.0.3:8080", "10.0.0.4:8080", FOREIGN].sort().join(),
    );
    await new Promise((r) => setTimeout(r, 1000));
    assert.ok((await targetsOf(tg.arn)).includes(FOREIGN), "the foreign target is still registered");
    assert.equal(await recordedTargets(), "10.0.0.3:8080,10.0.0.4:8080");

    // Turned off: the Service owns its target groups alone again, and the record goes.
    await annotate(c, "api", { [MULTI_CLUSTER]: "false" });
    await waitFor(
      "the foreign target deregistered",
      async () => (await targetsOf(tg.arn)).join() === "10.0.0.3:8080,10.0.0.4:8080",
    );
    await waitFor("the record deleted", async () => (await recordOf()) === undefined);
    await kill(third, "SIGTERM");
  });

  it("deleting the Service deletes its record and, as LBC does, its target group with foreign targets in it", async () => {
    await sharedService();
    const m = await c.startController({ targetBatchWindow: "50ms" });
    const tg = await waitFor(
      "target group",
      async () => (await ownedByCluster(c.elbv2, c.clusterName)).targetGroups[0],
    );
    await waitFor("our targets", async () => (await targetsOf(tg.arn)).length === 2);
    await waitFor("the record", recordOf);
    const [foreignIp, foreignPort] = FOREIGN.split(":");
    await c.elbv2.send(
      new RegisterTargetsCommand({
        TargetGroupArn: tg.arn,
        Targets: [{ Id: foreignIp, Port: Number(foreignPort) }],
      }),
    );
    await settle(m);

    await c.kube.core.deleteNamespacedService({ name: "api", namespace: NS });
    await waitFor("the Service gone", async () => {
      try {
        await c.kube.core.readNamespacedService({ name: "api", namespace: NS });
        return false;
      } catch (err) {
        return statusCodeOf(err) === 404;
      }
    });
    assert.equal(await recordOf(), undefined, "the record is deleted with the stack");
    const left = (await c.elbv2.send(new DescribeTargetGroupsCommand({}))).TargetGroups ?? [];
    assert.deepEqual(
      left.map((t) => t.TargetGroupArn),
      [],
    );
  });

  it("a record never outlives its Service: with the controller gone, the garbage collector deletes it", async () => {
    await sharedService();
    const m = await c.startController({ targetBatchWindow: "50ms" });
    await waitFor("the record", recordOf);
    await m.stop();
    // As if the controller were uninstalled: the finalizer stripped by hand, the Service deleted.
    await c.kube.core.patchNamespacedService(
      { name: "api", namespace: NS, body: [{ op: "replace", path: "/metadata/finalizers", value: [] }] },
      jsonPatch,
    );
    await c.kube.core.deleteNamespacedService({ name: "api", namespace: NS });
    await waitFor("the record garbage-collected", async () => (await recordOf()) === undefined, 60_000);
  });
});
