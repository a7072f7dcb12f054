import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { plan, planDeletion } from "../../../src/plan/plan.ts";
import { actualLb, actualTg, convergedStack, desiredStack, targetGroup } from "./fixtures.ts";

const SUBNETS = ["subnet-aaaa1111", "subnet-bbbb2222"];
const kinds = (p: ReturnType<typeof plan>) => p.changes.map((c) => c.kind);

describe("plan()", () => {
  it("creates everything, target groups before the NLB and listeners, targets right after their group", () => {
    const p = plan({
      desired: desiredStack([80, 443]),
      actual: { loadBalancers: [], listeners: [], targetGroups: [] },
      subnetIds: SUBNETS,
      explicitName: false,
    });
    assert.deepEqual(kinds(p), [
      "createTargetGroup",
      "registerTargets",
      "createTargetGroup",
      "registerTargets",
      "createLoadBalancer",
      "createListener",
      "createListener",
    ]);
    const lb = p.changes.find((c) => c.kind === "createLoadBalancer");
    assert.ok(lb && lb.kind === "createLoadBalancer");
    assert.deepEqual(
      lb.subnetMappings,
      SUBNETS.map((subnetId) => ({ subnetId })),
    );
    const listener = p.changes.find((c) => c.kind === "createListener");
    assert.ok(listener?.kind === "createListener");
    assert.deepEqual(listener.targetGroup, { id: "shop/web:80" });
    assert.deepEqual(p.replacements, []);
  });

  it("plans nothing for a converged stack, even with attributes and subnets the user never set", () => {
    const p = plan({
      desired: desiredStack([80, 443]),
      actual: convergedStack([80, 443]),
      subnetIds: [],
      explicitName: false,
    });
    assert.deepEqual(p.changes, []);
  });

  it("modifies a health check in place when externalTrafficPolicy flips (same ARN, no target churn)", () => {
    const desired = desiredStack();
    desired.targetGroups[0] = targetGroup(80, {
      healthCheck: {
        protocol: "HTTP",
        port: 31234,
        path: "/healthz",
        intervalSeconds: 10,
        timeoutSeconds: 6,
        healthyThresholdCount: 2,
        unhealthyThresholdCount: 2,
        matcher: { httpCode: "200-399" },
      },
    });
    const p = plan({ desired, actual: convergedStack(), subnetIds: [], explicitName: false });
    assert.deepEqual(kinds(p), ["modifyTargetGroupHealthCheck"]);
    const c = p.changes[0];
    assert.ok(c?.kind === "modifyTargetGroupHealthCheck");
    assert.equal(c.arn, "arn:tg/80");
    assert.deepEqual(p.replacements, []);
  });

  it("modifies only the attributes and tags that differ", () => {
    const desired = desiredStack();
    desired.targetGroups[0] = targetGroup(80, {
      attributes: { "proxy_protocol_v2.enabled": "true" },
      tags: { ...targetGroup(80).tags, team: "shop" },
    });
    desired.loadBalancer.attributes = { "load_balancing.cross_zone.enabled": "true" };
    const actual = convergedStack();
    actual.targetGroups[0] = actualTg(80, {
      tags: { ...targetGroup(80).tags, stale: "x", "aws:cloudformation:stack-name": "s" },
    });
    const p = plan({ desired, actual, subnetIds: [], explicitName: false });
    assert.deepEqual(kinds(p), ["modifyTargetGroupAttributes", "updateTags", "modifyLoadBalancerAttributes"]);
    const [attrs, tags, lbAttrs] = p.changes;
    assert.ok(
      attrs?.kind === "modifyTargetGroupAttributes" &&
        tags?.kind === "updateTags" &&
        lbAttrs?.kind === "modifyLoadBalancerAttributes",
    );
    assert.deepEqual(attrs.attributes, { "proxy_protocol_v2.enabled": "true" });
    assert.deepEqual(tags.add, { team: "shop" });
    assert.deepEqual(tags.remove, ["stale"], "aws: tags are never removed");
    assert.deepEqual(lbAttrs.attributes, { "load_balancing.cross_zone.enabled": "true" });
  });

  it("replaces the NLB when the scheme changes, naming the field, and keeps the target groups", () => {
    const desired = desiredStack();
    desired.loadBalancer.scheme = "internet-facing";
    desired.loadBalancer.name = "k8s-shop-web-9999999999";
    const p = plan({ desired, actual: convergedStack(), subnetIds: SUBNETS, explicitName: false });
    assert.deepEqual(kinds(p), ["deleteLoadBalancer", "createLoadBalancer", "createListener"]);
    assert.deepEqual(p.replacements, [
      {
        resource: "load balancer k8s-shop-web-0123456789",
        field: "scheme",
        from: "internal",
        to: "internet-facing",
      },
    ]);
    const listener = p.changes[2];
    assert.ok(listener?.kind === "createListener");
    assert.deepEqual(listener.targetGroup, { arn: "arn:tg/80" }, "the kept target group is reused");
  });

  it("replaces a target group whose protocol changes: new group, listener moved, old group deleted last", () => {
    const desired = desiredStack();
    desired.listeners[0] = { port: 80, protocol: "TCP_UDP", targetGroup: "shop/web:80" };
    desired.targetGroups[0] = targetGroup(80, { protocol: "TCP_UDP", name: "k8s-shop-web-newnewnew1" });
    const p = plan({ desired, actual: convergedStack(), subnetIds: [], explicitName: false });
    assert.deepEqual(kinds(p), [
      "createTargetGroup",
      "registerTargets",
      "modifyListener",
      "deleteTargetGroup",
    ]);
    assert.deepEqual(p.replacements, [
      { resource: "target group shop/web:80", field: "protocol", from: "TCP", to: "TCP_UDP" },
    ]);
    const modify = p.changes[2];
    assert.ok(modify?.kind === "modifyListener");
    assert.deepEqual(modify.fields, ["protocol", "defaultAction"]);
  });

  it("adopts resources made by LBC under other names: no replacement for a generated name", () => {
    const actual = convergedStack();
    actual.loadBalancers[0] = actualLb({ name: "k8s-shop-web-lbcmadeit" });
    actual.targetGroups[0] = actualTg(80, { name: "k8s-shop-web-lbctg0001" });
    const p = plan({ desired: desiredStack(), actual, subnetIds: [], explicitName: false });
    assert.deepEqual(p.changes, []);
  });

  it("replaces the NLB when the user names it and the name differs", () => {
    const desired = desiredStack();
    desired.loadBalancer.name = "my-nlb";
    const p = plan({ desired, actual: convergedStack(), subnetIds: SUBNETS, explicitName: true });
    assert.equal(p.changes[0]?.kind, "deleteLoadBalancer");
    assert.deepEqual(
      p.replacements.map((r) => r.field),
      ["name"],
    );
  });

  it("converges after a run killed mid-replacement: keeps the matching group, deletes the stale one", () => {
    const desired = desiredStack();
    desired.targetGroups[0] = targetGroup(80, { protocol: "TCP_UDP" });
    desired.listeners[0] = { port: 80, protocol: "TCP_UDP", targetGroup: "shop/web:80" };
    const actual = convergedStack();
    actual.targetGroups.push(
      actualTg(80, { arn: "arn:tg/80-new", protocol: "TCP_UDP", loadBalancerArns: [] }),
    );
    const p = plan({ desired, actual, subnetIds: [], explicitName: false });
    assert.deepEqual(kinds(p), ["modifyListener", "deleteTargetGroup"]);
    const del = p.changes[1];
    assert.ok(del?.kind === "deleteTargetGroup");
    assert.equal(del.arn, "arn:tg/80");
  });

  it("deletes listeners and target groups of ports that went away", () => {
    const p = plan({
      desired: desiredStack([80]),
      actual: convergedStack([80, 443]),
      subnetIds: [],
      explicitName: false,
    });
    assert.deepEqual(kinds(p), ["deleteListener", "deleteTargetGroup"]);
  });

  it("deletes a duplicate NLB of the stack and keeps the one that fits", () => {
    const actual = convergedStack();
    actual.loadBalancers.push(actualLb({ arn: "arn:lb/dup", name: "k8s-shop-web-dup" }));
    const p = plan({ desired: desiredStack(), actual, subnetIds: [], explicitName: false });
    assert.deepEqual(p.changes, [
      { kind: "deleteLoadBalancer", arn: "arn:lb/dup", name: "k8s-shop-web-dup" },
    ]);
  });

  it("sets subnets only when they are given and differ", () => {
    const p = plan({
      desired: desiredStack(),
      actual: convergedStack(),
      subnetIds: ["subnet-cccc3333"],
      explicitName: false,
    });
    assert.deepEqual(p.changes, [{ kind: "setSubnets", arn: "arn:lb/1", subnetIds: ["subnet-cccc3333"] }]);
  });
});

describe("planDeletion()", () => {
  it("deletes NLBs first, then target groups", () => {
    const p = planDeletion(convergedStack([80, 443]));
    assert.deepEqual(kinds(p), ["deleteLoadBalancer", "deleteTargetGroup", "deleteTargetGroup"]);
  });
  it("is empty for an empty stack", () => {
    assert.deepEqual(planDeletion({ loadBalancers: [], listeners: [], targetGroups: [] }).changes, []);
  });
});

describe("plan() for TLS listeners and fixed addresses", () => {
  const CERT_A = "arn:aws:acm:us-west-2:123456789012:certificate/a";
  const CERT_B = "arn:aws:acm:us-west-2:123456789012:certificate/b";
  const CERT_C = "arn:aws:acm:us-west-2:123456789012:certificate/c";
  const tls = () => {
    const desired = desiredStack([443]);
    desired.listeners[0] = {
      port: 443,
      protocol: "TLS",
      targetGroup: "shop/web:443",
      certificates: [CERT_A, CERT_B],
      sslPolicy: "ELBSecurityPolicy-2016-08",
    };
    return desired;
  };

  it("creates a TLS listener with its default certificate, then adds the others", () => {
    const actual = convergedStack([443]);
    actual.listeners = [];
    const p = plan({ desired: tls(), actual, subnetIds: [], explicitName: false });
    assert.deepEqual(kinds(p), ["createListener", "setListenerCertificates"]);
    assert.deepEqual(p.changes[1], {
      kind: "setListenerCertificates",
      listener: { port: 443 },
      add: [CERT_B],
      remove: [],
    });
  });

  it("changes only what differs: the default certificate by ModifyListener, extras by add/remove", () => {
    const actual = convergedStack([443]);
    actual.listeners[0] = {
      ...actual.listeners[0]!,
      protocol: "TLS",
      certificates: [CERT_A, CERT_C],
      sslPolicy: "ELBSecurityPolicy-2016-08",
    };
    const p = plan({ desired: tls(), actual, subnetIds: [], explicitName: false });
    assert.deepEqual(p.changes, [
      {
        kind: "setListenerCertificates",
        listener: { arn: "arn:listener/443" },
        add: [CERT_B],
        remove: [CERT_C],
      },
    ]);
    actual.listeners[0] = { ...actual.listeners[0]!, certificates: [CERT_B, CERT_A] };
    const q = plan({ desired: tls(), actual, subnetIds: [], explicitName: false });
    const modify = q.changes.find((c) => c.kind === "modifyListener");
    assert.ok(modify?.kind === "modifyListener");
    assert.deepEqual(modify.fields, ["certificates"]);
  });

  it("creates an NLB with its EIPs mapped to subnets, and replaces it when they change", () => {
    const desired = desiredStack();
    desired.loadBalancer.scheme = "internet-facing";
    desired.loadBalancer.eipAllocations = ["eipalloc-0aaaaaaa1", "eipalloc-0bbbbbbb2"];
    const mappings = [
      { subnetId: "subnet-aaaa1111", allocationId: "eipalloc-0aaaaaaa1" },
      { subnetId: "subnet-bbbb2222", allocationId: "eipalloc-0bbbbbbb2" },
    ];
    const empty = { loadBalancers: [], listeners: [], targetGroups: [] };
    const p = plan({
      desired,
      actual: empty,
      subnetIds: SUBNETS,
      explicitName: false,
      subnetMappings: mappings,
    });
    const create = p.changes.find((c) => c.kind === "createLoadBalancer");
    assert.ok(create?.kind === "createLoadBalancer");
    assert.deepEqual(create.subnetMappings, mappings);

    const actual = convergedStack();
    // An NLB whose addresses AWS does not list is never replaced on that unknown.
    actual.loadBalancers[0] = actualLb({ scheme: "internet-facing", addresses: [], reportsAddresses: false });
    assert.deepEqual(plan({ desired, actual, subnetIds: [], explicitName: false }).replacements, []);
    actual.loadBalancers[0] = actualLb({
      scheme: "internet-facing",
      reportsAddresses: true,
      addresses: [
        { subnetId: "subnet-aaaa1111", allocationId: "eipalloc-0aaaaaaa1" },
        { subnetId: "subnet-bbbb2222", allocationId: "eipalloc-0ccccccc3" },
      ],
    });
    const q = plan({ desired, actual, subnetIds: SUBNETS, explicitName: false, subnetMappings: mappings });
    assert.equal(q.changes[0]?.kind, "deleteLoadBalancer");
    assert.deepEqual(
      q.replacements.map((r) => r.field),
      ["eip-allocations"],
    );
    actual.loadBalancers[0] = actualLb({ scheme: "internet-facing", addresses: mappings });
    assert.deepEqual(plan({ desired, actual, subnetIds: [], explicitName: false }).changes, []);
  });
});

describe("plan() for listener attributes and IPv6 addresses", () => {
  const IDLE = "tcp.idle_timeout.seconds";
  const withIdle = (value?: string) => {
    const desired = desiredStack([80, 443]);
    if (value !== undefined) desired.listeners[0]!.attributes = { [IDLE]: value };
    return desired;
  };
  /** The converged stack, with what DescribeListenerAttributes said for port 80 (undefined: not read). */
  const actualWith = (attributes: Record<string, string> | undefined) => {
    const actual = convergedStack([80, 443]);
    if (attributes) actual.listeners[0]!.attributes = attributes;
    return actual;
  };
  const planOf = (desired: ReturnType<typeof desiredStack>, actual: ReturnType<typeof convergedStack>) =>
    plan({ desired, actual, subnetIds: [], explicitName: false });

  it("sets non-default attributes right after creating the listener, and nothing for the default", () => {
    const empty = { loadBalancers: [], listeners: [], targetGroups: [] };
    const p = plan({ desired: withIdle("600"), actual: empty, subnetIds: SUBNETS, explicitName: false });
    const at = kinds(p).indexOf("modifyListenerAttributes");
    assert.equal(kinds(p)[at - 1], "createListener");
    assert.deepEqual(p.changes[at], {
      kind: "modifyListenerAttributes",
      listener: { port: 80 },
      port: 80,
      attributes: { [IDLE]: "600" },
    });
    assert.equal(kinds(p).filter((k) => k === "modifyListenerAttributes").length, 1);
    const q = plan({ desired: withIdle("350"), actual: empty, subnetIds: SUBNETS, explicitName: false });
    assert.ok(!kinds(q).includes("modifyListenerAttributes"), "the default on create is a wasted call");
  });

  it("changes only what differs; an attribute AWS does not report is at its default", () => {
    assert.deepEqual(planOf(withIdle("350"), actualWith({})).changes, []);
    assert.deepEqual(planOf(withIdle(), actualWith({})).changes, []);
    assert.deepEqual(planOf(withIdle("600"), actualWith({ [IDLE]: "600" })).changes, []);
    assert.deepEqual(planOf(withIdle("600"), actualWith({})).changes, [
      {
        kind: "modifyListenerAttributes",
        listener: { arn: "arn:listener/80" },
        port: 80,
        attributes: { [IDLE]: "600" },
      },
    ]);
    assert.deepEqual(planOf(withIdle("900"), actualWith({ [IDLE]: "600" })).changes[0], {
      kind: "modifyListenerAttributes",
      listener: { arn: "arn:listener/80" },
      port: 80,
      attributes: { [IDLE]: "900" },
    });
  });

  it("leaves a listener's attributes as they are when the Service sets none", () => {
    assert.deepEqual(planOf(withIdle(), actualWith({ [IDLE]: "1800" })).changes, []);
  });

  it("leaves alone a listener whose attributes were not read", () => {
    assert.deepEqual(planOf(withIdle("600"), actualWith(undefined)).changes, []);
  });

  it("a listener that becomes TCP starts from the defaults, after its ModifyListener", () => {
    const actual = actualWith(undefined);
    actual.listeners[0]!.protocol = "TLS";
    const p = planOf(withIdle("600"), actual);
    assert.deepEqual(kinds(p), ["modifyListener", "modifyListenerAttributes"]);
  });

  it("never plans attributes for UDP listeners", () => {
    const desired = withIdle();
    desired.listeners[0]!.protocol = "UDP";
    const actual = actualWith({ [IDLE]: "600" });
    actual.listeners[0]!.protocol = "UDP";
    assert.deepEqual(planOf(desired, actual).changes, []);
  });

  it("creates an internal dualstack NLB with its IPv6 addresses mapped, and replaces it when AWS lists others", () => {
    const desired = desiredStack();
    desired.loadBalancer.ipAddressType = "dualstack";
    desired.loadBalancer.ipv6Addresses = ["2600:1f13:0:a::10", "2600:1f13:0:b::10"];
    const mappings = [
      { subnetId: "subnet-aaaa1111", ipv6Address: "2600:1f13:0:a::10" },
      { subnetId: "subnet-bbbb2222", ipv6Address: "2600:1f13:0:b::10" },
    ];
    const empty = { loadBalancers: [], listeners: [], targetGroups: [] };
    const p = plan({
      desired,
      actual: empty,
      subnetIds: SUBNETS,
      explicitName: false,
      subnetMappings: mappings,
    });
    const create = p.changes.find((c) => c.kind === "createLoadBalancer");
    assert.ok(create?.kind === "createLoadBalancer");
    assert.deepEqual(create.subnetMappings, mappings);

    const actual = convergedStack();
    actual.loadBalancers[0] = actualLb({
      ipAddressType: "dualstack",
      addresses: [],
      reportsAddresses: false,
    });
    assert.deepEqual(planOf(desired, actual).replacements, [], "not replaced on an unknown");
    actual.loadBalancers[0] = actualLb({
      ipAddressType: "dualstack",
      addresses: mappings,
      reportsAddresses: true,
    });
    assert.deepEqual(planOf(desired, actual).changes, []);
    actual.loadBalancers[0] = actualLb({
      ipAddressType: "dualstack",
      reportsAddresses: true,
      addresses: [mappings[0]!, { subnetId: "subnet-bbbb2222", ipv6Address: "2600:1f13:0:b::99" }],
    });
    const q = plan({ desired, actual, subnetIds: SUBNETS, explicitName: false, subnetMappings: mappings });
    assert.equal(q.changes[0]?.kind, "deleteLoadBalancer");
    assert.deepEqual(q.replacements, [
      {
        resource: "load balancer k8s-shop-web-0123456789",
        field: "ipv6-addresses",
        from: "2600:1f13:0:a::10,2600:1f13:0:b::99",
        to: "2600:1f13:0:a::10,2600:1f13:0:b::10",
      },
    ]);
  });

  it("does not replace a dualstack NLB for the IPv6 addresses AWS chose itself", () => {
    const desired = desiredStack();
    desired.loadBalancer.ipAddressType = "dualstack";
    const actual = convergedStack();
    actual.loadBalancers[0] = actualLb({
      ipAddressType: "dualstack",
      reportsAddresses: true,
      addresses: [{ subnetId: "subnet-aaaa1111", ipv6Address: "2600:1f13:0:a::4d2" }],
    });
    assert.deepEqual(planOf(desired, actual).changes, []);
  });
});
