// The chart's command line against the controller's own CLI: every rendered flag exists with the
// right arity (`nlb-controller run --help`), and the values pass the controller's validation.
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { before, describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import type { V1Deployment } from "@kubernetes/client-node";
import { resolveConfig } from "../../../src/config.ts";
import { ensureHelm, HELM_SETUP_TIMEOUT_MS, renderChart } from "../../support/helm.ts";

const execFileAsync = promisify(execFile);
const CLI = fileURLToPath(new URL("../../../src/cli.ts", import.meta.url));

interface FlagSpec {
  takesValue: boolean;
}

/** Flags of `nlb-controller run`, read from its help text. */
async function runFlags(): Promise<Map<string, FlagSpec>> {
  const { stdout } = await execFileAsync(process.execPath, [CLI, "run", "--help"], { timeout: 30_000 });
  const flags = new Map<string, FlagSpec>();
  for (const match of stdout.matchAll(/^\s+(?:-\w, )?--([a-z0-9-]+)( <[^>]+>)?/gm)) {
    flags.set(match[1]!, { takesValue: match[2] !== undefined });
  }
  assert.ok(flags.has("cluster-name"), `unexpected help output:\n${stdout}`);
  return flags;
}

async function renderedArgs(values: Record<string, unknown>): Promise<string[]> {
  const manifests = await renderChart(values);
  const deployment = manifests.find((m) => m.kind === "Deployment") as unknown as V1Deployment;
  return deployment.spec?.template.spec?.containers[0]?.args ?? [];
}

/** The rendered flags as commander would hand them over: camelCase keys, string or true. */
function asRawOptions(args: string[]): Record<string, string | boolean> {
  const raw: Record<string, string | boolean> = {};
  for (const arg of args) {
    const [, name, value] = /^--([a-z0-9-]+)(?:=(.*))?$/s.exec(arg) ?? [];
    assert.ok(name, `not a flag: ${arg}`);
    raw[name.replace(/-([a-z0-9])/g, (_, c: string) => c.toUpperCase())] = value ?? true;
  }
  return raw;
}

const variants: Record<string, Record<string, unknown>> = {
  defaults: { clusterName: "prod-eu1" },
  "every value set": {
    clusterName: "prod_eu-1",
    awsRegion: "eu-west-1",
    awsEndpointUrl: "http://127.0.0.1:4566",
    vpcId: "vpc-0123456789abcdef0",
    loadBalancerClass: "example.com/nlb",
    defaultTargetType: "ip",
    defaultScheme: "internet-facing",
    defaultTags: { team: "platform", env: "prod" },
    concurrency: 64,
    targetBatchWindow: "1s",
    logLevel: "trace",
    metrics: { port: 9090 },
    healthProbe: { port: 9091 },
    leaderElection: { namespace: "controllers", id: "nlb-lease" },
  },
  "a single replica without leader election": {
    clusterName: "c",
    replicaCount: 1,
    leaderElection: { enabled: false },
  },
};

describe("chart args against the controller CLI", () => {
  let flags = new Map<string, FlagSpec>();
  before(
    async () => {
      await ensureHelm();
      flags = await runFlags();
    },
    { timeout: HELM_SETUP_TIMEOUT_MS },
  );

  for (const [name, values] of Object.entries(variants)) {
    it(`${name}: every flag exists, with a value exactly when it takes one`, async () => {
      const [command, ...args] = await renderedArgs(values);
      assert.equal(command, "run");
      for (const arg of args) {
        const [, flag, value] = /^--([a-z0-9-]+)(=.*)?$/s.exec(arg) ?? [];
        assert.ok(flag, `not a flag: ${arg}`);
        const spec = flags.get(flag);
        assert.ok(spec, `nlb-controller run has no --${flag}`);
        assert.equal(
          value !== undefined,
          spec.takesValue,
          `--${flag} ${spec.takesValue ? "needs" : "takes no"} value`,
        );
      }
    });

    it(`${name}: the controller accepts the values and reads them back`, async () => {
      const [, ...args] = await renderedArgs(values);
      const config = resolveConfig(asRawOptions(args), {});
      assert.equal(config.clusterName, values.clusterName);
      const leaderElection = values.leaderElection as { enabled?: boolean } | undefined;
      assert.equal(config.leaderElect, leaderElection?.enabled !== false);
      if (typeof values.concurrency === "number") assert.equal(config.concurrency, values.concurrency);
      if (values.defaultTags !== undefined) assert.deepEqual(config.defaultTags, values.defaultTags);
      if (typeof values.vpcId === "string") assert.equal(config.vpcId, values.vpcId);
    });
  }
});
