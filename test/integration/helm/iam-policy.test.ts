// iam/policy.json: valid, least privilege, and every write to ELB is fenced by the cluster tag.
import assert from "node:assert/strict";
import { readdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import { before, describe, it } from "node:test";
import { fileURLToPath } from "node:url";

const ROOT = fileURLToPath(new URL("../../../", import.meta.url));
const CLUSTER_TAG = "elbv2.k8s.aws/cluster";

type ConditionBlock = Record<string, Record<string, string | string[]>>;

interface Statement {
  Sid?: string;
  Effect: string;
  Action: string | string[];
  Resource: string | string[];
  Condition?: ConditionBlock;
  NotAction?: unknown;
  NotResource?: unknown;
  Principal?: unknown;
}

interface PolicyDocument {
  Version: string;
  Statement: Statement[];
}

const list = (value: string | string[]): string[] => (Array.isArray(value) ? value : [value]);
const isDescribe = (action: string) => /^[a-z0-9-]+:(Describe|List|Get)/.test(action);

/** True when the statement only applies to requests or resources carrying the cluster tag. */
function requiresClusterTag(statement: Statement): boolean {
  const nulls = statement.Condition?.Null ?? {};
  return [`aws:RequestTag/${CLUSTER_TAG}`, `aws:ResourceTag/${CLUSTER_TAG}`].some(
    (key) => nulls[key] === "false",
  );
}

async function readPolicy(file: string): Promise<PolicyDocument> {
  return JSON.parse(await readFile(join(ROOT, "iam", file), "utf8")) as PolicyDocument;
}

describe("iam/policy.json", () => {
  let policy: PolicyDocument;
  before(async () => {
    policy = await readPolicy("policy.json");
  });

  it("is a 2012-10-17 policy of Allow statements with unique Sids", () => {
    assert.equal(policy.Version, "2012-10-17");
    assert.ok(policy.Statement.length > 0);
    const sids = policy.Statement.map((s) => s.Sid);
    for (const statement of policy.Statement) {
      assert.equal(statement.Effect, "Allow");
      assert.match(statement.Sid ?? "", /^[A-Za-z0-9]+$/, "every statement has a Sid");
      assert.equal(statement.NotAction, undefined);
      assert.equal(statement.NotResource, undefined);
      assert.equal(statement.Principal, undefined);
    }
    assert.equal(new Set(sids).size, sids.length);
  });

  it("names every action in full: no wildcards", () => {
    for (const statement of policy.Statement) {
      for (const action of list(statement.Action)) assert.match(action, /^[a-z0-9-]+:[A-Za-z]+$/, action);
    }
  });

  it("conditions every elasticloadbalancing write on the cluster tag", () => {
    const writes = policy.Statement.filter((s) =>
      list(s.Action).some((a) => a.startsWith("elasticloadbalancing:") && !isDescribe(a)),
    );
    assert.ok(writes.length >= 3);
    for (const statement of writes) {
      assert.ok(requiresClusterTag(statement), `${statement.Sid} is not conditioned on ${CLUSTER_TAG}`);
      assert.ok(
        list(statement.Action).every((a) => a.startsWith("elasticloadbalancing:")),
        `${statement.Sid} mixes services`,
      );
    }
  });

  it("grants exactly the ELB actions an NLB controller needs", () => {
    const granted = new Set(
      policy.Statement.flatMap((s) => list(s.Action)).filter((a) => a.startsWith("elasticloadbalancing:")),
    );
    assert.deepEqual(
      [...granted].sort(),
      [
        "AddListenerCertificates",
        "AddTags",
        "CreateListener",
        "CreateLoadBalancer",
        "CreateTargetGroup",
        "DeleteListener",
        "DeleteLoadBalancer",
        "DeleteTargetGroup",
        "DeregisterTargets",
        "DescribeListenerAttributes",
        "DescribeListenerCertificates",
        "DescribeListeners",
        "DescribeLoadBalancerAttributes",
        "DescribeLoadBalancers",
        "DescribeSSLPolicies",
        "DescribeTags",
        "DescribeTargetGroupAttributes",
        "DescribeTargetGroups",
        "DescribeTargetHealth",
        "ModifyListener",
        "ModifyListenerAttributes",
        "ModifyLoadBalancerAttributes",
        "ModifyTargetGroup",
        "ModifyTargetGroupAttributes",
        "RegisterTargets",
        "RemoveListenerCertificates",
        "RemoveTags",
        "SetIpAddressType",
        "SetSecurityGroups",
        "SetSubnets",
      ].map((a) => `elasticloadbalancing:${a}`),
    );
  });

  it("lets the creates through only with the cluster tag in the request", () => {
    const creates = policy.Statement.filter((s) =>
      list(s.Action).some((a) => /^elasticloadbalancing:Create/.test(a)),
    );
    for (const statement of creates) {
      assert.equal(statement.Condition?.Null?.[`aws:RequestTag/${CLUSTER_TAG}`], "false", statement.Sid);
    }
    assert.deepEqual(creates.flatMap((s) => list(s.Action)).sort(), [
      "elasticloadbalancing:CreateListener",
      "elasticloadbalancing:CreateLoadBalancer",
      "elasticloadbalancing:CreateTargetGroup",
    ]);
  });

  it("allows AddTags only while creating, or on owned resources without touching the cluster tag", () => {
    const tagging = policy.Statement.filter((s) => list(s.Action).includes("elasticloadbalancing:AddTags"));
    assert.equal(tagging.length, 2);
    for (const statement of tagging) {
      const onCreate = statement.Condition?.StringEquals?.["elasticloadbalancing:CreateAction"];
      if (onCreate !== undefined) {
        assert.deepEqual(list(onCreate).sort(), [
          "CreateListener",
          "CreateLoadBalancer",
          "CreateTargetGroup",
        ]);
        assert.equal(statement.Condition?.Null?.[`aws:RequestTag/${CLUSTER_TAG}`], "false");
      } else {
        assert.equal(statement.Condition?.Null?.[`aws:ResourceTag/${CLUSTER_TAG}`], "false");
        assert.deepEqual(statement.Condition?.["ForAllValues:StringNotEquals"]?.["aws:TagKeys"], [
          CLUSTER_TAG,
        ]);
      }
      for (const resource of list(statement.Resource)) {
        assert.match(
          resource,
          /^arn:aws:elasticloadbalancing:\*:\*:(loadbalancer\/net|listener\/net|targetgroup)\//,
        );
      }
    }
  });

  it("conditions every EC2 write on the cluster tag, except ingress rules on backend groups", () => {
    const ec2Writes = policy.Statement.filter((s) =>
      list(s.Action).some((a) => a.startsWith("ec2:") && !isDescribe(a)),
    );
    const unconditioned = ec2Writes.filter((s) => !requiresClusterTag(s));
    assert.deepEqual(
      unconditioned.map((s) => [s.Sid, list(s.Action).sort(), s.Resource]),
      [
        ["CreateSecurityGroupInVpc", ["ec2:CreateSecurityGroup"], "arn:aws:ec2:*:*:vpc/*"],
        [
          "ManageBackendSecurityGroupRules",
          ["ec2:AuthorizeSecurityGroupIngress", "ec2:RevokeSecurityGroupIngress"],
          "arn:aws:ec2:*:*:security-group/*",
        ],
      ],
    );
    const deletes = ec2Writes.filter((s) => list(s.Action).includes("ec2:DeleteSecurityGroup"));
    assert.ok(deletes.length > 0 && deletes.every(requiresClusterTag));
    const tagOnCreate = policy.Statement.find(
      (s) => s.Condition?.StringEquals?.["ec2:CreateAction"] !== undefined,
    );
    assert.equal(tagOnCreate?.Condition?.StringEquals?.["ec2:CreateAction"], "CreateSecurityGroup");
  });

  it("reads EC2, ELB and ACM, and creates only the ELB service-linked role", () => {
    const actions = policy.Statement.flatMap((s) => list(s.Action));
    for (const action of [
      "ec2:DescribeAccountAttributes",
      "ec2:DescribeAddresses",
      "ec2:DescribeAvailabilityZones",
      "ec2:DescribeInstances",
      "ec2:DescribeInternetGateways",
      "ec2:DescribeNetworkInterfaces",
      "ec2:DescribeSecurityGroups",
      "ec2:DescribeSubnets",
      "ec2:DescribeVpcs",
      "acm:ListCertificates",
      "acm:DescribeCertificate",
    ]) {
      assert.ok(actions.includes(action), `${action} missing`);
    }
    const services = new Set(actions.map((a) => a.split(":")[0]));
    assert.deepEqual([...services].sort(), ["acm", "ec2", "elasticloadbalancing", "iam"]);
    const iam = policy.Statement.filter((s) => list(s.Action).some((a) => a.startsWith("iam:")));
    assert.equal(iam.length, 1);
    assert.deepEqual(list(iam[0]!.Action), ["iam:CreateServiceLinkedRole"]);
    assert.equal(
      iam[0]!.Condition?.StringEquals?.["iam:AWSServiceName"],
      "elasticloadbalancing.amazonaws.com",
    );
  });

  it("allows every ELB and EC2 API the controller's AWS adapter sends", async (t) => {
    const commands = await sdkCommandsUnder(join(ROOT, "src", "aws"));
    if (commands.length === 0) {
      t.skip("no AWS SDK commands imported under src/aws yet");
      return;
    }
    const granted = new Set(policy.Statement.flatMap((s) => list(s.Action)));
    const missing = commands.filter((c) => !granted.has(c));
    assert.deepEqual(
      missing,
      [],
      `src/aws sends calls iam/policy.json does not allow: ${missing.join(", ")}`,
    );
  });
});

const SDK_SERVICES: Record<string, string> = {
  "@aws-sdk/client-elastic-load-balancing-v2": "elasticloadbalancing",
  "@aws-sdk/client-ec2": "ec2",
  "@aws-sdk/client-acm": "acm",
};

/** IAM actions for the `XxxCommand`s imported from the AWS SDK by the .ts files under `dir`. */
async function sdkCommandsUnder(dir: string): Promise<string[]> {
  let files: string[];
  try {
    files = (await readdir(dir, { recursive: true })).filter((f) => f.endsWith(".ts"));
  } catch {
    return [];
  }
  const actions = new Set<string>();
  const importPattern = /import\s*\{([^}]*)\}\s*from\s*"(@aws-sdk\/[^"]+)"/g;
  for (const file of files) {
    const source = await readFile(join(dir, file), "utf8");
    for (const [, names, module] of source.matchAll(importPattern)) {
      const service = SDK_SERVICES[module ?? ""];
      if (service === undefined) continue;
      for (const raw of (names ?? "").split(",")) {
        const name = raw
          .trim()
          .replace(/^type\s+/, "")
          .split(/\s+as\s+/)[0];
        const command = /^([A-Z][A-Za-z0-9]*)Command$/.exec(name ?? "");
        if (command) actions.add(`${service}:${command[1]}`);
      }
    }
  }
  return [...actions].sort();
}

/** What `envsubst` does to the placeholders the docs tell the user to fill in. */
function substitute(text: string, variables: Record<string, string>): string {
  return text.replace(/\$\{(\w+)\}/g, (_, name: string) => {
    const value = variables[name];
    assert.ok(value !== undefined, `unknown placeholder ${name}`);
    return value;
  });
}

describe("iam trust policies", () => {
  const variables = {
    ACCOUNT_ID: "111122223333",
    OIDC_PROVIDER: "oidc.eks.eu-west-1.amazonaws.com/id/EXAMPLED539D4633E53DE1B71EXAMPLE",
    NAMESPACE: "kube-system",
    SERVICE_ACCOUNT: "aws-nlb-controller",
  };
  const readTrust = async (file: string) =>
    JSON.parse(substitute(await readFile(join(ROOT, "iam", file), "utf8"), variables)) as PolicyDocument;

  it("IRSA trusts only the controller's ServiceAccount through the cluster's OIDC provider", async () => {
    const trust = await readTrust("trust-policy-irsa.json");
    assert.equal(trust.Version, "2012-10-17");
    const [statement] = trust.Statement;
    assert.deepEqual(statement!.Principal, {
      Federated: `arn:aws:iam::111122223333:oidc-provider/${variables.OIDC_PROVIDER}`,
    });
    assert.deepEqual(list(statement!.Action), ["sts:AssumeRoleWithWebIdentity"]);
    assert.deepEqual(statement!.Condition?.StringEquals, {
      [`${variables.OIDC_PROVIDER}:aud`]: "sts.amazonaws.com",
      [`${variables.OIDC_PROVIDER}:sub`]: "system:serviceaccount:kube-system:aws-nlb-controller",
    });
  });

  it("Pod Identity trusts the EKS pods service from this account, with the session tags it needs", async () => {
    const trust = await readTrust("trust-policy-pod-identity.json");
    assert.equal(trust.Version, "2012-10-17");
    const [statement] = trust.Statement;
    assert.deepEqual(statement!.Principal, { Service: "pods.eks.amazonaws.com" });
    assert.deepEqual(list(statement!.Action).sort(), ["sts:AssumeRole", "sts:TagSession"]);
    assert.deepEqual(statement!.Condition?.StringEquals, { "aws:SourceAccount": "111122223333" });
  });
});
