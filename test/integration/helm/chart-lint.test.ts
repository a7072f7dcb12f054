// `helm lint --strict`: clean with the required value, and failing on the field without it.
import assert from "node:assert/strict";
import { cp, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { parse } from "yaml";
import { CHART_DIR, ensureHelm, HELM_SETUP_TIMEOUT_MS, helmLint, renderChart } from "../../support/helm.ts";

describe("helm lint", () => {
  before(
    async () => {
      await ensureHelm();
    },
    { timeout: HELM_SETUP_TIMEOUT_MS },
  );

  it("passes in strict mode with clusterName set", async () => {
    const result = await helmLint({ clusterName: "prod-eu1" });
    assert.equal(result.code, 0, result.stdout + result.stderr);
    assert.match(result.stdout, /1 chart\(s\) linted, 0 chart\(s\) failed/);
    assert.doesNotMatch(result.stdout, /\[(WARNING|ERROR)\]/);
  });

  it("passes with every optional feature switched on", async () => {
    const result = await helmLint({
      clusterName: "prod-eu1",
      awsRegion: "eu-west-1",
      vpcId: "vpc-0123456789abcdef0",
      defaultTags: { team: "platform" },
      serviceAccount: { annotations: { "eks.amazonaws.com/role-arn": "arn:aws:iam::111122223333:role/nlb" } },
      metrics: { service: { enabled: true }, serviceMonitor: { enabled: true } },
      extraArgs: ["--log-level=debug"],
      env: [{ name: "HTTPS_PROXY", value: "http://proxy:3128" }],
    });
    assert.equal(result.code, 0, result.stdout + result.stderr);
  });

  it("fails without clusterName and says so", async () => {
    const result = await helmLint({});
    assert.notEqual(result.code, 0);
    assert.match(result.stdout + result.stderr, /\[ERROR\].*at '\/clusterName'/s);
  });

  it("declares a v2 chart with appVersion 0.1.0", async () => {
    const chart = parse(await readFile(join(CHART_DIR, "Chart.yaml"), "utf8")) as Record<string, unknown>;
    assert.equal(chart.apiVersion, "v2");
    assert.equal(chart.name, "aws-nlb-controller");
    assert.equal(chart.appVersion, "0.1.0");
    assert.equal(chart.type, "application");
  });
});

// helm template skips NOTES.txt; render it through a copy of the chart that includes its text
// in a ConfigMap, so the notes are checked with the real template engine and values.
describe("NOTES.txt", () => {
  let copy = "";
  before(
    async () => {
      await ensureHelm();
      copy = await mkdtemp(join(tmpdir(), "nlb-chart-notes-"));
      await cp(CHART_DIR, copy, { recursive: true });
      const notes = await readFile(join(CHART_DIR, "templates", "NOTES.txt"), "utf8");
      await writeFile(
        join(copy, "templates", "_notes-under-test.tpl"),
        `{{- define "notes-under-test" -}}\n${notes}{{- end }}\n`,
      );
      await writeFile(
        join(copy, "templates", "notes-under-test.yaml"),
        'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: notes-under-test\ndata:\n  notes: {{ include "notes-under-test" . | quote }}\n',
      );
    },
    { timeout: HELM_SETUP_TIMEOUT_MS },
  );
  after(async () => {
    if (copy) await rm(copy, { recursive: true, force: true });
  });

  async function notesFor(values: Record<string, unknown>): Promise<string> {
    const manifests = await renderChart(values, { chartDir: copy });
    const configMap = manifests.find((m) => m.kind === "ConfigMap" && m.metadata.name === "notes-under-test");
    assert.ok(configMap, "notes were not rendered");
    return (configMap as unknown as { data: { notes: string } }).data.notes;
  }

  it("names the cluster, the class and the commands to check the rollout", async () => {
    const notes = await notesFor({ clusterName: "prod-eu1" });
    assert.match(notes, /elbv2\.k8s\.aws\/cluster tag\): prod-eu1/);
    assert.match(notes, /loadBalancerClass: service\.k8s\.aws\/nlb/);
    assert.match(notes, /kubectl -n kube-system rollout status deployment\/nlb-aws-nlb-controller/);
    assert.match(notes, /get lease aws-nlb-controller-leader/);
  });

  it("warns about missing AWS credentials only when IRSA is not configured", async () => {
    assert.match(await notesFor({ clusterName: "c1" }), /no eks\.amazonaws\.com\/role-arn annotation/);
    const withIrsa = await notesFor({
      clusterName: "c1",
      serviceAccount: { annotations: { "eks.amazonaws.com/role-arn": "arn:aws:iam::111122223333:role/nlb" } },
    });
    assert.doesNotMatch(withIrsa, /role-arn annotation/);
  });
});

// Values whose schema is a Kubernetes type (or a free map) are documented as one row.
const DOCUMENTED_AS_A_WHOLE = new Set(["resources", "affinity", "defaultTags"]);

interface SchemaNode {
  properties?: Record<string, SchemaNode>;
  additionalProperties?: unknown;
}

/** Dotted paths of the values the chart defines, down to the first non-chart-owned level. */
function valuePaths(schema: SchemaNode, prefix = ""): string[] {
  return Object.entries(schema.properties ?? {}).flatMap(([key, node]) => {
    const path = prefix + key;
    if (path === "global") return [];
    const owned = node.properties !== undefined && node.additionalProperties === false;
    return owned && !DOCUMENTED_AS_A_WHOLE.has(path) ? valuePaths(node, `${path}.`) : [path];
  });
}

describe("docs/install.md", () => {
  it("lists every chart value in its table, and nothing else", async () => {
    const schema = JSON.parse(await readFile(join(CHART_DIR, "values.schema.json"), "utf8")) as SchemaNode;
    const docs = await readFile(new URL("../../../docs/install.md", import.meta.url), "utf8");
    const table = docs.slice(docs.indexOf("## Chart values"));
    const documented = [...table.matchAll(/^\| `([A-Za-z.]+)` \|/gm)].map((m) => m[1]);
    assert.deepEqual(documented.sort(), valuePaths(schema).sort());
  });
});
