// Security group rules: desired vs actual -> rules to authorize and rule IDs to revoke. Only rules
// the controller tagged as its own are ever in `actual`, so nothing else can be revoked.
import { backendPortsOf, ruleKey, targetSecurityGroup } from "../model/security-groups.ts";
import type { ActualRule, DesiredStack, IngressRule, TargetSecurityGroup } from "../model/types.ts";

export interface RuleChanges {
  /** security group ID -> rules to add (added before anything is revoked). */
  authorize: Map<string, IngressRule[]>;
  /** security group ID -> IDs of rules to revoke. */
  revoke: Map<string, string[]>;
}

export interface WantedRule {
  groupId: string;
  rule: IngressRule;
}

export function planRules(wanted: WantedRule[], actual: ActualRule[]): RuleChanges {
  const have = new Set(actual.map((r) => ruleKey(r.groupId, r)));
  const want = new Set<string>();
  const authorize = new Map<string, IngressRule[]>();
  for (const { groupId, rule } of wanted) {
    const key = ruleKey(groupId, rule);
    if (want.has(key)) continue;
    want.add(key);
    if (!have.has(key)) authorize.set(groupId, [...(authorize.get(groupId) ?? []), rule]);
  }
  const revoke = new Map<string, string[]>();
  const kept = new Set<string>();
  for (const rule of actual) {
    const key = ruleKey(rule.groupId, rule);
    // A duplicate of a kept rule (two listings of one rule) is revoked only by its own ID.
    if (want.has(key) && !kept.has(key)) {
      kept.add(key);
      continue;
    }
    revoke.set(rule.groupId, [...(revoke.get(rule.groupId) ?? []), rule.id]);
  }
  return { authorize, revoke };
}

export interface BackendRules {
  wanted: WantedRule[];
  /** Targets whose security group could not be chosen, with why. */
  unresolved: { target: string; problem: string }[];
}

/**
 * The rules the targets' security groups need: each traffic and health-check port from the NLB's
 * security group. Contiguous ports of one protocol share a rule, which keeps the group's rule count
 * (60 by default) from running out.
 */
export function backendRulesFor(
  desired: DesiredStack,
  sourceGroup: string,
  groupsOfTarget: (targetId: string) => TargetSecurityGroup[] | undefined,
  clusterName: string,
): BackendRules {
  const ports = new Map<string, Map<"tcp" | "udp", Set<number>>>();
  const unresolved: BackendRules["unresolved"] = [];
  const seen = new Set<string>();
  for (const tg of desired.targetGroups) {
    for (const [target, targetPorts] of backendPortsOf(tg)) {
      const groups = groupsOfTarget(target);
      if (groups === undefined) {
        if (!seen.has(target)) unresolved.push({ target, problem: "no network interface has this address" });
        seen.add(target);
        continue;
      }
      const chosen = targetSecurityGroup(groups, clusterName);
      if ("problem" in chosen) {
        if (!seen.has(target)) unresolved.push({ target, problem: chosen.problem });
        seen.add(target);
        continue;
      }
      const byProtocol = ports.get(chosen.id) ?? new Map<"tcp" | "udp", Set<number>>();
      ports.set(chosen.id, byProtocol);
      for (const { protocol, port } of targetPorts) {
        const set = byProtocol.get(protocol) ?? new Set<number>();
        set.add(port);
        byProtocol.set(protocol, set);
      }
    }
  }
  const wanted: WantedRule[] = [];
  for (const [groupId, byProtocol] of [...ports].sort(([a], [b]) => (a < b ? -1 : 1))) {
    for (const protocol of ["tcp", "udp"] as const) {
      for (const [fromPort, toPort] of ranges(byProtocol.get(protocol) ?? new Set())) {
        wanted.push({ groupId, rule: { protocol, fromPort, toPort, source: { group: sourceGroup } } });
      }
    }
  }
  return { wanted, unresolved };
}

function ranges(ports: Set<number>): [number, number][] {
  const sorted = [...ports].sort((a, b) => a - b);
  const out: [number, number][] = [];
  for (const port of sorted) {
    const last = out.at(-1);
    if (last && port === last[1] + 1) last[1] = port;
    else out.push([port, port]);
  }
  return out;
}

/** AWS gives an NLB security groups only when it is created: one made without keeps having none. */
export function canHaveSecurityGroups(kept: { securityGroups: string[] } | undefined): boolean {
  return kept === undefined || kept.securityGroups.length > 0;
}

export interface Handover {
  /** Rules no other Service needs: revoke them. */
  revoke: Map<string, string[]>;
  /** Rules another Service of the cluster also relies on (one rule serves both): re-tag to it instead. */
  handOver: { ruleId: string; stack: string }[];
}

/**
 * AWS keeps one rule per group, protocol, ports and source, whoever asked for it: when two Services
 * share a given security group, one tagged rule serves both. Before a rule is revoked, a Service that
 * still relies on it takes it over, so deleting one Service never cuts another off.
 */
export function handOverShared(
  revoke: Map<string, string[]>,
  actual: ActualRule[],
  self: string,
  reliedOn: Map<string, Set<string>>,
): Handover {
  const byId = new Map(actual.map((r) => [r.id, r]));
  const out: Handover = { revoke: new Map(), handOver: [] };
  for (const [groupId, ids] of revoke) {
    for (const id of ids) {
      const rule = byId.get(id);
      const key = rule ? ruleKey(rule.groupId, rule) : undefined;
      const heir = key
        ? [...reliedOn].find(([stack, keys]) => stack !== self && keys.has(key))?.[0]
        : undefined;
      if (heir) out.handOver.push({ ruleId: id, stack: heir });
      else out.revoke.set(groupId, [...(out.revoke.get(groupId) ?? []), id]);
    }
  }
  return out;
}

/**
 * While some targets' groups are unknown, rules from the current source stay: revoking one could cut
 * a target whose interface simply could not be looked up. Rules from former sources still go.
 */
export function keepingCurrentSource(
  changes: RuleChanges,
  actual: ActualRule[],
  source: string,
): RuleChanges {
  const current = new Set(
    actual.filter((r) => "group" in r.source && r.source.group === source).map((r) => r.id),
  );
  const revoke = new Map<string, string[]>();
  for (const [groupId, ids] of changes.revoke) {
    const rest = ids.filter((id) => !current.has(id));
    if (rest.length > 0) revoke.set(groupId, rest);
  }
  return { authorize: changes.authorize, revoke };
}

/**
 * The backend rule changes: while some targets' groups are unknown (`complete` false), rules from the
 * current source stay, since a target whose interface could not be looked up may be behind one.
 */
export function planBackendRules(
  wanted: WantedRule[],
  actual: ActualRule[],
  source: string,
  complete: boolean,
): RuleChanges {
  const planned = planRules(wanted, actual);
  return complete ? planned : keepingCurrentSource(planned, actual, source);
}
