import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { join } from "node:path";
import { beforeEach, describe, it } from "node:test";
import { awsTestEnv } from "../../support/aws.ts";
import {
  annotate,
  nlbService,
  settle,
  type TestCluster,
  useTestCluster,
  waitFor,
} from "../../support/cluster.ts";

awsTestEnv();
const NS = "default";
const CLI = join(import.meta.dirname, "../../../src/cli.ts");

describe("nlb-controller plan --diff against the live stack", () => {
  const cluster = useTestCluster();
  let c: TestCluster;
  beforeEach(() => {
    c = cluster();
  });

  // Asynchronous on purpose: the API emulator runs in this process and must keep serving the child.
  const diff = () =>
    new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => {
      execFile(
        process.execPath,
        [CLI, "plan", "--diff", "default/web", "--cluster-name", c.clusterName, "--kubeconfig", c.kubeconfig],
        { encoding: "utf8", env: process.env, timeout: 60_000 },
        (err, stdout, stderr) =>
          resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr }),
      );
    });

  it("shows no changes for a converged stack, then the in-place and replacing changes of an edit", async () => {
    await c.kube.core.createNamespacedService({ namespace: NS, body: nlbService("web") });
    const m = await c.startController();
    await waitFor("hostname", async () => {
      const svc = await c.kube.core.readNamespacedService({ name: "web", namespace: NS });
      return svc.status?.loadBalancer?.ingress?.[0]?.hostname;
    });
    await settle(m);
    await m.stop();

    let r = await diff();
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /no changes/);

    // Source ranges change the managed security group's listener rules, nothing else.
    await annotate(c, "web", { "service.beta.kubernetes.io/load-balancer-source-ranges": "10.0.0.0/8" });
    r = await diff();
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^\+ allow tcp:80 from 10\.0\.0\.0\/8 on sg-[0-9a-f]+$/m);
    assert.match(r.stdout, /^- revoke rule sgr-[0-9a-f]+ on sg-[0-9a-f]+$/m);
    await annotate(c, "web", {
      "service.beta.kubernetes.io/load-balancer-source-ranges": null as unknown as string,
    });

    await annotate(c, "web", {
      "service.beta.kubernetes.io/aws-load-balancer-healthcheck-interval": "30",
      "service.beta.kubernetes.io/aws-load-balancer-scheme": "internet-facing",
    });
    r = await diff();
    assert.equal(r.code, 0, r.stderr);
    assert.match(
      r.stdout,
      /^REPLACE load balancer \S+ must be replaced: scheme changes from internal to internet-facing/m,
    );
    assert.match(r.stdout, /~ modify health check of default\/web:80/);
    assert.match(r.stdout, /- delete load balancer/);
    assert.match(r.stdout, /\+ create load balancer \S+ \(internet-facing\)/);
  });
});
