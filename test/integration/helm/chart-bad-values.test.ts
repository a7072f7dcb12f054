// Every bad value stops `helm template` with an error that names the field, and renders nothing.
import assert from "node:assert/strict";
import { before, describe, it } from "node:test";
import { ensureHelm, HELM_SETUP_TIMEOUT_MS, helmTemplate } from "../../support/helm.ts";

interface BadCase {
  name: string;
  values: Record<string, unknown>;
  /** A fragment helm's schema error must contain: the field's path, and the value or the rule. */
  expect: RegExp[];
}

const badCases: BadCase[] = [
  { name: "missing clusterName", values: {}, expect: [/at '\/clusterName'/, /minLength|does not match/] },
  {
    name: "clusterName with a character AWS tags would mangle",
    values: { clusterName: "prod cluster" },
    expect: [/at '\/clusterName'/, /does not match pattern/],
  },
  {
    name: "replicaCount of the wrong type",
    values: { clusterName: "c1", replicaCount: "two" },
    expect: [/at '\/replicaCount'/, /got string, want integer/],
  },
  {
    name: "replicaCount of zero",
    values: { clusterName: "c1", replicaCount: 0 },
    expect: [/at '\/replicaCount'/, /minimum/],
  },
  {
    name: "unknown top-level key",
    values: { clusterName: "c1", clustername: "c1" },
    expect: [/'clustername' not allowed/],
  },
  {
    name: "unknown nested key",
    values: { clusterName: "c1", serviceAccount: { roleArn: "arn:aws:iam::1:role/x" } },
    expect: [/at '\/serviceAccount'/, /'roleArn' not allowed/],
  },
  {
    name: "bad enum for defaultTargetType",
    values: { clusterName: "c1", defaultTargetType: "pod" },
    expect: [/at '\/defaultTargetType'/, /'instance', 'ip'/],
  },
  {
    name: "bad enum for defaultScheme",
    values: { clusterName: "c1", defaultScheme: "public" },
    expect: [/at '\/defaultScheme'/, /'internal', 'internet-facing'/],
  },
  {
    name: "bad logLevel",
    values: { clusterName: "c1", logLevel: "verbose" },
    expect: [/at '\/logLevel'/, /'trace', 'debug', 'info', 'warn', 'error'/],
  },
  {
    name: "several replicas without leader election",
    values: { clusterName: "c1", replicaCount: 3, leaderElection: { enabled: false } },
    expect: [/at '\/leaderElection\/enabled'/, /must be true/],
  },
  {
    name: "a reserved ownership tag in defaultTags",
    values: { clusterName: "c1", defaultTags: { "elbv2.k8s.aws/cluster": "other" } },
    expect: [/at '\/defaultTags\/elbv2\.k8s\.aws~1cluster'/],
  },
  {
    name: "a defaultTags key that would break k=v,k=v",
    values: { clusterName: "c1", defaultTags: { "a=b": "c" } },
    expect: [/at '\/defaultTags'/, /'a=b' not allowed/],
  },
  {
    name: "an extraArgs entry that is not a flag",
    values: { clusterName: "c1", extraArgs: ["verbose"] },
    expect: [/at '\/extraArgs\/0'/, /does not match pattern/],
  },
  {
    name: "targetBatchWindow without a unit",
    values: { clusterName: "c1", targetBatchWindow: "250" },
    expect: [/at '\/targetBatchWindow'/],
  },
  {
    name: "a loadBalancerClass without a domain prefix",
    values: { clusterName: "c1", loadBalancerClass: "nlb" },
    expect: [/at '\/loadBalancerClass'/, /does not match pattern/],
  },
  {
    name: "a metrics port out of range",
    values: { clusterName: "c1", metrics: { port: 70000 } },
    expect: [/at '\/metrics\/port'/, /maximum/],
  },
  {
    name: "a malformed vpcId",
    values: { clusterName: "c1", vpcId: "vpc-XYZ" },
    expect: [/at '\/vpcId'/],
  },
  {
    name: "an image pull policy Kubernetes does not know",
    values: { clusterName: "c1", image: { pullPolicy: "Sometimes" } },
    expect: [/at '\/image\/pullPolicy'/],
  },
  {
    name: "an env entry without a name",
    values: { clusterName: "c1", env: [{ value: "x" }] },
    expect: [/at '\/env\/0'/, /missing propert.*'name'/],
  },
  {
    name: "a ServiceMonitor key that does not exist",
    values: { clusterName: "c1", metrics: { serviceMonitor: { enable: true } } },
    expect: [/at '\/metrics\/serviceMonitor'/, /'enable' not allowed/],
  },
];

describe("bad chart values", () => {
  before(
    async () => {
      await ensureHelm();
    },
    { timeout: HELM_SETUP_TIMEOUT_MS },
  );

  for (const bad of badCases) {
    it(`rejects ${bad.name}`, async () => {
      const result = await helmTemplate(bad.values);
      assert.notEqual(result.code, 0, `helm template accepted ${JSON.stringify(bad.values)}`);
      assert.equal(result.stdout.trim(), "", "nothing may be rendered");
      assert.match(result.stderr, /values don't meet the specifications of the schema/);
      for (const pattern of bad.expect) assert.match(result.stderr, pattern);
    });
  }

  it("accepts the same keys with good values (the cases above fail for their bad value alone)", async () => {
    const result = await helmTemplate({
      clusterName: "c1",
      replicaCount: 3,
      defaultTargetType: "ip",
      defaultScheme: "internet-facing",
      logLevel: "warn",
      leaderElection: { enabled: true },
      defaultTags: { team: "a" },
      extraArgs: ["--verbose"],
      targetBatchWindow: "250ms",
      metrics: { port: 9000, serviceMonitor: { enabled: false } },
      vpcId: "vpc-0abc1234",
      image: { pullPolicy: "Always" },
      env: [{ name: "X", value: "x" }],
    });
    assert.equal(result.code, 0, result.stderr);
  });
});
