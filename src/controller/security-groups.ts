// The security group steps of a stack reconcile. Decisions come from model/ and plan/; this file
// only orders the calls: new rules before the NLB changes, revocations and deletions after.
import {
  authorizeRules,
  createSecurityGroup,
  deleteSecurityGroup,
  type OwnedSecurityState,
  observeSecurityGroups,
  resolveSecurityGroups,
  retagRule,
  revokeRules,
} from "../aws/security-groups.ts";
import { keyOf } from "../kube/informer.ts";
import { annotationTable } from "../model/annotations.ts";
import { build } from "../model/build.ts";
import { podInstances, ruleKey } from "../model/security-groups.ts";
import { isSelected } from "../model/selection.ts";
import {
  BACKEND_RULE_RESOURCE,
  ownershipTags,
  RESOURCE_TAG,
  SECURITY_GROUP_RESOURCE,
} from "../model/tags.ts";
import type { ActualRule, DesiredStack, Service, TargetSecurityGroup } from "../model/types.ts";
import {
  backendRulesFor,
  handOverShared,
  planBackendRules,
  planRules,
  type RuleChanges,
  type WantedRule,
} from "../plan/security-groups.ts";
import type { ControllerContext } from "./context.ts";

/** What the target loop needs to add backend rules for new targets without reading them back. */
export interface BackendRuleMemo {
  source: string;
  /** Keys of the backend rules known to be in place. */
  have: Set<string>;
}

export interface SecurityGroupPhase {
  /** The NLB's security group IDs; undefined when the NLB cannot have any. */
  ids?: string[];
  /** What was done, one entry per group or rule (for the Service's event). */
  done: string[];
  /** Revokes what is no longer wanted and deletes unused groups: run after the NLB changes. */
  finish: () => Promise<void>;
}

/** Security group work is put off while AWS still holds a group in use; not the user's problem. */
export class SecurityGroupBusyError extends Error {
  override name = "SecurityGroupBusyError";
}

export async function prepareSecurityGroups(
  ctx: ControllerContext,
  key: string,
  svc: Service,
  desired: DesiredStack,
  canHave: boolean,
): Promise<SecurityGroupPhase> {
  const state =
    fromSnapshot(ctx, key) ?? (await observeSecurityGroups(ctx.aws.ec2, ctx.build.clusterName, key));
  const spec = desired.securityGroups;
  const done: string[] = [];
  const note = (kind: string, count: number) => {
    for (let i = 0; i < count; i++) done.push(kind);
  };
  if (!canHave) {
    await reportUnavailable(ctx, svc, desired);
    ctx.backendRules.delete(key);
    return { done, finish: () => removeAll(ctx, key, state) };
  }
  if (spec.ignored?.length)
    await ctx.writer.event(
      svc,
      "Warning",
      "UnsupportedAnnotation",
      `${spec.ignored.join(", ")} apply only to the managed frontend security group and are ignored: the Service names its own security groups (${annotationTable.securityGroups.key})`,
    );
  let ids: string[];
  let keep: string | undefined;
  if (spec.managed) {
    const managed = spec.managed;
    const existing = managedGroupOf(state, managed.name);
    const id = existing?.id ?? (await createSecurityGroup(ctx.aws.ec2, managed, ctx.vpcId));
    if (!existing) done.push("createSecurityGroup");
    keep = id;
    const frontend = planRules(
      managed.ingress.map((rule) => ({ groupId: id, rule })),
      state.rules.filter((r) => r.groupId === id),
    );
    note(
      "authorizeListenerRule",
      await authorizeAll(ctx, frontend, ruleTags(ctx, key, SECURITY_GROUP_RESOURCE)),
    );
    note("revokeListenerRule", await revokeAll(ctx, frontend));
    ids = [id];
  } else {
    ids = await resolveSecurityGroups(ctx.aws.ec2, ctx.vpcId, spec.given ?? []);
  }

  const backendActual = backendRulesOf(state);
  let backend: RuleChanges = planRules([], backendActual);
  const source = ids[0];
  if (spec.manageBackendRules && source) {
    backend = await authorizeBackend(ctx, key, svc, desired, source, backendActual);
    note("authorizeBackendRule", [...backend.authorize.values()].flat().length);
  } else {
    ctx.backendRules.delete(key);
  }
  return {
    ids,
    done,
    finish: async () => {
      const owned = new Set(state.groups.map((g) => g.id));
      note("revokeBackendRule", await revokeBackend(ctx, key, backend, backendActual, owned));
      const unused = state.groups.filter((g) => g.id !== keep);
      await deleteGroups(ctx, unused);
      note("deleteSecurityGroup", unused.length);
    },
  };
}

/** The target loop's share: rules for targets on security groups not seen before; never revokes. */
export async function addMissingBackendRules(
  ctx: ControllerContext,
  key: string,
  svc: Service,
  desired: DesiredStack,
): Promise<void> {
  const memo = ctx.backendRules.get(key);
  if (!memo || !desired.securityGroups.manageBackendRules) return;
  const { wanted } = await wantedBackendRules(ctx, key, svc, desired, memo.source);
  const missing = wanted.filter((w) => !memo.have.has(ruleKey(w.groupId, w.rule)));
  if (missing.length === 0) return;
  await authorizeAll(ctx, planRules(missing, []), ruleTags(ctx, key, BACKEND_RULE_RESOURCE));
  for (const w of missing) memo.have.add(ruleKey(w.groupId, w.rule));
}

/**
 * After a restart the stack is trusted from its fingerprint, but the backend rules are read once
 * (two reads) so the target loop knows what is in place. False when the managed group is missing.
 */
export async function syncBackendRules(
  ctx: ControllerContext,
  key: string,
  svc: Service,
  desired: DesiredStack,
): Promise<boolean> {
  const spec = desired.securityGroups;
  if (!spec.manageBackendRules) return true;
  if (ctx.backendRules.has(key)) {
    await addMissingBackendRules(ctx, key, svc, desired);
    return true;
  }
  const state =
    fromSnapshot(ctx, key) ?? (await observeSecurityGroups(ctx.aws.ec2, ctx.build.clusterName, key));
  const source = spec.managed
    ? managedGroupOf(state, spec.managed.name)?.id
    : (await resolveSecurityGroups(ctx.aws.ec2, ctx.vpcId, spec.given ?? []))[0];
  if (!source) return false;
  const backendActual = backendRulesOf(state);
  const backend = await authorizeBackend(ctx, key, svc, desired, source, backendActual);
  await revokeBackend(ctx, key, backend, backendActual, new Set(state.groups.map((g) => g.id)));
  return true;
}

const backendRulesOf = (state: OwnedSecurityState): ActualRule[] =>
  state.rules.filter((r) => r.tags[RESOURCE_TAG] === BACKEND_RULE_RESOURCE);

/**
 * Plans the backend rules from `source`, adds the missing ones and records them for the target loop;
 * returns the plan, whose revocations the caller makes once nothing relies on them any more.
 */
async function authorizeBackend(
  ctx: ControllerContext,
  key: string,
  svc: Service,
  desired: DesiredStack,
  source: string,
  actual: ActualRule[],
): Promise<RuleChanges> {
  const { wanted, complete } = await wantedBackendRules(ctx, key, svc, desired, source);
  const backend = planBackendRules(wanted, actual, source, complete);
  await authorizeAll(ctx, backend, ruleTags(ctx, key, BACKEND_RULE_RESOURCE));
  ctx.backendRules.set(key, { source, have: new Set(wanted.map((w) => ruleKey(w.groupId, w.rule))) });
  return backend;
}

/**
 * The stack's frontend group: ours by name, else one the AWS Load Balancer Controller made for it (same
 * tags, its own name), which is adopted as it is rather than replaced.
 */
export function managedGroupOf(
  state: OwnedSecurityState,
  name: string,
): OwnedSecurityState["groups"][number] | undefined {
  return (
    state.groups.find((g) => g.name === name) ??
    state.groups.find((g) => g.tags[RESOURCE_TAG] === SECURITY_GROUP_RESOURCE)
  );
}

const SNAPSHOT_MAX_AGE_MS = 5 * 60_000;

/** The start-up scan's view of one stack, once: later reconciles read AWS again. */
function fromSnapshot(ctx: ControllerContext, key: string): OwnedSecurityState | undefined {
  const snapshot = ctx.securityGroupSnapshot;
  if (!snapshot || Date.now() - snapshot.at > SNAPSHOT_MAX_AGE_MS) return undefined;
  if (snapshot.used.has(key)) return undefined;
  snapshot.used.add(key);
  return snapshot.byStack.get(key) ?? { groups: [], rules: [] };
}

/** Deletion: the NLB is gone already; its backend rules go, then its groups (retried while in use). */
export async function deleteSecurityGroups(ctx: ControllerContext, key: string): Promise<number> {
  const state = await observeSecurityGroups(ctx.aws.ec2, ctx.build.clusterName, key);
  ctx.backendRules.delete(key);
  await removeAll(ctx, key, state);
  return state.groups.length;
}

async function removeAll(ctx: ControllerContext, key: string, state: OwnedSecurityState): Promise<void> {
  const owned = new Set(state.groups.map((g) => g.id));
  // Rules inside our own groups go with the groups.
  const backend = state.rules.filter((r) => !owned.has(r.groupId));
  await revokeBackend(ctx, key, planRules([], backend), backend, owned);
  await deleteGroups(ctx, state.groups);
}

/** Revokes backend rules, except those another Service relies on: those are handed over to it. */
async function revokeBackend(
  ctx: ControllerContext,
  key: string,
  changes: RuleChanges,
  actual: ActualRule[],
  ownGroups: Set<string>,
): Promise<number> {
  if (changes.revoke.size === 0) return 0;
  // A rule from this Service's managed group is its alone: no one to hand it to.
  const revoked = new Set([...changes.revoke.values()].flat());
  const shareable = actual.some(
    (r) => revoked.has(r.id) && "group" in r.source && !ownGroups.has(r.source.group),
  );
  const others = shareable ? await reliedOn(ctx, key) : new Map<string, Set<string>>();
  const { revoke, handOver } = handOverShared(changes.revoke, actual, key, others);
  for (const { ruleId, stack } of handOver) await retagRule(ctx.aws.ec2, ruleId, stack);
  return revokeAll(ctx, { authorize: new Map(), revoke });
}

/**
 * Which backend rules the other Services need, computed from what they are (their manifests, through
 * build()), not from what this process remembers: right after a restart, or while another Service's
 * reconcile is under way, memory would miss some. Only Services naming their own groups can share a
 * rule with another (a managed group is one Service's), so only they are looked at.
 */
async function reliedOn(ctx: ControllerContext, self: string): Promise<Map<string, Set<string>>> {
  const out = new Map<string, Set<string>>();
  for (const svc of ctx.services.values()) {
    const key = keyOf(svc.metadata);
    if (key === self || svc.metadata.deletionTimestamp || !isSelected(svc, ctx.build.loadBalancerClass))
      continue;
    const built = build(svc, ctx.slices.byIndex(key), ctx.nodes.all(), ctx.build, ctx.pods);
    if (!built.ok) continue;
    const spec = built.stack.securityGroups;
    if (!spec.given || !spec.manageBackendRules) continue;
    try {
      const [source] = await resolveSecurityGroups(ctx.aws.ec2, ctx.vpcId, spec.given);
      if (!source) continue;
      const lookup = await lookupTargets(ctx, svc, built.stack);
      const { wanted } = backendRulesFor(built.stack, source, lookup, ctx.build.clusterName);
      out.set(key, new Set(wanted.map((w) => ruleKey(w.groupId, w.rule))));
    } catch {
      // Its groups cannot be resolved now: it gets its rules back at its own next reconcile.
    }
  }
  return out;
}

async function deleteGroups(ctx: ControllerContext, groups: { id: string; name: string }[]): Promise<void> {
  const busy: string[] = [];
  for (const g of groups)
    if (!(await deleteSecurityGroup(ctx.aws.ec2, g.id))) busy.push(`${g.name} (${g.id})`);
  if (busy.length > 0)
    throw new SecurityGroupBusyError(
      `security group ${busy.join(", ")} is still in use; deletion is retried`,
    );
}

/** Each target's interface groups; a pod IP no interface lists falls back to its node's (prefix delegation). */
async function lookupTargets(
  ctx: ControllerContext,
  svc: Service,
  desired: DesiredStack,
): Promise<(target: string) => TargetSecurityGroup[] | undefined> {
  const targets = desired.targetGroups.flatMap((tg) => tg.targets.map((t) => t.id));
  const nodeOf = podInstances(svc, ctx.slices.byIndex(keyOf(svc.metadata)), ctx.nodes.all());
  ctx.targetSecurityGroups.forgetMoved(nodeOf);
  const lookup = await ctx.targetSecurityGroups.load(targets);
  const missing = targets.filter((t) => lookup(t) === undefined);
  if (missing.length === 0) return lookup;
  const instances = missing.flatMap((t) => nodeOf.get(t) ?? []);
  if (instances.length === 0) return lookup;
  const viaNode = await ctx.targetSecurityGroups.load([...targets, ...instances]);
  return (target) => {
    const instance = nodeOf.get(target);
    return viaNode(target) ?? (instance ? viaNode(instance) : undefined);
  };
}

/** The backend rules the Service's targets need; `complete` is false while some target's group is unknown. */
async function wantedBackendRules(
  ctx: ControllerContext,
  key: string,
  svc: Service,
  desired: DesiredStack,
  source: string,
): Promise<{ wanted: WantedRule[]; complete: boolean }> {
  const lookup = await lookupTargets(ctx, svc, desired);
  const { wanted, unresolved } = backendRulesFor(desired, source, lookup, ctx.build.clusterName);
  const shown = unresolved.slice(0, 5).map((u) => `${u.target}: ${u.problem}`);
  const signature = shown.join("; ") + (unresolved.length > 5 ? ` and ${unresolved.length - 5} more` : "");
  // Said once per distinct set, not at every endpoint change.
  if (unresolved.length > 0 && ctx.unresolvedTargets.get(key) !== signature) {
    await ctx.writer.event(
      svc,
      "Warning",
      "BackendSecurityGroupUnresolved",
      `No backend security group rule could be added for ${signature}; rules already in place from the NLB's group are kept`,
    );
  }
  if (unresolved.length > 0) ctx.unresolvedTargets.set(key, signature);
  else ctx.unresolvedTargets.delete(key);
  return { wanted, complete: unresolved.length === 0 };
}

/** Returns how many rules were asked for. */
async function authorizeAll(
  ctx: ControllerContext,
  changes: RuleChanges,
  tags: Record<string, string>,
): Promise<number> {
  let n = 0;
  for (const [groupId, rules] of changes.authorize) {
    await authorizeRules(ctx.aws.ec2, groupId, rules, tags);
    n += rules.length;
  }
  return n;
}

/** Returns how many rules were revoked. */
async function revokeAll(ctx: ControllerContext, changes: RuleChanges): Promise<number> {
  let n = 0;
  for (const [groupId, ids] of changes.revoke) {
    await revokeRules(ctx.aws.ec2, groupId, ids);
    n += ids.length;
  }
  return n;
}

function ruleTags(ctx: ControllerContext, key: string, resource: string): Record<string, string> {
  return { ...ctx.build.defaultTags, ...ownershipTags(ctx.build.clusterName, key, resource) };
}

async function reportUnavailable(ctx: ControllerContext, svc: Service, desired: DesiredStack): Promise<void> {
  const asked = desired.securityGroups.settings ?? [];
  await ctx.writer.event(
    svc,
    asked.length > 0 ? "Warning" : "Normal",
    "SecurityGroupsUnavailable",
    `NLB ${desired.loadBalancer.name} was created without security groups and AWS cannot add them later: no frontend security group and no backend rules are managed for it${asked.length > 0 ? ` (${asked.join(", ")} do not apply)` : ""}; a new NLB (for example a new aws-load-balancer-name) gets them`,
  );
}
