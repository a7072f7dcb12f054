import assert from "node:assert/strict";
import { type ChildProcessWithoutNullStreams, spawn } from "node:child_process";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { after, describe, it } from "node:test";
import { loadKubeConfig, makeKubeApis } from "../../../src/kube/client.ts";

const CLI = join(import.meta.dirname, "../../../src/cli.ts");
const dir = mkdtempSync(join(tmpdir(), "nlb-sandbox-test-"));
after(() => rmSync(dir, { recursive: true, force: true }));

interface Running {
  child: ChildProcessWithoutNullStreams;
  output: () => string;
  waitFor: (text: string, timeoutMs: number) => Promise<void>;
  exit: Promise<number | null>;
}

function start(args: string[], env: NodeJS.ProcessEnv = process.env): Running {
  const child = spawn(process.execPath, [CLI, "sandbox", ...args], { env });
  let out = "";
  child.stdout.on("data", (d: Buffer) => {
    out += d.toString();
  });
  child.stderr.on("data", (d: Buffer) => {
    out += d.toString();
  });
  const exit = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
  const waitFor = async (text: string, timeoutMs: number) => {
    const deadline = Date.now() + timeoutMs;
    while (!out.includes(text)) {
      if (child.exitCode !== null)
        throw new Error(`sandbox exited (${child.exitCode}) before "${text}":\n${out}`);
      if (Date.now() > deadline) throw new Error(`timed out waiting for "${text}":\n${out}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  };
  return { child, output: () => out, waitFor, exit };
}

describe("nlb-controller sandbox", () => {
  it("--no-controller --no-demo serves the API, writes a kubeconfig and stops cleanly on SIGTERM", async () => {
    const kubeconfig = join(dir, "standalone.kubeconfig");
    const run = start([
      "--no-controller",
      "--no-demo",
      "--listen",
      "127.0.0.1:0",
      "--kubeconfig-out",
      kubeconfig,
    ]);
    try {
      await run.waitFor("Ctrl-C", 20_000);
      assert.match(run.output(), /Kubernetes API: http:\/\/127\.0\.0\.1:\d+/);
      assert.ok(existsSync(kubeconfig));
      const kube = makeKubeApis(loadKubeConfig(kubeconfig));
      const ns = await kube.core.listNamespace();
      assert.ok(ns.items.some((n) => n.metadata?.name === "default"));
    } finally {
      run.child.kill("SIGTERM");
    }
    assert.equal(await run.exit, 0);
  });

  it("runs the demo: two Services get NLBs, targets follow an endpoint change, Ctrl-C stops everything", async () => {
    const run = start([]);
    let motoUrl: string | undefined;
    try {
      await run.waitFor("watching for changes", 120_000);
      const out = run.output();
      motoUrl = /AWS \(moto\):\s+(\S+)/.exec(out)?.[1];
      assert.match(out, /SERVICE demo\/web/);
      assert.match(out, /SERVICE demo\/api/);
      assert.match(out, /NLB\s+k8s-demo-web-\S+\s+\(internal/);
      assert.match(out, /SECURITY\s+sg-[0-9a-f]+/, "each NLB gets its managed security group");
      assert.match(out, /health HTTP:\d+\/healthz/, "the Local instance Service gets the HTTP health check");
      assert.match(out, /ip TCP:9000/);
      const after = out.slice(out.indexOf("after the endpoint change"));
      assert.match(after, /10\.0\.32\.23:9000/, "the new endpoint is registered");
      assert.doesNotMatch(
        after.slice(after.indexOf("SERVICE demo/api")),
        /10\.0\.0\.21:9000/,
        "the old one is gone",
      );
    } finally {
      run.child.kill("SIGINT");
    }
    assert.equal(await run.exit, 0);
    assert.ok(motoUrl, "the sandbox printed moto's URL");
    await assert.rejects(fetch(`${motoUrl}/moto-api/`), "moto was stopped with the sandbox");
  });

  it("says in one line how to install moto when moto_server is missing, exit code 2", async () => {
    const run = start([], { ...process.env, PATH: dirname(process.execPath) });
    const code = await run.exit;
    assert.equal(code, 2, run.output());
    const lines = run.output().trim().split("\n");
    const last = lines.at(-1) ?? "";
    assert.match(last, /moto_server not found on PATH: install it with pip install 'moto\[server\]'/);
  });
});
