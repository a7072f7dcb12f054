import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { ruleKey } from "../../../src/model/security-groups.ts";
import type { ActualRule, DesiredStack, IngressRule, TargetSecurityGroup } from "../../../src/model/types.ts";
import { plan } from "../../../src/plan/plan.ts";
import {
  backendRulesFor,
  canHaveSecurityGroups,
  handOverShared,
  keepingCurrentSource,
  planRules,
  type RuleChanges,
  type WantedRule,
} from "../../../src/plan/security-groups.ts";
import { actualLb, convergedStack, desiredStack, TCP_CHECK, targetGroup } from "./fixtures.ts";

const tcp = (port: number, cidr = "0.0.0.0/0", toPort = port): IngressRule => ({
  protocol: "tcp",
  fromPort: port,
  toPort,
  source: { cidr },
});
const actual = (id: string, groupId: string, rule: IngressRule): ActualRule => ({ id, groupId, ...rule });
const want = (groupId: string, rule: IngressRule): WantedRule => ({ groupId, rule });
const isEmpty = (changes: RuleChanges) => changes.authorize.size === 0 && changes.revoke.size === 0;
const entries = <T>(map: Map<string, T>) => Object.fromEntries(map);

describe("planRules", () => {
  it("authorizes only the missing rules, per group", () => {
    const changes = planRules(
      [
        want("sg-front", tcp(80)),
        want("sg-front", tcp(443)),
        want("sg-node", { protocol: "udp", fromPort: 53, toPort: 53, source: { group: "sg-front" } }),
      ],
      [actual("sgr-1", "sg-front", tcp(80))],
    );
    assert.deepEqual(entries(changes.authorize), {
      "sg-front": [tcp(443)],
      "sg-node": [{ protocol: "udp", fromPort: 53, toPort: 53, source: { group: "sg-front" } }],
    });
    assert.equal(changes.revoke.size, 0);
  });

  it("revokes only the unwanted rules, by ID, per group", () => {
    const changes = planRules(
      [want("sg-front", tcp(80))],
      [
        actual("sgr-1", "sg-front", tcp(80)),
        actual("sgr-2", "sg-front", tcp(8080)),
        actual("sgr-3", "sg-node", tcp(30080)),
        actual("sgr-4", "sg-front", tcp(80, "10.0.0.0/8")),
      ],
    );
    assert.equal(changes.authorize.size, 0);
    assert.deepEqual(entries(changes.revoke), { "sg-front": ["sgr-2", "sgr-4"], "sg-node": ["sgr-3"] });
  });

  it("tells rules apart by group, protocol, ports and every kind of source", () => {
    const base: IngressRule = tcp(80);
    const variants: IngressRule[] = [
      { ...base, protocol: "udp" },
      { ...base, fromPort: 79 },
      { ...base, toPort: 81 },
      { ...base, source: { cidr: "::/0" } },
      { ...base, source: { prefixList: "pl-01234567" } },
      { ...base, source: { group: "sg-front" } },
    ];
    for (const variant of variants) {
      const changes = planRules([want("sg-a", variant)], [actual("sgr-1", "sg-a", base)]);
      assert.deepEqual(entries(changes.authorize), { "sg-a": [variant] }, JSON.stringify(variant));
      assert.deepEqual(entries(changes.revoke), { "sg-a": ["sgr-1"] }, JSON.stringify(variant));
    }
    const otherGroup = planRules([want("sg-b", base)], [actual("sgr-1", "sg-a", base)]);
    assert.deepEqual(entries(otherGroup.authorize), { "sg-b": [base] });
    assert.deepEqual(entries(otherGroup.revoke), { "sg-a": ["sgr-1"] });
  });

  it("keeps one of two listings of a wanted rule and revokes the other by its own ID", () => {
    const changes = planRules(
      [want("sg-a", tcp(80))],
      [actual("sgr-1", "sg-a", tcp(80)), actual("sgr-2", "sg-a", tcp(80))],
    );
    assert.equal(changes.authorize.size, 0);
    assert.deepEqual(entries(changes.revoke), { "sg-a": ["sgr-2"] });
  });

  it("revokes every listing of an unwanted duplicated rule", () => {
    const changes = planRules([], [actual("sgr-1", "sg-a", tcp(80)), actual("sgr-2", "sg-a", tcp(80))]);
    assert.deepEqual(entries(changes.revoke), { "sg-a": ["sgr-1", "sgr-2"] });
  });

  it("authorizes a rule wanted twice once", () => {
    const changes = planRules([want("sg-a", tcp(80)), want("sg-a", tcp(80))], []);
    assert.deepEqual(entries(changes.authorize), { "sg-a": [tcp(80)] });
  });

  it("has nothing to do when wanted and actual are equal, in any order", () => {
    const changes = planRules(
      [want("sg-a", tcp(80)), want("sg-b", tcp(443)), want("sg-a", tcp(53))],
      [actual("sgr-3", "sg-a", tcp(53)), actual("sgr-1", "sg-b", tcp(443)), actual("sgr-2", "sg-a", tcp(80))],
    );
    assert.ok(isEmpty(changes));
    assert.ok(isEmpty(planRules([], [])));
    assert.ok(!isEmpty(planRules([want("sg-a", tcp(80))], [])));
    assert.ok(!isEmpty(planRules([], [actual("sgr-1", "sg-a", tcp(80))])));
  });

  it("revokes everything when nothing is wanted (deletion)", () => {
    const changes = planRules(
      [],
      [actual("sgr-1", "sg-a", tcp(80)), actual("sgr-2", "sg-b", tcp(80)), actual("sgr-3", "sg-a", tcp(81))],
    );
    assert.equal(changes.authorize.size, 0);
    assert.deepEqual(entries(changes.revoke), { "sg-a": ["sgr-1", "sgr-3"], "sg-b": ["sgr-2"] });
  });
});

describe("backendRulesFor", () => {
  const stack = (...targetGroups: DesiredStack["targetGroups"]): DesiredStack => ({
    ...desiredStack([]),
    targetGroups,
  });
  const lookup =
    (table: Record<string, TargetSecurityGroup[]>) =>
    (target: string): TargetSecurityGroup[] | undefined =>
      table[target];
  const from = (
    groupId: string,
    protocol: "tcp" | "udp",
    fromPort: number,
    toPort = fromPort,
  ): WantedRule => ({
    groupId,
    rule: { protocol, fromPort, toPort, source: { group: "sg-front" } },
  });

  it("opens each target's traffic port from the NLB's group", () => {
    const result = backendRulesFor(
      stack(targetGroup(80)),
      "sg-front",
      lookup({ "i-0aaaaaaaaaaaaaaa1": [{ id: "sg-node", tags: {} }] }),
      "prod",
    );
    assert.deepEqual(result, { wanted: [from("sg-node", "tcp", 30080)], unresolved: [] });
  });

  it("merges contiguous ports of one protocol into one range", () => {
    const targets = [{ id: "i-1", port: 0 }];
    const tgs = [30080, 30081, 30082, 30090, 30091, 30100].map((port, i) =>
      targetGroup(80 + i, { port, targets: targets.map((t) => ({ ...t, port })) }),
    );
    const result = backendRulesFor(
      stack(...tgs),
      "sg-front",
      lookup({ "i-1": [{ id: "sg-node", tags: {} }] }),
      "prod",
    );
    assert.deepEqual(result.wanted, [
      from("sg-node", "tcp", 30080, 30082),
      from("sg-node", "tcp", 30090, 30091),
      from("sg-node", "tcp", 30100),
    ]);
  });

  it("keeps protocols apart: a UDP group's traffic is udp, its health check tcp", () => {
    const result = backendRulesFor(
      stack(
        targetGroup(53, { protocol: "UDP", port: 30053, targets: [{ id: "i-1", port: 30053 }] }),
        targetGroup(54, { protocol: "UDP", port: 30054, targets: [{ id: "i-1", port: 30054 }] }),
        targetGroup(80, { port: 30080, targets: [{ id: "i-1", port: 30080 }] }),
      ),
      "sg-front",
      lookup({ "i-1": [{ id: "sg-node", tags: {} }] }),
      "prod",
    );
    assert.deepEqual(result.wanted, [
      from("sg-node", "tcp", 30053, 30054),
      from("sg-node", "tcp", 30080),
      from("sg-node", "udp", 30053, 30054),
    ]);
  });

  it("adds the health check port, merged with a neighbouring traffic port", () => {
    const result = backendRulesFor(
      stack(
        targetGroup(80, {
          port: 30080,
          healthCheck: { ...TCP_CHECK, protocol: "HTTP", port: 30081, path: "/healthz" },
          targets: [{ id: "i-1", port: 30080 }],
        }),
      ),
      "sg-front",
      lookup({ "i-1": [{ id: "sg-node", tags: {} }] }),
      "prod",
    );
    assert.deepEqual(result.wanted, [from("sg-node", "tcp", 30080, 30081)]);
  });

  it("has rules per security group, each with only its own targets' ports, groups in ID order", () => {
    const result = backendRulesFor(
      stack(
        targetGroup(80, {
          targetType: "ip",
          port: 8080,
          targets: [
            { id: "10.0.1.5", port: 8080 },
            { id: "10.0.2.5", port: 9090 },
            { id: "10.0.3.5", port: 8081 },
          ],
        }),
      ),
      "sg-front",
      lookup({
        "10.0.1.5": [{ id: "sg-b", tags: {} }],
        "10.0.2.5": [{ id: "sg-a", tags: {} }],
        "10.0.3.5": [
          { id: "sg-c", tags: {} },
          { id: "sg-b", tags: { "kubernetes.io/cluster/prod": "owned" } },
        ],
      }),
      "prod",
    );
    assert.deepEqual(result.wanted, [from("sg-a", "tcp", 9090), from("sg-b", "tcp", 8080, 8081)]);
    assert.deepEqual(result.unresolved, []);
  });

  it("reports each unresolved target once, and still plans the others", () => {
    const result = backendRulesFor(
      stack(
        targetGroup(80, {
          port: 30080,
          targets: [
            { id: "i-gone", port: 30080 },
            { id: "i-many", port: 30080 },
            { id: "i-ok", port: 30080 },
          ],
        }),
        targetGroup(443, {
          port: 30443,
          targets: [
            { id: "i-gone", port: 30443 },
            { id: "i-many", port: 30443 },
          ],
        }),
      ),
      "sg-front",
      lookup({
        "i-many": [
          { id: "sg-1", tags: {} },
          { id: "sg-2", tags: {} },
        ],
        "i-ok": [{ id: "sg-node", tags: {} }],
      }),
      "prod",
    );
    assert.deepEqual(result.wanted, [from("sg-node", "tcp", 30080)]);
    assert.deepEqual(
      result.unresolved.map((u) => u.target),
      ["i-gone", "i-many"],
    );
    assert.equal(result.unresolved[0]?.problem, "no network interface has this address");
    assert.match(result.unresolved[1]?.problem ?? "", /none is tagged kubernetes\.io\/cluster\/prod/);
  });

  it("a network interface without security groups is unresolved, not a crash", () => {
    const result = backendRulesFor(
      stack(targetGroup(80)),
      "sg-front",
      lookup({ "i-0aaaaaaaaaaaaaaa1": [] }),
      "prod",
    );
    assert.deepEqual(result.wanted, []);
    assert.equal(result.unresolved.length, 1);
    assert.match(result.unresolved[0]?.problem ?? "", /no security group/);
  });

  it("wants nothing without targets", () => {
    assert.deepEqual(
      backendRulesFor(stack(targetGroup(80, { targets: [] })), "sg-front", () => undefined, "prod"),
      {
        wanted: [],
        unresolved: [],
      },
    );
  });

  it("its rules feed planRules: nothing to do once they are in place", () => {
    const desired = stack(targetGroup(80), targetGroup(81));
    const { wanted } = backendRulesFor(
      desired,
      "sg-front",
      lookup({ "i-0aaaaaaaaaaaaaaa1": [{ id: "sg-node", tags: {} }] }),
      "prod",
    );
    assert.deepEqual(wanted, [from("sg-node", "tcp", 30080, 30081)]);
    const inPlace = wanted.map((w, i) => actual(`sgr-${i}`, w.groupId, w.rule));
    assert.ok(isEmpty(planRules(wanted, inPlace)));
    const stale = [...inPlace, actual("sgr-old", "sg-node", { ...tcp(30080), source: { group: "sg-old" } })];
    assert.deepEqual(entries(planRules(wanted, stale).revoke), { "sg-node": ["sgr-old"] });
  });
});

describe("canHaveSecurityGroups", () => {
  it("a new NLB can; a kept one only if it was created with security groups", () => {
    assert.equal(canHaveSecurityGroups(undefined), true);
    assert.equal(canHaveSecurityGroups({ securityGroups: ["sg-1"] }), true);
    assert.equal(canHaveSecurityGroups({ securityGroups: [] }), false);
  });
});

describe("plan(): the NLB's security groups", () => {
  const empty = { loadBalancers: [], listeners: [], targetGroups: [] };
  const withGroups = (securityGroups: string[]) => ({
    ...convergedStack(),
    loadBalancers: [actualLb({ securityGroups })],
  });

  it("creates the NLB with the security groups when their IDs are given", () => {
    const p = plan({
      desired: desiredStack(),
      actual: empty,
      subnetIds: ["subnet-aaaa1111"],
      explicitName: false,
      securityGroupIds: ["sg-front", "sg-extra"],
    });
    const create = p.changes.find((c) => c.kind === "createLoadBalancer");
    assert.ok(create?.kind === "createLoadBalancer");
    assert.deepEqual(create.securityGroups, ["sg-front", "sg-extra"]);
  });

  it("creates the NLB without a securityGroups field when none are given", () => {
    for (const securityGroupIds of [undefined, []]) {
      const p = plan({
        desired: desiredStack(),
        actual: empty,
        subnetIds: ["subnet-aaaa1111"],
        explicitName: false,
        ...(securityGroupIds ? { securityGroupIds } : {}),
      });
      const create = p.changes.find((c) => c.kind === "createLoadBalancer");
      assert.ok(create?.kind === "createLoadBalancer");
      assert.equal("securityGroups" in create, false);
    }
  });

  it("sets the security groups of an existing NLB whose groups differ", () => {
    const p = plan({
      desired: desiredStack(),
      actual: withGroups(["sg-old"]),
      subnetIds: [],
      explicitName: false,
      securityGroupIds: ["sg-front"],
    });
    assert.deepEqual(p.changes, [
      { kind: "setSecurityGroups", arn: "arn:lb/1", securityGroups: ["sg-front"] },
    ]);
    const more = plan({
      desired: desiredStack(),
      actual: withGroups(["sg-front"]),
      subnetIds: [],
      explicitName: false,
      securityGroupIds: ["sg-front", "sg-extra"],
    });
    assert.deepEqual(more.changes, [
      { kind: "setSecurityGroups", arn: "arn:lb/1", securityGroups: ["sg-front", "sg-extra"] },
    ]);
    const fewer = plan({
      desired: desiredStack(),
      actual: withGroups(["sg-front", "sg-extra"]),
      subnetIds: [],
      explicitName: false,
      securityGroupIds: ["sg-front"],
    });
    assert.deepEqual(fewer.changes, [
      { kind: "setSecurityGroups", arn: "arn:lb/1", securityGroups: ["sg-front"] },
    ]);
  });

  it("leaves an NLB created without security groups alone (AWS cannot add them)", () => {
    const p = plan({
      desired: desiredStack(),
      actual: withGroups([]),
      subnetIds: [],
      explicitName: false,
      securityGroupIds: ["sg-front"],
    });
    assert.deepEqual(p.changes, []);
  });

  it("plans nothing for the same groups in another order, or when no IDs are given", () => {
    const reordered = plan({
      desired: desiredStack(),
      actual: withGroups(["sg-b", "sg-a"]),
      subnetIds: [],
      explicitName: false,
      securityGroupIds: ["sg-a", "sg-b"],
    });
    assert.deepEqual(reordered.changes, []);
    for (const securityGroupIds of [undefined, []]) {
      const p = plan({
        desired: desiredStack(),
        actual: withGroups(["sg-a"]),
        subnetIds: [],
        explicitName: false,
        ...(securityGroupIds ? { securityGroupIds } : {}),
      });
      assert.deepEqual(p.changes, []);
    }
  });

  // Resolved IDs can repeat one (an ID and the name of the same group in the annotation).
  it("sets the groups, deduplicated, when the desired IDs repeat one and the NLB has another", () => {
    const p = plan({
      desired: desiredStack(),
      actual: withGroups(["sg-a", "sg-b"]),
      subnetIds: [],
      explicitName: false,
      securityGroupIds: ["sg-a", "sg-a"],
    });
    assert.deepEqual(p.changes, [{ kind: "setSecurityGroups", arn: "arn:lb/1", securityGroups: ["sg-a"] }]);
    const same = plan({
      desired: desiredStack(),
      actual: withGroups(["sg-a"]),
      subnetIds: [],
      explicitName: false,
      securityGroupIds: ["sg-a", "sg-a"],
    });
    assert.deepEqual(same.changes, []);
  });

  it("creates the NLB with each repeated ID once", () => {
    const p = plan({
      desired: desiredStack(),
      actual: empty,
      subnetIds: ["subnet-aaaa1111"],
      explicitName: false,
      securityGroupIds: ["sg-a", "sg-b", "sg-a"],
    });
    const create = p.changes.find((c) => c.kind === "createLoadBalancer");
    assert.ok(create?.kind === "createLoadBalancer");
    assert.deepEqual(create.securityGroups, ["sg-a", "sg-b"]);
  });
});

describe("handOverShared()", () => {
  const rule = (id: string, port: number): ActualRule => ({
    id,
    groupId: "sg-pods",
    protocol: "tcp",
    fromPort: port,
    toPort: port,
    source: { group: "sg-shared" },
  });
  const actual = [rule("sgr-1", 8080), rule("sgr-2", 9090)];
  const keyOf = (r: ActualRule) => ruleKey(r.groupId, r);

  it("hands a rule another Service relies on to it, and revokes the rest", () => {
    const out = handOverShared(
      new Map([["sg-pods", ["sgr-1", "sgr-2"]]]),
      actual,
      "ns/one",
      new Map([
        ["ns/one", new Set([keyOf(actual[0]!), keyOf(actual[1]!)])],
        ["ns/two", new Set([keyOf(actual[0]!)])],
      ]),
    );
    assert.deepEqual(out.handOver, [{ ruleId: "sgr-1", stack: "ns/two" }]);
    assert.deepEqual(Object.fromEntries(out.revoke), { "sg-pods": ["sgr-2"] });
  });

  it("never hands a rule to the Service giving it up", () => {
    const out = handOverShared(
      new Map([["sg-pods", ["sgr-1"]]]),
      actual,
      "ns/one",
      new Map([["ns/one", new Set([keyOf(actual[0]!)])]]),
    );
    assert.deepEqual(out.handOver, []);
    assert.deepEqual(Object.fromEntries(out.revoke), { "sg-pods": ["sgr-1"] });
  });
});

describe("keepingCurrentSource()", () => {
  it("keeps the rules from the current source and still revokes those from former sources", () => {
    const rule = (id: string, source: string): ActualRule => ({
      id,
      groupId: "sg-nodes",
      protocol: "tcp",
      fromPort: 30080,
      toPort: 30080,
      source: { group: source },
    });
    const actual = [rule("sgr-now", "sg-front"), rule("sgr-old", "sg-former")];
    const out = keepingCurrentSource(planRules([], actual), actual, "sg-front");
    assert.deepEqual(Object.fromEntries(out.revoke), { "sg-nodes": ["sgr-old"] });
  });
});

describe("plan(): inbound-sg-rules-on-private-link-traffic", () => {
  const desired = (value: "on" | "off") => {
    const stack = desiredStack();
    stack.securityGroups = { manageBackendRules: true, privateLinkInboundRules: value };
    return stack;
  };
  const lbWith = (reported?: string) => ({
    ...convergedStack(),
    loadBalancers: [
      actualLb({ securityGroups: ["sg-front"], ...(reported ? { privateLinkInboundRules: reported } : {}) }),
    ],
  });
  const planFor = (value: "on" | "off", actual: ReturnType<typeof lbWith> | typeof emptyStack) =>
    plan({
      desired: desired(value),
      actual,
      subnetIds: actual.loadBalancers.length === 0 ? ["subnet-aaaa1111"] : [],
      explicitName: false,
      securityGroupIds: ["sg-front"],
    });
  const emptyStack = { loadBalancers: [], listeners: [], targetGroups: [] };

  it("turns it off on a new NLB right after creating it (CreateLoadBalancer cannot), and leaves on alone", () => {
    const off = planFor("off", emptyStack).changes;
    const i = off.findIndex((c) => c.kind === "createLoadBalancer");
    assert.deepEqual(off[i + 1], {
      kind: "setSecurityGroups",
      arn: "",
      securityGroups: ["sg-front"],
      privateLinkInboundRules: "off",
    });
    assert.ok(!planFor("on", emptyStack).changes.some((c) => c.kind === "setSecurityGroups"));
  });

  it("changes an existing NLB only when it differs from what AWS reports (unreported means on)", () => {
    const kinds = (p: ReturnType<typeof planFor>) => p.changes.map((c) => c.kind);
    assert.deepEqual(kinds(planFor("off", lbWith("on"))), ["setSecurityGroups"]);
    assert.deepEqual(kinds(planFor("off", lbWith())), ["setSecurityGroups"]);
    assert.deepEqual(kinds(planFor("off", lbWith("off"))), []);
    assert.deepEqual(kinds(planFor("on", lbWith())), []);
  });
});
