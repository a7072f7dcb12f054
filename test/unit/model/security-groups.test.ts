import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
  cidrBlocks,
  normalCidr,
  prefixListIds,
  securityGroupRefs,
} from "../../../src/model/annotation-values.ts";
import { build } from "../../../src/model/build.ts";
import {
  backendPortsOf,
  MANAGED_SECURITY_GROUP_DESCRIPTION,
  podInstances,
  type SecurityGroupInput,
  securityGroupsOf,
  targetSecurityGroup,
} from "../../../src/model/security-groups.ts";
import type {
  BuildConfig,
  EndpointSlice,
  IngressRule,
  InputProblem,
  Node,
  SecurityGroupsSpec,
  Service,
  TargetGroupSpec,
  TargetSecurityGroup,
} from "../../../src/model/types.ts";
import { targetGroup } from "../plan/fixtures.ts";

const P = "service.beta.kubernetes.io/aws-load-balancer-";
const SOURCE_RANGES = "service.beta.kubernetes.io/load-balancer-source-ranges";
const config: BuildConfig = {
  clusterName: "prod",
  loadBalancerClass: "service.k8s.aws/nlb",
  defaultTargetType: "instance",
  defaultScheme: "internal",
};

// The same Service as build.test.ts's builder (that one is local to its file).
function service(spec: Partial<Service["spec"]> = {}, annotations: Record<string, string> = {}): Service {
  return {
    metadata: { name: "web", namespace: "shop", uid: "3f1c6a2e-0000-4000-8000-000000000001", annotations },
    spec: {
      type: "LoadBalancer",
      loadBalancerClass: "service.k8s.aws/nlb",
      externalTrafficPolicy: "Cluster",
      ports: [{ name: "http", port: 80, protocol: "TCP", targetPort: 8080, nodePort: 30080 }],
      ...spec,
    },
  };
}

const nodes: Node[] = [
  {
    metadata: { name: "a" },
    spec: { providerID: "aws:///us-west-2a/i-0000000000000000a" },
    status: { conditions: [{ type: "Ready", status: "True" }] },
  },
];

function groupsOf(svc: Service, cfg = config): SecurityGroupsSpec {
  const result = build(svc, [], nodes, cfg);
  assert.ok(result.ok, result.ok ? "" : result.problems.map((p) => p.message).join("\n"));
  return result.stack.securityGroups;
}

function problemsOf(svc: Service): InputProblem[] {
  const result = build(svc, [], nodes, config);
  assert.equal(result.ok, false, "expected build to refuse the Service");
  return result.ok ? [] : result.problems;
}

const ingressOf = (svc: Service) => groupsOf(svc).managed?.ingress ?? [];
const rule = (protocol: "tcp" | "udp", port: number, source: IngressRule["source"]): IngressRule => ({
  protocol,
  fromPort: port,
  toPort: port,
  source,
});
const cidr = (protocol: "tcp" | "udp", port: number, block: string) => rule(protocol, port, { cidr: block });
/** Order-free comparison: the rule order is deterministic but not part of the contract. */
const asSet = (rules: IngressRule[]) => new Set(rules.map((r) => JSON.stringify(r)));

describe("normalCidr", () => {
  it("keeps canonical IPv4 blocks as they are", () => {
    for (const block of ["10.0.0.0/8", "0.0.0.0/0", "1.2.3.4/32", "192.168.0.0/16", "255.255.255.255/32"]) {
      assert.equal(normalCidr(block), block);
    }
  });

  it("drops a leading zero from the prefix length", () => {
    assert.equal(normalCidr("10.0.0.0/08"), "10.0.0.0/8");
  });

  it("refuses IPv4 blocks with host bits, a prefix over 32, leading zeros or no prefix", () => {
    for (const text of [
      "10.0.0.1/8",
      "192.168.1.0/16",
      "10.0.0.0/33",
      "010.0.0.0/8",
      "10.0.0.0/008",
      "10.0.0.0",
      "10.0.0.0/",
      "10.0.0/8",
      "256.0.0.0/8",
    ]) {
      assert.equal(normalCidr(text), undefined, text);
    }
  });

  it("writes IPv6 blocks compressed and in lower case", () => {
    assert.equal(normalCidr("2001:DB8::/32"), "2001:db8::/32");
    assert.equal(normalCidr("2001:0db8:0000::/32"), "2001:db8::/32");
    assert.equal(normalCidr("2001:db8:0:0:0:0:0:0/32"), "2001:db8::/32");
    assert.equal(normalCidr("0:0:0:0:0:0:0:0/0"), "::/0");
    assert.equal(normalCidr("0:0:0:0:0:0:0:1/128"), "::1/128");
    assert.equal(normalCidr("1:0:0:0:0:0:0:0/16"), "1::/16");
    assert.equal(normalCidr("::/0"), "::/0");
  });

  it("compresses the first of two equally long zero runs, and never a single zero group", () => {
    assert.equal(normalCidr("2001:db8:0:0:1:0:0:0/128"), "2001:db8:0:0:1::/128");
    assert.equal(normalCidr("2001:0:0:1:0:0:0:0/128"), "2001:0:0:1::/128");
    assert.equal(normalCidr("2001:0:0:1:1:0:0:1/128"), "2001::1:1:0:0:1/128");
    assert.equal(normalCidr("1:2:3:4:5:6:7::/128"), "1:2:3:4:5:6:7:0/128");
    assert.equal(normalCidr("::1:2:3:4:5:6:7/128"), "0:1:2:3:4:5:6:7/128");
  });

  it("refuses IPv6 blocks with host bits or a prefix over 128", () => {
    assert.equal(normalCidr("2001:db8::1/32"), undefined);
    assert.equal(normalCidr("2001:db8::/16"), undefined);
    assert.equal(normalCidr("::/129"), undefined);
    assert.equal(normalCidr("2001:db8::1/128"), "2001:db8::1/128");
  });

  it("refuses IPv4-embedded IPv6 and malformed IPv6", () => {
    for (const text of [
      "::ffff:1.2.3.4/128",
      "2001:db8:::/32",
      "1:2:3:4:5:6:7:8:9/128",
      "2001:db8::g/128",
      "2001:db8::/+32",
      "2001:db8::/-1",
      "2001:db8::/ 32",
    ]) {
      assert.equal(normalCidr(text), undefined, text);
    }
  });

  it("refuses garbage and surrounding spaces (callers trim)", () => {
    for (const text of ["", "garbage", "/8", "/", "10.0.0.0/8/8", " 10.0.0.0/8", "10.0.0.0/8 ", "any", "*"]) {
      assert.equal(normalCidr(text), undefined, JSON.stringify(text));
    }
  });

  // A zone (scope) ID is not part of a CIDR block; node's SocketAddress would silently strip it.
  it("refuses IPv6 addresses with a zone ID", () => {
    assert.equal(normalCidr("fe80::%eth0/64"), undefined);
    assert.equal(normalCidr("fe80::1%1/128"), undefined);
  });
});

describe("cidrBlocks", () => {
  it("parses a comma-separated list, trimming entries and normalising IPv6", () => {
    assert.deepEqual(cidrBlocks(" 10.0.0.0/8 , 2001:DB8::/32,192.168.0.0/16"), {
      ok: true,
      value: ["10.0.0.0/8", "2001:db8::/32", "192.168.0.0/16"],
    });
  });

  it("names each bad entry and what is allowed", () => {
    const parsed = cidrBlocks("10.0.0.0/8,10.0.0.1/8,nope");
    assert.ok(!parsed.ok);
    assert.deepEqual(
      parsed.errors.map((e) => e.value),
      ["10.0.0.1/8", "nope"],
    );
    for (const e of parsed.errors) assert.match(e.allowed, /IPv4 or IPv6 CIDR block without host bits/);
  });

  it("refuses duplicates, also those that differ only in spelling", () => {
    const parsed = cidrBlocks("2001:db8::/32,2001:0DB8::/32");
    assert.ok(!parsed.ok);
    assert.deepEqual(parsed.errors, [
      { value: "2001:0DB8::/32", allowed: "a comma-separated list of CIDR blocks, each entry once" },
    ]);
    assert.ok(!cidrBlocks("10.0.0.0/8, 10.0.0.0/8").ok);
  });

  it("refuses empty entries and an empty value", () => {
    const empty = cidrBlocks("10.0.0.0/8,,1.0.0.0/8");
    assert.ok(!empty.ok);
    assert.match(empty.errors[0]?.allowed ?? "", /without empty entries/);
    assert.ok(!cidrBlocks("10.0.0.0/8,").ok);
    const none = cidrBlocks("  ");
    assert.ok(!none.ok);
    assert.match(none.errors[0]?.allowed ?? "", /at least one/);
  });
});

describe("securityGroupRefs", () => {
  it("takes IDs and group names (names are resolved in the VPC later)", () => {
    assert.deepEqual(securityGroupRefs("sg-0123456789abcdef0, my nlb clients ,sg-01234567"), {
      ok: true,
      value: ["sg-0123456789abcdef0", "my nlb clients", "sg-01234567"],
    });
  });

  it("refuses non-ASCII names, names over 255 characters, duplicates and empty entries", () => {
    for (const raw of ["naïve", "a".repeat(256), "sg-0123456789abcdef0,sg-0123456789abcdef0", "a,,b", ""]) {
      assert.equal(securityGroupRefs(raw).ok, false, raw);
    }
    assert.ok(securityGroupRefs("a".repeat(255)).ok);
    const bad = securityGroupRefs("tab\tname");
    assert.ok(!bad.ok);
    assert.match(bad.errors[0]?.allowed ?? "", /security group ID \(sg-0123456789abcdef0\) or a group name/);
  });
});

describe("prefixListIds", () => {
  it("takes managed prefix list IDs", () => {
    assert.deepEqual(prefixListIds("pl-0123456789abcdef0, pl-01234567"), {
      ok: true,
      value: ["pl-0123456789abcdef0", "pl-01234567"],
    });
  });

  it("refuses short, upper-case, foreign and duplicate IDs, naming each", () => {
    const parsed = prefixListIds("pl-12,PL-01234567,sg-01234567,pl-0123456789abcdef01");
    assert.ok(!parsed.ok);
    assert.deepEqual(
      parsed.errors.map((e) => e.value),
      ["pl-12", "PL-01234567", "sg-01234567", "pl-0123456789abcdef01"],
    );
    assert.equal(parsed.errors[0]?.allowed, "a managed prefix list ID (pl-0123456789abcdef0)");
    assert.ok(!prefixListIds("pl-01234567,pl-01234567").ok);
  });
});

describe("build: the managed frontend security group", () => {
  it("opens each listener port to 0.0.0.0/0 by default, with backend rules managed", () => {
    const groups = groupsOf(service());
    assert.deepEqual(groups, {
      managed: {
        name: groups.managed?.name,
        description: MANAGED_SECURITY_GROUP_DESCRIPTION,
        ingress: [cidr("tcp", 80, "0.0.0.0/0")],
        tags: {
          "elbv2.k8s.aws/cluster": "prod",
          "service.k8s.aws/resource": "ManagedLBSecurityGroup",
          "service.k8s.aws/stack": "shop/web",
        },
      },
      manageBackendRules: true,
    });
    assert.equal(groups.given, undefined);
  });

  it("adds ::/0 for a dualstack NLB", () => {
    const svc = service({}, { [`${P}ip-address-type`]: "dualstack" });
    assert.deepEqual(asSet(ingressOf(svc)), asSet([cidr("tcp", 80, "0.0.0.0/0"), cidr("tcp", 80, "::/0")]));
  });

  it("has one rule per listener port and protocol: UDP -> udp, TCP_UDP -> tcp and udp", () => {
    const svc = service({
      ports: [
        { name: "web", port: 80, protocol: "TCP", nodePort: 30080 },
        { name: "dns", port: 53, protocol: "UDP", nodePort: 30053 },
        { name: "q-tcp", port: 5000, protocol: "TCP", nodePort: 30500 },
        { name: "q-udp", port: 5000, protocol: "UDP", nodePort: 30500 },
      ],
    });
    assert.deepEqual(
      asSet(ingressOf(svc)),
      asSet([
        cidr("tcp", 80, "0.0.0.0/0"),
        cidr("udp", 53, "0.0.0.0/0"),
        cidr("tcp", 5000, "0.0.0.0/0"),
        cidr("udp", 5000, "0.0.0.0/0"),
      ]),
    );
    assert.equal(ingressOf(svc).length, 4);
  });

  it("opens the listener port, not the nodePort or targetPort", () => {
    const rules = ingressOf(
      service({ ports: [{ port: 8443, protocol: "TCP", targetPort: 9443, nodePort: 31443 }] }),
    );
    assert.deepEqual(rules, [cidr("tcp", 8443, "0.0.0.0/0")]);
  });

  it("a TLS listener is a tcp rule", () => {
    const svc = service(
      { ports: [{ name: "https", port: 443, protocol: "TCP", targetPort: 8443, nodePort: 30443 }] },
      { [`${P}ssl-cert`]: "arn:aws:acm:us-west-2:123456789012:certificate/abc-123" },
    );
    const result = build(svc, [], nodes, config);
    assert.ok(result.ok, result.ok ? "" : result.problems.map((p) => p.message).join("\n"));
    assert.equal(result.stack.listeners[0]?.protocol, "TLS");
    assert.deepEqual(result.stack.securityGroups.managed?.ingress, [cidr("tcp", 443, "0.0.0.0/0")]);
  });

  it("uses the source-ranges annotation instead of 0.0.0.0/0", () => {
    const svc = service({}, { [SOURCE_RANGES]: "10.0.0.0/8,192.168.0.0/16" });
    assert.deepEqual(
      asSet(ingressOf(svc)),
      asSet([cidr("tcp", 80, "10.0.0.0/8"), cidr("tcp", 80, "192.168.0.0/16")]),
    );
  });

  it("spec.loadBalancerSourceRanges wins over the annotation", () => {
    const svc = service({ loadBalancerSourceRanges: ["172.16.0.0/12"] }, { [SOURCE_RANGES]: "10.0.0.0/8" });
    assert.deepEqual(ingressOf(svc), [cidr("tcp", 80, "172.16.0.0/12")]);
  });

  it("an empty spec.loadBalancerSourceRanges leaves the annotation in charge", () => {
    const svc = service({ loadBalancerSourceRanges: [] }, { [SOURCE_RANGES]: "10.0.0.0/8" });
    assert.deepEqual(ingressOf(svc), [cidr("tcp", 80, "10.0.0.0/8")]);
    assert.deepEqual(ingressOf(service({ loadBalancerSourceRanges: [] })), [cidr("tcp", 80, "0.0.0.0/0")]);
  });

  it("trims, normalises and de-duplicates spec.loadBalancerSourceRanges", () => {
    const svc = service(
      { loadBalancerSourceRanges: [" 10.0.0.0/8 ", "2001:DB8::/32", "2001:db8::/32", "10.0.0.0/8"] },
      { [`${P}ip-address-type`]: "dualstack" },
    );
    assert.deepEqual(
      asSet(ingressOf(svc)),
      asSet([cidr("tcp", 80, "10.0.0.0/8"), cidr("tcp", 80, "2001:db8::/32")]),
    );
    assert.equal(ingressOf(svc).length, 2);
  });

  it("with only prefix lists, allows only the prefix lists (no 0.0.0.0/0)", () => {
    const svc = service({}, { [`${P}security-group-prefix-lists`]: "pl-0123456789abcdef0,pl-01234567" });
    assert.deepEqual(
      asSet(ingressOf(svc)),
      asSet([
        rule("tcp", 80, { prefixList: "pl-0123456789abcdef0" }),
        rule("tcp", 80, { prefixList: "pl-01234567" }),
      ]),
    );
    const dualstack = service(
      {},
      { [`${P}security-group-prefix-lists`]: "pl-01234567", [`${P}ip-address-type`]: "dualstack" },
    );
    assert.deepEqual(ingressOf(dualstack), [rule("tcp", 80, { prefixList: "pl-01234567" })]);
  });

  it("with prefix lists and source ranges, allows both", () => {
    const svc = service(
      { loadBalancerSourceRanges: ["10.0.0.0/8"] },
      { [`${P}security-group-prefix-lists`]: "pl-01234567" },
    );
    assert.deepEqual(
      asSet(ingressOf(svc)),
      asSet([cidr("tcp", 80, "10.0.0.0/8"), rule("tcp", 80, { prefixList: "pl-01234567" })]),
    );
  });

  it("lists rules in the same order whatever the order of ports and ranges", () => {
    const a = service(
      {
        ports: [
          { port: 80, protocol: "TCP", nodePort: 30080 },
          { port: 443, protocol: "TCP", nodePort: 30443 },
        ],
      },
      { [SOURCE_RANGES]: "10.0.0.0/8,192.168.0.0/16" },
    );
    const b = service(
      {
        ports: [
          { port: 443, protocol: "TCP", nodePort: 30443 },
          { port: 80, protocol: "TCP", nodePort: 30080 },
        ],
      },
      { [SOURCE_RANGES]: "192.168.0.0/16,10.0.0.0/8" },
    );
    assert.deepEqual(ingressOf(a), ingressOf(b));
    assert.equal(ingressOf(a).length, 4);
  });

  it("refuses an IPv6 source range on an ipv4 NLB, naming the field and the value", () => {
    const fromSpec = problemsOf(service({ loadBalancerSourceRanges: ["10.0.0.0/8", "2001:db8::/32"] }));
    assert.equal(fromSpec.length, 1);
    assert.equal(fromSpec[0]?.field, "spec.loadBalancerSourceRanges[1]");
    assert.equal(fromSpec[0]?.value, "2001:db8::/32");
    assert.equal(fromSpec[0]?.reason, "InvalidSpec");
    assert.match(fromSpec[0]?.allowed ?? "", /IPv4 CIDR blocks only/);
    assert.match(fromSpec[0]?.allowed ?? "", /ip-address-type to dualstack/);

    const fromAnnotation = problemsOf(service({}, { [SOURCE_RANGES]: "10.0.0.0/8,2001:db8::/32" }));
    assert.equal(fromAnnotation.length, 1);
    assert.equal(fromAnnotation[0]?.field, `annotation ${SOURCE_RANGES}`);
    assert.equal(fromAnnotation[0]?.value, "2001:db8::/32");
    assert.equal(fromAnnotation[0]?.reason, "InvalidAnnotation");
  });

  it("names the index of an IPv6 spec entry written in a non-canonical spelling", () => {
    const problems = problemsOf(
      service({ loadBalancerSourceRanges: ["10.0.0.0/8", "1.0.0.0/8", " 2001:DB8::/32"] }),
    );
    assert.equal(problems.length, 1);
    assert.equal(problems[0]?.field, "spec.loadBalancerSourceRanges[2]");
  });

  it("accepts IPv6 source ranges on a dualstack NLB", () => {
    const svc = service(
      { loadBalancerSourceRanges: ["2001:db8::/32"] },
      { [`${P}ip-address-type`]: "dualstack" },
    );
    assert.deepEqual(ingressOf(svc), [cidr("tcp", 80, "2001:db8::/32")]);
  });

  it("names each invalid spec.loadBalancerSourceRanges entry by index", () => {
    const svc = service({
      loadBalancerSourceRanges: ["10.0.0.0/8", "bogus", "10.0.0.1/8", 5 as unknown as string, ""],
    });
    const problems = problemsOf(svc);
    assert.deepEqual(
      problems.map((p) => [p.field, p.value, p.reason]),
      [
        ["spec.loadBalancerSourceRanges[1]", "bogus", "InvalidSpec"],
        ["spec.loadBalancerSourceRanges[2]", "10.0.0.1/8", "InvalidSpec"],
        ["spec.loadBalancerSourceRanges[3]", "5", "InvalidSpec"],
        ["spec.loadBalancerSourceRanges[4]", "", "InvalidSpec"],
      ],
    );
    for (const p of problems) assert.match(p.allowed, /CIDR block without host bits/);
    assert.match(
      problems[0]?.message ?? "",
      /service shop\/web: spec\.loadBalancerSourceRanges\[1\]: "bogus"/,
    );
  });

  it("refuses a spec.loadBalancerSourceRanges that is not a list", () => {
    const problems = problemsOf(service({ loadBalancerSourceRanges: "10.0.0.0/8" as unknown as string[] }));
    assert.equal(problems.length, 1);
    assert.equal(problems[0]?.field, "spec.loadBalancerSourceRanges");
    assert.equal(problems[0]?.allowed, "a list of CIDR blocks");
  });

  it("refuses bad source-range and prefix-list annotations, naming them", () => {
    const problems = problemsOf(
      service({}, { [SOURCE_RANGES]: "10.0.0.1/8", [`${P}security-group-prefix-lists`]: "pl-nope" }),
    );
    assert.deepEqual(problems.map((p) => [p.field, p.value]).sort(), [
      [`annotation ${P}security-group-prefix-lists`, "pl-nope"],
      [`annotation ${SOURCE_RANGES}`, "10.0.0.1/8"],
    ]);
  });

  it("tags the group as ours plus the additional-resource-tags; ownership wins over user tags", () => {
    const svc = service(
      {},
      { [`${P}additional-resource-tags`]: "team=shop,service.k8s.aws/resource=mine,env=prod" },
    );
    assert.deepEqual(groupsOf(svc, { ...config, defaultTags: { owner: "platform" } }).managed?.tags, {
      "elbv2.k8s.aws/cluster": "prod",
      env: "prod",
      owner: "platform",
      "service.k8s.aws/resource": "ManagedLBSecurityGroup",
      "service.k8s.aws/stack": "shop/web",
      team: "shop",
    });
  });

  it("has a name of at most 32 characters that stays the same whatever else changes", () => {
    const name = groupsOf(service()).managed?.name;
    assert.ok(name);
    assert.ok(name.length <= 32, name);
    assert.match(name, /^k8s-shop-web-[0-9a-f]{10}$/);
    const changed = service(
      {
        ports: [{ port: 53, protocol: "UDP", nodePort: 30053 }],
        loadBalancerSourceRanges: ["10.0.0.0/8"],
      },
      {
        [`${P}scheme`]: "internet-facing",
        [`${P}ip-address-type`]: "dualstack",
        [`${P}nlb-target-type`]: "ip",
        [`${P}additional-resource-tags`]: "team=shop",
      },
    );
    assert.equal(groupsOf(changed).managed?.name, name);
  });

  it("has a different name per cluster, namespace and Service, each at most 32 characters", () => {
    const long = (namespace: string, name: string): Service => {
      const svc = service();
      svc.metadata = { ...svc.metadata, namespace, name };
      return svc;
    };
    const names = [
      groupsOf(service()).managed?.name,
      groupsOf(service(), { ...config, clusterName: "staging" }).managed?.name,
      groupsOf(long("shop2", "web")).managed?.name,
      groupsOf(long("shop", "web2")).managed?.name,
      groupsOf(long("a-very-long-namespace-name-indeed", "an-equally-long-service-name-here")).managed?.name,
      groupsOf(long("a-very-long-namespace-name-indeed", "an-equally-long-service-name-there")).managed?.name,
    ];
    assert.equal(new Set(names).size, names.length);
    for (const name of names) assert.ok(name !== undefined && name.length <= 32, name);
  });
});

describe("build: given security groups", () => {
  it("uses the security-groups annotation's groups, with no managed group and no backend rules", () => {
    const svc = service({}, { [`${P}security-groups`]: "sg-0123456789abcdef0, my-nlb-clients" });
    assert.deepEqual(groupsOf(svc), {
      given: ["sg-0123456789abcdef0", "my-nlb-clients"],
      manageBackendRules: false,
      settings: [`${P}security-groups`],
    });
  });

  it("ignores source ranges and prefix lists with given groups", () => {
    const svc = service(
      { loadBalancerSourceRanges: ["10.0.0.0/8"] },
      {
        [`${P}security-groups`]: "sg-0123456789abcdef0",
        [`${P}security-group-prefix-lists`]: "pl-01234567",
      },
    );
    const ignored = ["spec.loadBalancerSourceRanges", `${P}security-group-prefix-lists`];
    assert.deepEqual(groupsOf(svc), {
      given: ["sg-0123456789abcdef0"],
      manageBackendRules: false,
      settings: [...ignored, `${P}security-groups`],
      ignored,
    });
  });

  it("manage-backend-security-group-rules overrides the default both ways", () => {
    const given = { [`${P}security-groups`]: "sg-0123456789abcdef0" };
    const manage = `${P}manage-backend-security-group-rules`;
    assert.equal(groupsOf(service({}, { ...given, [manage]: "true" })).manageBackendRules, true);
    assert.equal(groupsOf(service({}, { ...given, [manage]: "false" })).manageBackendRules, false);
    assert.equal(groupsOf(service({}, { [manage]: "false" })).manageBackendRules, false);
    assert.equal(groupsOf(service({}, { [manage]: "true" })).manageBackendRules, true);
    const managed = groupsOf(service({}, { [manage]: "false" }));
    assert.ok(managed.managed, "turning off backend rules keeps the managed frontend group");
  });

  it("refuses a bad security-groups or manage-backend annotation, naming it", () => {
    const bad = problemsOf(service({}, { [`${P}security-groups`]: "sg-0123456789abcdef0,,x" }));
    assert.deepEqual(
      bad.map((p) => p.field),
      [`annotation ${P}security-groups`],
    );
    const flag = problemsOf(service({}, { [`${P}manage-backend-security-group-rules`]: "maybe" }));
    assert.deepEqual(
      flag.map((p) => [p.field, p.value]),
      [[`annotation ${P}manage-backend-security-group-rules`, "maybe"]],
    );
  });
});

describe("securityGroupsOf", () => {
  const input = (over: Partial<SecurityGroupInput> = {}): SecurityGroupInput => ({
    values: {},
    service: service(),
    ipAddressType: "ipv4",
    listeners: [{ port: 80, protocol: "TCP" }],
    name: "k8s-shop-web-0123456789",
    tags: { a: "b" },
    object: "shop/web",
    problems: [],
    ...over,
  });

  it("maps TLS to tcp, UDP to udp and TCP_UDP to both", () => {
    const problems: InputProblem[] = [];
    const spec = securityGroupsOf(
      input({
        listeners: [
          { port: 443, protocol: "TLS" },
          { port: 53, protocol: "UDP" },
          { port: 88, protocol: "TCP_UDP" },
        ],
        problems,
      }),
    );
    assert.deepEqual(problems, []);
    assert.deepEqual(
      asSet(spec.managed?.ingress ?? []),
      asSet([
        cidr("tcp", 443, "0.0.0.0/0"),
        cidr("udp", 53, "0.0.0.0/0"),
        cidr("tcp", 88, "0.0.0.0/0"),
        cidr("udp", 88, "0.0.0.0/0"),
      ]),
    );
    assert.equal(spec.managed?.name, "k8s-shop-web-0123456789");
    assert.deepEqual(spec.managed?.tags, { a: "b" });
  });

  it("has no ingress rules without listeners", () => {
    assert.deepEqual(securityGroupsOf(input({ listeners: [] })).managed?.ingress, []);
  });

  it("takes source ranges and prefix lists from parsed annotation values", () => {
    const spec = securityGroupsOf(
      input({
        values: { sourceRanges: ["10.0.0.0/8"], securityGroupPrefixLists: ["pl-01234567"] },
        ipAddressType: "dualstack",
      }),
    );
    assert.deepEqual(
      asSet(spec.managed?.ingress ?? []),
      asSet([cidr("tcp", 80, "10.0.0.0/8"), rule("tcp", 80, { prefixList: "pl-01234567" })]),
    );
  });

  it("reports only the first IPv6 range on an ipv4 NLB", () => {
    const problems: InputProblem[] = [];
    securityGroupsOf(input({ values: { sourceRanges: ["2001:db8::/32", "2002::/16"] }, problems }));
    assert.equal(problems.length, 1);
    assert.equal(problems[0]?.value, "2001:db8::/32");
  });
});

describe("backendPortsOf", () => {
  const tg = (over: Partial<TargetGroupSpec>) => targetGroup(80, over);

  it("instance targets: the traffic port, and the traffic port again for a traffic-port health check", () => {
    const ports = backendPortsOf(
      tg({
        targets: [
          { id: "i-0aaaaaaaaaaaaaaa1", port: 30080 },
          { id: "i-0aaaaaaaaaaaaaaa2", port: 30080 },
        ],
      }),
    );
    assert.deepEqual(
      [...ports],
      [
        [
          "i-0aaaaaaaaaaaaaaa1",
          [
            { protocol: "tcp", port: 30080 },
            { protocol: "tcp", port: 30080 },
          ],
        ],
        [
          "i-0aaaaaaaaaaaaaaa2",
          [
            { protocol: "tcp", port: 30080 },
            { protocol: "tcp", port: 30080 },
          ],
        ],
      ],
    );
  });

  it("adds a separate health check port as tcp", () => {
    const ports = backendPortsOf(
      tg({
        healthCheck: { ...targetGroup(80).healthCheck, protocol: "HTTP", port: 31234, path: "/healthz" },
        targets: [{ id: "i-0aaaaaaaaaaaaaaa1", port: 30080 }],
      }),
    );
    assert.deepEqual(ports.get("i-0aaaaaaaaaaaaaaa1"), [
      { protocol: "tcp", port: 30080 },
      { protocol: "tcp", port: 31234 },
    ]);
  });

  it("a UDP target group gets udp traffic and a tcp health check", () => {
    const ports = backendPortsOf(
      tg({ protocol: "UDP", targets: [{ id: "i-0aaaaaaaaaaaaaaa1", port: 30053 }] }),
    );
    assert.deepEqual(ports.get("i-0aaaaaaaaaaaaaaa1"), [
      { protocol: "udp", port: 30053 },
      { protocol: "tcp", port: 30053 },
    ]);
  });

  it("a TCP_UDP target group gets tcp and udp traffic; TLS gets tcp", () => {
    const both = backendPortsOf(tg({ protocol: "TCP_UDP", targets: [{ id: "t", port: 30088 }] }));
    assert.deepEqual(
      new Set((both.get("t") ?? []).map((p) => `${p.protocol}/${p.port}`)),
      new Set(["tcp/30088", "udp/30088"]),
    );
    const tls = backendPortsOf(tg({ protocol: "TLS", targets: [{ id: "t", port: 30443 }] }));
    assert.deepEqual(
      new Set((tls.get("t") ?? []).map((p) => `${p.protocol}/${p.port}`)),
      new Set(["tcp/30443"]),
    );
  });

  it("ip targets: each target's own port; a target listed twice collects both ports", () => {
    const ports = backendPortsOf(
      tg({
        targetType: "ip",
        port: 1,
        targets: [
          { id: "10.0.1.5", port: 8080 },
          { id: "10.0.1.6", port: 8081 },
          { id: "10.0.1.5", port: 9090 },
        ],
      }),
    );
    assert.deepEqual(ports.get("10.0.1.6"), [
      { protocol: "tcp", port: 8081 },
      { protocol: "tcp", port: 8081 },
    ]);
    assert.deepEqual(new Set((ports.get("10.0.1.5") ?? []).map((p) => p.port)), new Set([8080, 9090]));
  });

  it("is empty without targets", () => {
    assert.equal(backendPortsOf(tg({ targets: [] })).size, 0);
  });

  it("follows build(): externalTrafficPolicy Local opens the health check node port", () => {
    const result = build(
      service({ externalTrafficPolicy: "Local", healthCheckNodePort: 32000 }),
      [],
      nodes,
      config,
    );
    assert.ok(result.ok);
    const tgSpec = result.stack.targetGroups[0];
    assert.ok(tgSpec);
    assert.deepEqual(backendPortsOf(tgSpec).get("i-0000000000000000a"), [
      { protocol: "tcp", port: 30080 },
      { protocol: "tcp", port: 32000 },
    ]);
  });
});

describe("targetSecurityGroup", () => {
  const CLUSTER_TAG = "kubernetes.io/cluster/prod";

  it("takes the only group, tagged or not", () => {
    assert.deepEqual(targetSecurityGroup([{ id: "sg-1", tags: {} }], "prod"), { id: "sg-1" });
    assert.deepEqual(targetSecurityGroup([{ id: "sg-1", tags: { [CLUSTER_TAG]: "owned" } }], "prod"), {
      id: "sg-1",
    });
  });

  it("refuses a network interface without security groups", () => {
    const chosen = targetSecurityGroup([], "prod");
    assert.ok("problem" in chosen);
    assert.match(chosen.problem, /no security group/);
  });

  it("of several, takes the one tagged kubernetes.io/cluster/<cluster>, whatever the tag's value", () => {
    const groups: TargetSecurityGroup[] = [
      { id: "sg-1", tags: { Name: "x" } },
      { id: "sg-2", tags: { [CLUSTER_TAG]: "" } },
      { id: "sg-3", tags: { "kubernetes.io/cluster/other": "owned" } },
    ];
    assert.deepEqual(targetSecurityGroup(groups, "prod"), { id: "sg-2" });
    assert.deepEqual(targetSecurityGroup(groups, "other"), { id: "sg-3" });
  });

  it("of several, refuses when none is tagged, naming the groups and the tag", () => {
    const chosen = targetSecurityGroup(
      [
        { id: "sg-1", tags: {} },
        { id: "sg-2", tags: { "kubernetes.io/cluster/other": "owned" } },
      ],
      "prod",
    );
    assert.ok("problem" in chosen);
    assert.match(chosen.problem, /2 security groups \(sg-1, sg-2\)/);
    assert.match(chosen.problem, /none is tagged kubernetes\.io\/cluster\/prod/);
  });

  it("of several, refuses when two are tagged, naming those two", () => {
    const chosen = targetSecurityGroup(
      [
        { id: "sg-1", tags: { [CLUSTER_TAG]: "owned" } },
        { id: "sg-2", tags: {} },
        { id: "sg-3", tags: { [CLUSTER_TAG]: "shared" } },
      ],
      "prod",
    );
    assert.ok("problem" in chosen);
    assert.match(chosen.problem, /2 security groups tagged kubernetes\.io\/cluster\/prod \(sg-1, sg-3\)/);
    assert.match(chosen.problem, /tag exactly one/);
  });
});

describe("enable-icmp-for-path-mtu-discovery", () => {
  it("adds ICMP fragmentation-needed (IPv4) and packet-too-big (IPv6) from the CIDR sources only", () => {
    const svc = service(
      { loadBalancerSourceRanges: ["10.0.0.0/8", "2001:db8::/32"] },
      {
        [`${P}enable-icmp-for-path-mtu-discovery`]: "on",
        [`${P}ip-address-type`]: "dualstack",
        [`${P}security-group-prefix-lists`]: "pl-0123456789abcdef0",
      },
    );
    const icmp = (groupsOf(svc).managed?.ingress ?? []).filter((r) => r.protocol.startsWith("icmp"));
    assert.deepEqual(
      icmp.sort((a, b) => a.protocol.localeCompare(b.protocol)),
      [
        { protocol: "icmp", fromPort: 3, toPort: 4, source: { cidr: "10.0.0.0/8" } },
        { protocol: "icmpv6", fromPort: 2, toPort: 0, source: { cidr: "2001:db8::/32" } },
      ],
    );
  });

  it("is off by default and refuses other values, naming the annotation", () => {
    assert.ok(!(groupsOf(service({}, {})).managed?.ingress ?? []).some((r) => r.protocol === "icmp"));
    const problems = problemsOf(service({}, { [`${P}enable-icmp-for-path-mtu-discovery`]: "yes" }));
    assert.deepEqual(
      problems.map((p) => [p.field, p.value]),
      [[`annotation ${P}enable-icmp-for-path-mtu-discovery`, "yes"]],
    );
  });
});

describe("podInstances()", () => {
  it("maps each endpoint address of the Service to the instance of its node, and nothing else", () => {
    const slice = (service: string, endpoints: EndpointSlice["endpoints"]): EndpointSlice => ({
      metadata: {
        name: `${service}-x`,
        namespace: "shop",
        labels: { "kubernetes.io/service-name": service },
      },
      addressType: "IPv4",
      endpoints,
      ports: [{ name: "http", port: 8080, protocol: "TCP" }],
    });
    const slices = [
      slice("web", [
        { addresses: ["10.0.0.5"], nodeName: "a" },
        { addresses: ["10.0.0.6"], nodeName: "unknown-node" },
        { addresses: ["10.0.0.7"] },
      ]),
      slice("other", [{ addresses: ["10.0.0.9"], nodeName: "a" }]),
    ];
    assert.deepEqual(Object.fromEntries(podInstances(service(), slices, nodes)), {
      "10.0.0.5": "i-0000000000000000a",
    });
  });
});
