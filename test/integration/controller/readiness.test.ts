import assert from "node:assert/strict";
import { beforeEach, describe, it } from "node:test";
import { DescribeTargetHealthCommand } from "@aws-sdk/client-elastic-load-balancing-v2";
import { mergePatch } from "../../../src/kube/client.ts";
import { awsTestEnv } from "../../support/aws.ts";
import {
  nlbService,
  ownedByCluster,
  type TestCluster,
  useTestCluster,
  waitFor,
} from "../../support/cluster.ts";

awsTestEnv();
const NS = "default";

describe("pod readiness gates", () => {
  const cluster = useTestCluster();
  let c: TestCluster;
  beforeEach(() => {
    c = cluster();
  });

  /** A pod as kubelet would report it: containers ready, but not Ready while our gate is False. */
  async function gatedPod(name: string, ip: string, gate: string, containersReady: "True" | "False") {
    await c.kube.core.createNamespacedPod({
      namespace: NS,
      body: {
        metadata: { name, labels: { app: "api" } },
        spec: { containers: [{ name: "app", image: "example" }], readinessGates: [{ conditionType: gate }] },
      },
    });
    await c.kube.core.patchNamespacedPodStatus(
      {
        name,
        namespace: NS,
        body: {
          status: {
            podIP: ip,
            conditions: [
              { type: "ContainersReady", status: containersReady },
              { type: "Ready", status: "False" },
            ],
          },
        },
      },
      mergePatch,
    );
  }

  it("registers a pod that waits only on its gate, then sets the gate True once the target is healthy", async () => {
    await c.kube.core.createNamespacedService({
      namespace: NS,
      body: nlbService("api", {
        annotations: { "service.beta.kubernetes.io/aws-load-balancer-nlb-target-type": "ip" },
      }),
    });
    await c.startController();
    const tg = await waitFor(
      "target group",
      async () => (await ownedByCluster(c.elbv2, c.clusterName)).targetGroups[0],
    );
    const gate = `target-health.elbv2.k8s.aws/${tg.name}`;
    await gatedPod("api-ready", "10.0.0.31", gate, "True");
    await gatedPod("api-starting", "10.0.0.32", gate, "False");
    await c.kube.discovery.createNamespacedEndpointSlice({
      namespace: NS,
      body: {
        metadata: { name: "api-gated", labels: { "kubernetes.io/service-name": "api" } },
        addressType: "IPv4",
        endpoints: [
          {
            addresses: ["10.0.0.31"],
            conditions: { ready: false },
            targetRef: { kind: "Pod", name: "api-ready", namespace: NS },
          },
          {
            addresses: ["10.0.0.32"],
            conditions: { ready: false },
            targetRef: { kind: "Pod", name: "api-starting", namespace: NS },
          },
        ],
        ports: [{ name: "http", port: 8080, protocol: "TCP" }],
      },
    });

    const condition = await waitFor(
      "gate condition True",
      async () => {
        const pod = await c.kube.core.readNamespacedPodStatus({ name: "api-ready", namespace: NS });
        return pod.status?.conditions?.find((x) => x.type === gate && x.status === "True");
      },
      30_000,
    );
    assert.equal(condition.reason, "Target.Healthy");
    const health =
      (await c.elbv2.send(new DescribeTargetHealthCommand({ TargetGroupArn: tg.arn })))
        .TargetHealthDescriptions ?? [];
    assert.deepEqual(
      health.map((h) => h.Target?.Id),
      ["10.0.0.31"],
      "only the pod whose containers are ready is registered",
    );
    const starting = await c.kube.core.readNamespacedPodStatus({ name: "api-starting", namespace: NS });
    assert.ok(!starting.status?.conditions?.some((x) => x.type === gate && x.status === "True"));

    // Its containers become ready: it is registered and its gate follows.
    await c.kube.core.patchNamespacedPodStatus(
      {
        name: "api-starting",
        namespace: NS,
        body: {
          status: {
            conditions: [
              { type: "ContainersReady", status: "True" },
              { type: "Ready", status: "False" },
            ],
          },
        },
      },
      mergePatch,
    );
    await waitFor("second gate True", async () => {
      const pod = await c.kube.core.readNamespacedPodStatus({ name: "api-starting", namespace: NS });
      return pod.status?.conditions?.some((x) => x.type === gate && x.status === "True");
    });
    const calls = c.proxy.calls.filter((x) => x.operation === "DescribeTargetHealth").length;
    await new Promise((r) => setTimeout(r, 3000));
    assert.equal(
      c.proxy.calls.filter((x) => x.operation === "DescribeTargetHealth").length,
      calls,
      "no polling once every gated pod is healthy",
    );
  });
});
