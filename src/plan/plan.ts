import { RESOURCE_TAG } from "../model/tags.ts";
import type {
  ActualListener,
  ActualLoadBalancer,
  ActualStack,
  ActualTargetGroup,
  DesiredStack,
  HealthCheck,
  ListenerSpec,
  LoadBalancerSpec,
  TargetGroupSpec,
} from "../model/types.ts";
import type { Change, Plan, Replacement, SubnetMapping, TargetGroupRef } from "./changes.ts";
import { attributeChanges, sameSet, tagChanges } from "./compare.ts";
import { listenerAttributeChange } from "./listener-attributes.ts";

/** Attribute values a new NLB target group already has: setting them again would be a wasted call. */
export const TARGET_GROUP_DEFAULTS: Record<string, string> = {
  "proxy_protocol_v2.enabled": "false",
  "deregistration_delay.timeout_seconds": "300",
  "stickiness.enabled": "false",
  "deregistration_delay.connection_termination.enabled": "false",
};

export interface PlanInput {
  desired: DesiredStack;
  actual: ActualStack;
  /** Subnet IDs the NLB should sit in, resolved from the annotation or discovery. */
  subnetIds: string[];
  /** True when the user named the NLB (annotation); a generated name never forces a replacement. */
  explicitName: boolean;
  /** Subnets with their fixed addresses (EIPs, private IPv4), when the Service asks for them. */
  subnetMappings?: SubnetMapping[];
  /** The NLB's security group IDs, once resolved (the managed group, or the given ones). */
  securityGroupIds?: string[];
}

/**
 * Desired vs actual -> ordered changes. Order: replaced NLBs go first (an NLB name is unique and a
 * target group serves one NLB), then new target groups, in-place modifications, the NLB, listeners,
 * and last the target groups nothing forwards to any more.
 */
export function plan({
  desired,
  actual,
  subnetIds,
  explicitName,
  subnetMappings,
  securityGroupIds,
}: PlanInput): Plan {
  const changes: Change[] = [];
  const replacements: Replacement[] = [];

  const lb = chooseLoadBalancer(desired, actual.loadBalancers, explicitName, replacements);
  for (const other of actual.loadBalancers) {
    if (other !== lb) changes.push({ kind: "deleteLoadBalancer", arn: other.arn, name: other.name });
  }

  const tgRefs = new Map<string, TargetGroupRef>();
  const keptTgArns = new Set<string>();
  for (const spec of desired.targetGroups) {
    const candidates = actual.targetGroups.filter((tg) => tg.tags[RESOURCE_TAG] === spec.id);
    const keep = candidates.find((tg) => replacementFields(spec, tg).length === 0);
    if (!keep) {
      const old = candidates[0];
      if (old) {
        for (const [field, from, to] of replacementFields(spec, old)) {
          replacements.push({ resource: `target group ${spec.id}`, field, from, to });
        }
      }
      changes.push({ kind: "createTargetGroup", spec });
      const attrs = attributeChanges(spec.attributes, TARGET_GROUP_DEFAULTS);
      if (attrs)
        changes.push({ kind: "modifyTargetGroupAttributes", arn: "", id: spec.id, attributes: attrs });
      changes.push({
        kind: "registerTargets",
        targetGroup: { id: spec.id },
        id: spec.id,
        targets: spec.targets,
      });
      tgRefs.set(spec.id, { id: spec.id });
      continue;
    }
    keptTgArns.add(keep.arn);
    tgRefs.set(spec.id, { arn: keep.arn });
    if (!sameHealthCheck(spec.healthCheck, keep.healthCheck)) {
      changes.push({
        kind: "modifyTargetGroupHealthCheck",
        arn: keep.arn,
        id: spec.id,
        healthCheck: spec.healthCheck,
      });
    }
    // An attribute AWS does not report is at its default (emulators omit some).
    const attrs = attributeChanges(spec.attributes, { ...TARGET_GROUP_DEFAULTS, ...keep.attributes });
    if (attrs)
      changes.push({ kind: "modifyTargetGroupAttributes", arn: keep.arn, id: spec.id, attributes: attrs });
    const tags = tagChanges(spec.tags, keep.tags);
    if (tags)
      changes.push({ kind: "updateTags", arn: keep.arn, resource: `target group ${spec.id}`, ...tags });
  }

  const groups = securityGroupIds?.length ? [...new Set(securityGroupIds)] : undefined;
  const privateLink = desired.securityGroups.privateLinkInboundRules;
  if (!lb) {
    changes.push({
      kind: "createLoadBalancer",
      spec: desired.loadBalancer,
      subnetMappings: subnetMappings ?? subnetIds.map((subnetId) => ({ subnetId })),
      ...(groups ? { securityGroups: groups } : {}),
    });
    // CreateLoadBalancer cannot take it; a new NLB enforces the rules (on), so only off needs a call.
    if (groups && privateLink === "off")
      changes.push({
        kind: "setSecurityGroups",
        arn: "",
        securityGroups: groups,
        privateLinkInboundRules: "off",
      });
  } else {
    changes.push(...loadBalancerChanges(desired, lb, subnetIds));
    // An NLB created without security groups cannot get any (AWS): it is left as it is.
    const privateLinkDiffers =
      privateLink !== undefined && privateLink !== (lb.privateLinkInboundRules ?? "on").toLowerCase();
    if (groups && lb.securityGroups.length > 0 && (!sameSet(groups, lb.securityGroups) || privateLinkDiffers))
      changes.push({
        kind: "setSecurityGroups",
        arn: lb.arn,
        securityGroups: groups,
        ...(privateLink ? { privateLinkInboundRules: privateLink } : {}),
      });
  }

  const actualListeners = lb ? actual.listeners.filter((l) => l.loadBalancerArn === lb.arn) : [];
  const desiredPorts = new Set(desired.listeners.map((l) => l.port));
  for (const listener of actualListeners) {
    if (!desiredPorts.has(listener.port)) {
      changes.push({ kind: "deleteListener", arn: listener.arn, port: listener.port });
    }
  }
  for (const spec of desired.listeners) {
    const targetGroup = tgRefs.get(spec.targetGroup);
    if (!targetGroup) continue; // build() always pairs a listener with a target group
    const current = actualListeners.find((l) => l.port === spec.port);
    const extras = spec.protocol === "TLS" ? (spec.certificates ?? []).slice(1) : [];
    if (!current) {
      changes.push({ kind: "createListener", spec, targetGroup, tags: desired.loadBalancer.tags });
      if (extras.length > 0) {
        changes.push({
          kind: "setListenerCertificates",
          listener: { port: spec.port },
          add: extras,
          remove: [],
        });
      }
      const attrs = listenerAttributeChange(spec, undefined);
      if (attrs) changes.push(attrs);
      continue;
    }
    const fields = listenerDifferences(spec, current, targetGroup);
    if (fields.length > 0)
      changes.push({ kind: "modifyListener", arn: current.arn, spec, targetGroup, fields });
    const attrs = listenerAttributeChange(spec, current);
    if (attrs) changes.push(attrs);
    const haveExtras = current.protocol === "TLS" ? (current.certificates ?? []).slice(1) : [];
    const add = extras.filter((c) => !haveExtras.includes(c));
    // The new default certificate is set by ModifyListener: it must not be removed as an extra.
    const remove =
      spec.protocol === "TLS"
        ? haveExtras.filter((c) => !extras.includes(c) && c !== spec.certificates?.[0])
        : [];
    if (add.length > 0 || remove.length > 0) {
      changes.push({ kind: "setListenerCertificates", listener: { arn: current.arn }, add, remove });
    }
  }

  for (const tg of actual.targetGroups) {
    if (!keptTgArns.has(tg.arn)) {
      changes.push({
        kind: "deleteTargetGroup",
        arn: tg.arn,
        id: tg.tags[RESOURCE_TAG] ?? "",
        name: tg.name,
      });
    }
  }
  return { changes, replacements };
}

/** The NLB a plan keeps: none when it creates one, else the one it does not delete. */
export function keptLoadBalancer(
  { changes }: Plan,
  loadBalancers: ActualLoadBalancer[],
): ActualLoadBalancer | undefined {
  if (changes.some((c) => c.kind === "createLoadBalancer")) return undefined;
  return loadBalancers.find(
    (lb) => !changes.some((c) => c.kind === "deleteLoadBalancer" && c.arn === lb.arn),
  );
}

/** Every change that removes the stack: NLBs first (their listeners go with them), then target groups. */
export function planDeletion(actual: ActualStack): Plan {
  const changes: Change[] = [
    ...actual.loadBalancers.map((lb): Change => ({ kind: "deleteLoadBalancer", arn: lb.arn, name: lb.name })),
    ...actual.targetGroups.map(
      (tg): Change => ({
        kind: "deleteTargetGroup",
        arn: tg.arn,
        id: tg.tags[RESOURCE_TAG] ?? "",
        name: tg.name,
      }),
    ),
  ];
  return { changes, replacements: [] };
}

function chooseLoadBalancer(
  desired: DesiredStack,
  actual: ActualLoadBalancer[],
  explicitName: boolean,
  replacements: Replacement[],
): ActualLoadBalancer | undefined {
  const want = desired.loadBalancer;
  const fits = (lb: ActualLoadBalancer) =>
    lb.scheme === want.scheme &&
    lb.type === want.type &&
    (!explicitName || lb.name === want.name) &&
    addressDifferences(want, lb).length === 0;
  const keep = actual.find((lb) => fits(lb) && lb.name === want.name) ?? actual.find(fits);
  if (keep) return keep;
  const old = actual[0];
  if (old) {
    const resource = `load balancer ${old.name}`;
    if (old.scheme !== want.scheme)
      replacements.push({ resource, field: "scheme", from: old.scheme, to: want.scheme });
    if (old.type !== want.type) replacements.push({ resource, field: "type", from: old.type, to: want.type });
    if (explicitName && old.name !== want.name) {
      replacements.push({ resource, field: "name", from: old.name, to: want.name });
    }
    for (const [field, from, to] of addressDifferences(want, old))
      replacements.push({ resource, field, from, to });
  }
  return undefined;
}

function loadBalancerChanges(desired: DesiredStack, lb: ActualLoadBalancer, subnetIds: string[]): Change[] {
  const changes: Change[] = [];
  const want = desired.loadBalancer;
  if (subnetIds.length > 0 && !sameSet(subnetIds, lb.subnets)) {
    changes.push({ kind: "setSubnets", arn: lb.arn, subnetIds });
  }
  if (lb.ipAddressType !== want.ipAddressType) {
    changes.push({ kind: "setIpAddressType", arn: lb.arn, ipAddressType: want.ipAddressType });
  }
  const attrs = attributeChanges(want.attributes, lb.attributes);
  if (attrs) changes.push({ kind: "modifyLoadBalancerAttributes", arn: lb.arn, attributes: attrs });
  const tags = tagChanges(want.tags, lb.tags);
  if (tags) changes.push({ kind: "updateTags", arn: lb.arn, resource: `load balancer ${lb.name}`, ...tags });
  return changes;
}

/** Fields AWS cannot change on a target group: [field, actual, desired]. */
export function replacementFields(spec: TargetGroupSpec, tg: ActualTargetGroup): [string, string, string][] {
  const out: [string, string, string][] = [];
  const check = (field: string, actual: string | number, want: string | number) => {
    if (String(actual).toLowerCase() !== String(want).toLowerCase())
      out.push([field, String(actual), String(want)]);
  };
  check("protocol", tg.protocol, spec.protocol);
  check("port", tg.port, spec.port);
  check("targetType", tg.targetType, spec.targetType);
  check("ipAddressType", tg.ipAddressType, spec.ipAddressType);
  return out;
}

export function sameHealthCheck(want: HealthCheck, have: HealthCheck): boolean {
  const http = want.protocol !== "TCP";
  return (
    want.protocol === have.protocol &&
    String(want.port) === String(have.port) &&
    want.intervalSeconds === have.intervalSeconds &&
    want.timeoutSeconds === have.timeoutSeconds &&
    want.healthyThresholdCount === have.healthyThresholdCount &&
    want.unhealthyThresholdCount === have.unhealthyThresholdCount &&
    (!http ||
      ((want.path ?? "/") === (have.path ?? "/") && want.matcher?.httpCode === have.matcher?.httpCode))
  );
}

function listenerDifferences(
  spec: ListenerSpec,
  have: ActualListener,
  targetGroup: TargetGroupRef,
): string[] {
  const fields: string[] = [];
  if (spec.protocol !== have.protocol) fields.push("protocol");
  if (!("arn" in targetGroup) || targetGroup.arn !== have.targetGroupArn) fields.push("defaultAction");
  if (spec.protocol === "TLS") {
    if ((spec.certificates?.[0] ?? "") !== (have.certificates?.[0] ?? "")) fields.push("certificates");
    if ((spec.sslPolicy ?? "") !== (have.sslPolicy ?? "")) fields.push("sslPolicy");
    if ((spec.alpnPolicy ?? "None") !== (have.alpnPolicy ?? "None")) fields.push("alpnPolicy");
  }
  return fields;
}

/** Fixed addresses can only be chosen when an NLB is created: [field, actual, desired] that differ. */
function addressDifferences(want: LoadBalancerSpec, lb: ActualLoadBalancer): [string, string, string][] {
  const out: [string, string, string][] = [];
  const have = lb.addresses ?? [];
  const compare = (field: string, desired: string[] | undefined, actual: string[]) => {
    const d = [...(desired ?? [])].sort();
    const a = [...actual].sort();
    if (d.join() === a.join()) return;
    // "None" is only trusted when AWS listed the NLB's addresses: replacing an NLB on an unknown is
    // not a risk worth taking.
    if (a.length === 0 && !lb.reportsAddresses) return;
    out.push([field, a.join(",") || "none", d.join(",") || "none"]);
  };
  compare(
    "eip-allocations",
    want.eipAllocations,
    have.flatMap((x) => (x.allocationId ? [x.allocationId] : [])),
  );
  // An internal NLB has private addresses, and a dualstack one IPv6 addresses, whether or not they
  // were chosen: only chosen ones are compared, so an unchosen address never replaces an NLB.
  if (want.privateIpv4Addresses) {
    compare(
      "private-ipv4-addresses",
      want.privateIpv4Addresses,
      have.flatMap((x) => (x.privateIpv4Address ? [x.privateIpv4Address] : [])),
    );
  }
  if (want.ipv6Addresses) {
    compare(
      "ipv6-addresses",
      want.ipv6Addresses,
      have.flatMap((x) => (x.ipv6Address ? [x.ipv6Address] : [])),
    );
  }
  return out;
}
