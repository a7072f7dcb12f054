import assert from "node:assert/strict";
import { createServer } from "node:net";
import { beforeEach, describe, it } from "node:test";
import { awsTestEnv } from "../../support/aws.ts";
import {
  nlbService,
  spawnController,
  type TestCluster,
  useTestCluster,
  waitFor,
} from "../../support/cluster.ts";

awsTestEnv();

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      const port = typeof address === "object" && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

describe("nlb-controller run", () => {
  const cluster = useTestCluster();
  let c: TestCluster;
  beforeEach(() => {
    c = cluster();
  });

  it("serves /healthz, /readyz and Prometheus metrics, and stops cleanly on SIGTERM", async () => {
    const [metricsPort, healthPort] = [await freePort(), await freePort()];
    await c.kube.core.createNamespacedService({ namespace: "default", body: nlbService("web") });
    const child = spawnController(c, {
      "metrics-bind-address": `127.0.0.1:${metricsPort}`,
      "health-probe-bind-address": `127.0.0.1:${healthPort}`,
    });
    const exited = new Promise<number | null>((resolve) => child.once("exit", resolve));
    try {
      await waitFor(
        "readyz 200",
        async () => (await fetch(`http://127.0.0.1:${healthPort}/readyz`)).status === 200,
      );
      assert.equal((await fetch(`http://127.0.0.1:${healthPort}/healthz`)).status, 200);
      await waitFor("NLB hostname", async () => {
        const svc = await c.kube.core.readNamespacedService({ name: "web", namespace: "default" });
        return svc.status?.loadBalancer?.ingress?.[0]?.hostname;
      });
      const metrics = await (await fetch(`http://127.0.0.1:${metricsPort}/metrics`)).text();
      assert.match(
        metrics,
        /nlb_controller_aws_api_calls_total\{service="elbv2",operation="CreateLoadBalancer",outcome="ok"\} 1/,
      );
      assert.match(metrics, /nlb_controller_reconcile_total\{loop="stack",result="ok"\} \d+/);
      assert.match(metrics, /process_resident_memory_bytes/);
    } finally {
      child.kill("SIGTERM");
    }
    assert.equal(await exited, 0);
  });
});
