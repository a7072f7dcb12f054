import { applyChanges } from "../aws/apply.ts";
import { observeStack } from "../aws/observe.ts";
import { SecurityGroupLookupError } from "../aws/security-groups.ts";
import { sharesTargetGroups } from "../model/annotations.ts";
import { build } from "../model/build.ts";
import {
  alreadyApplied,
  currentCondition,
  failedCondition,
  invalidCondition,
  RECONCILED_CONDITION,
  reconciledCondition,
  sameCondition,
  withoutSecurityGroups,
} from "../model/condition.ts";
import { listenerAttributePorts } from "../model/listener-attributes.ts";
import { isSelected, lookalikeWarnings } from "../model/selection.ts";
import { desiredIngress, ingressEqual } from "../model/status.ts";
import { chooseSubnets, subnetMappings } from "../model/subnets.ts";
import { FINALIZER, RESOURCE_TAG } from "../model/tags.ts";
import type { DesiredStack, Service } from "../model/types.ts";
import { replacementMessage, type SubnetMapping } from "../plan/changes.ts";
import { keptLoadBalancer, plan, planDeletion } from "../plan/plan.ts";
import { canHaveSecurityGroups } from "../plan/security-groups.ts";
import type { ControllerContext } from "./context.ts";
import { describeError } from "./describe-error.ts";
import {
  deleteSecurityGroups,
  prepareSecurityGroups,
  SecurityGroupBusyError,
  syncBackendRules,
} from "./security-groups.ts";
import { dropRecord, recordFor } from "./shared-targets.ts";

const NAME_ANNOTATION = "service.beta.kubernetes.io/aws-load-balancer-name";

/** The stack loop: one Service key -> its NLB, listeners and target groups, status, finalizer, events. */
export async function reconcileStack(ctx: ControllerContext, key: string): Promise<void> {
  const svc = ctx.services.get(key);
  if (!svc) {
    ctx.stackTargetGroups.delete(key);
    ctx.backendRules.delete(key);
    ctx.records.forget(key);
    return;
  }
  const hasFinalizer = svc.metadata.finalizers?.includes(FINALIZER) ?? false;
  const selected = isSelected(svc, ctx.build.loadBalancerClass);
  if (svc.metadata.deletionTimestamp || !selected) {
    if (hasFinalizer) await cleanUp(ctx, key, svc);
    return;
  }

  for (const warning of lookalikeWarnings(svc))
    await ctx.writer.event(svc, "Warning", "UnsupportedAnnotation", warning);
  const result = build(svc, ctx.slices.byIndex(key), ctx.nodes.all(), ctx.build, ctx.pods);
  if (!result.ok) {
    // Nothing in AWS is touched for an invalid Service: a working NLB keeps serving.
    for (const p of result.problems) await ctx.writer.event(svc, "Warning", p.reason, p.message);
    const condition = invalidCondition(result.problems, svc.metadata.generation, new Date());
    if (!sameCondition(currentCondition(svc), condition)) await ctx.writer.setCondition(svc, condition);
    ctx.log.warn(
      { service: key, problems: result.problems.map((p) => p.message) },
      "invalid Service, not reconciled",
    );
    return;
  }
  const desired = result.stack;
  if (!hasFinalizer) await ctx.writer.addFinalizer(svc);
  // The fast path is only a saving: any trouble there goes the full way, with its events.
  const unchanged = await unchangedSinceLastApply(ctx, key, svc, desired).catch((err: unknown) => {
    ctx.log.warn({ service: key, err: describeError(err) }, "fast path failed; describing in full");
    return false;
  });
  if (unchanged) return;
  ctx.fullObserve.delete(key);
  // Only a changed stack can have turned multi-cluster-target-group off; an unchanged one keeps its record.
  const changedSinceLastApply = !alreadyApplied(svc, desired);

  try {
    const actual = await observeStack(
      ctx.aws.elbv2,
      ctx.owned,
      ctx.build.clusterName,
      key,
      listenerAttributePorts(desired),
    );
    const explicitName = Boolean(svc.metadata.annotations?.[NAME_ANNOTATION]);
    const first = plan({ desired, actual, subnetIds: [], explicitName });
    const kept = keptLoadBalancer(first, actual.loadBalancers);
    // Subnets are looked up only when the NLB is to be created or the annotation names them, and
    // before anything is written: a Service whose subnets do not fit gets nothing in AWS.
    const subnets =
      desired.loadBalancer.subnets || !kept ? await subnetsFor(ctx, desired) : { subnetIds: [] };
    const groups = await prepareSecurityGroups(ctx, key, svc, desired, canHaveSecurityGroups(kept));
    const changes = plan({
      desired,
      actual,
      explicitName,
      ...(groups.ids ? { securityGroupIds: groups.ids } : {}),
      ...subnets,
    });
    for (const r of changes.replacements) {
      await ctx.writer.event(svc, "Warning", "ReplacementRequired", replacementMessage(r));
    }
    const applied = await applyChanges(changes.changes, {
      elbv2: ctx.aws.elbv2,
      owned: ctx.owned,
      targets: ctx.targets,
      record: recordFor(ctx, key),
      stackId: key,
      vpcId: ctx.vpcId,
      loadBalancerArn: kept?.arn,
      dnsName: kept?.dnsName,
    });

    // Target groups that were kept get their target sets brought in line too (new ones were filled by apply).
    const deleted = new Set(changes.changes.flatMap((c) => (c.kind === "deleteTargetGroup" ? [c.arn] : [])));
    const arns = new Map<string, string>();
    for (const tg of desired.targetGroups) {
      const kept = actual.targetGroups.find((a) => a.tags[RESOURCE_TAG] === tg.id && !deleted.has(a.arn));
      const arn = applied.created.get(tg.id) ?? kept?.arn;
      if (arn) arns.set(tg.id, arn);
    }
    await syncTargetGroups(
      ctx,
      key,
      svc,
      desired,
      arns,
      new Set(applied.created.keys()),
      changedSinceLastApply,
    );
    // An old group AWS still holds in use is deleted later; the Service is served meanwhile.
    let pending: SecurityGroupBusyError | undefined;
    try {
      await groups.finish();
    } catch (err) {
      if (!(err instanceof SecurityGroupBusyError)) throw err;
      pending = err;
      ctx.fullObserve.add(key);
    }

    if (applied.dnsName) {
      const ingress = desiredIngress(applied.dnsName, svc);
      if (!ingressEqual(ingress, svc.status?.loadBalancer?.ingress ?? []))
        await ctx.writer.setIngress(svc, ingress);
    }
    const appliedStack = groups.ids ? desired : withoutSecurityGroups(desired);
    const condition = reconciledCondition(appliedStack, svc.metadata.generation, new Date());
    if (!sameCondition(currentCondition(svc), condition)) await ctx.writer.setCondition(svc, condition);
    const done = [...changes.changes.map((c) => c.kind), ...groups.done];
    if (done.length > 0) {
      await ctx.writer.event(
        svc,
        "Normal",
        "SuccessfullyReconciled",
        `Successfully reconciled: ${summary(done)}`,
      );
    }
    if (pending) {
      await ctx.writer.event(svc, "Normal", "SecurityGroupDeletionPending", pending.message);
      throw pending;
    }
    ctx.log.info({ service: key, changes: changes.changes.length }, "stack reconciled");
  } catch (err) {
    if (err instanceof SecurityGroupBusyError) throw err;
    const reason = isBuildModelError(err) ? "FailedBuildModel" : "FailedDeployModel";
    const message = isBuildModelError(err)
      ? `Failed build model due to ${err.message}`
      : `Failed deploy model due to ${describeError(err)}`;
    await ctx.writer.event(svc, "Warning", reason, message).catch(() => {});
    const condition = failedCondition(reason, message, svc.metadata.generation, new Date());
    if (!sameCondition(currentCondition(svc), condition))
      await ctx.writer.setCondition(svc, condition).catch(() => {});
    throw err;
  }
}

/**
 * The fast path that makes restarts cheap: when the Service records that its last successful reconcile
 * applied exactly this stack, and the ownership scan still finds its NLB and one target group per port,
 * the stack is not described again; only the target sets are checked. Drift made by hand inside AWS is
 * repaired at the next sync period, which always takes the full path.
 */
async function unchangedSinceLastApply(
  ctx: ControllerContext,
  key: string,
  svc: Service,
  desired: DesiredStack,
): Promise<boolean> {
  if (ctx.fullObserve.has(key)) return false;
  // An NLB without security groups was applied without them: its backend rules are not ours to sync.
  const withGroups = alreadyApplied(svc, desired);
  if (!withGroups && !alreadyApplied(svc, withoutSecurityGroups(desired))) return false;
  const owned = ctx.owned.forStack(key);
  const groups = ctx.owned.targetGroupsById(key);
  if (owned.loadBalancers.length !== 1 || groups.size !== desired.targetGroups.length) return false;
  const arns = new Map<string, string>();
  for (const tg of desired.targetGroups) {
    const found = groups.get(tg.id);
    if (found?.length !== 1) return false;
    arns.set(tg.id, found[0]!);
  }
  const ingress = svc.status?.loadBalancer?.ingress ?? [];
  const hostname = ingress[0]?.hostname;
  if (!hostname || !ingressEqual(desiredIngress(hostname, svc), ingress)) return false;
  if (withGroups && !(await syncBackendRules(ctx, key, svc, desired))) return false;
  await syncTargetGroups(ctx, key, svc, desired, arns, new Set(), false);
  ctx.log.debug({ service: key }, "stack unchanged since last apply; targets checked");
  return true;
}

/**
 * Records the stack's target groups for the target loop and brings their targets and gates in line.
 * The record of registered targets follows: shared groups drop the entries of groups gone, and a
 * stack that may just have stopped sharing (`mayDropRecord`) deletes it.
 */
async function syncTargetGroups(
  ctx: ControllerContext,
  key: string,
  svc: Service,
  desired: DesiredStack,
  arns: Map<string, string>,
  alreadySynced: Set<string>,
  mayDropRecord: boolean,
): Promise<void> {
  ctx.stackTargetGroups.set(key, arns);
  const record = recordFor(ctx, key);
  for (const tg of desired.targetGroups) {
    const arn = arns.get(tg.id);
    if (!arn) continue;
    if (!alreadySynced.has(tg.id)) await ctx.targets.sync(arn, tg.targets, { record });
    if (tg.targetType === "ip") ctx.gates.targetsChanged(arn, tg.name);
  }
  if (sharesTargetGroups(svc)) await ctx.records.retain(svc, arns.values());
  else if (mayDropRecord) await dropRecord(ctx, svc, key);
}

async function cleanUp(ctx: ControllerContext, key: string, svc: Service): Promise<void> {
  const actual = await observeStack(ctx.aws.elbv2, ctx.owned, ctx.build.clusterName, key);
  const { changes } = planDeletion(actual);
  await applyChanges(changes, {
    elbv2: ctx.aws.elbv2,
    owned: ctx.owned,
    targets: ctx.targets,
    stackId: key,
    vpcId: ctx.vpcId,
  });
  await dropRecord(ctx, svc, key);
  ctx.stackTargetGroups.delete(key);
  const groups = await deleteSecurityGroups(ctx, key).catch(async (err: unknown) => {
    if (err instanceof SecurityGroupBusyError)
      await ctx.writer.event(svc, "Normal", "SecurityGroupDeletionPending", err.message).catch(() => {});
    throw err;
  });
  if (svc.status?.loadBalancer?.ingress?.length || currentCondition(svc)) {
    await ctx.writer.clearStatus(svc, RECONCILED_CONDITION);
  }
  await ctx.writer.removeFinalizer(svc);
  const deleted = [...changes.map((c) => c.kind), ...Array<string>(groups).fill("deleteSecurityGroup")];
  if (deleted.length > 0)
    await ctx.writer
      .event(svc, "Normal", "SuccessfullyDeleted", `Deleted ${summary(deleted)}`)
      .catch(() => {});
  ctx.log.info({ service: key, deleted: changes.length }, "stack deleted");
}

/** The NLB's subnets (by annotation or role tags) and, for fixed addresses, which goes where. */
async function subnetsFor(
  ctx: ControllerContext,
  desired: DesiredStack,
): Promise<{ subnetIds: string[]; subnetMappings?: SubnetMapping[] }> {
  const explicit = desired.loadBalancer.subnets;
  const choose = async (refresh: boolean) =>
    chooseSubnets(await ctx.subnets(refresh), {
      clusterName: ctx.build.clusterName,
      scheme: desired.loadBalancer.scheme,
      vpcId: ctx.vpcId,
      ...(explicit ? { explicit } : {}),
    });
  // A failure re-reads the subnets once: the user may just have tagged them.
  let chosen = await choose(false);
  if (!chosen.ok) chosen = await choose(true);
  if (!chosen.ok) throw new BuildModelError(chosen.message);
  const subnetIds = chosen.subnets.map((s) => s.id);
  const lb = desired.loadBalancer;
  if (!lb.eipAllocations?.length && !lb.privateIpv4Addresses?.length && !lb.ipv6Addresses?.length)
    return { subnetIds };
  const mapped = subnetMappings(chosen.subnets, lb);
  if (!mapped.ok) throw new BuildModelError(mapped.message);
  return { subnetIds, subnetMappings: mapped.mappings };
}

function summary(kinds: string[]): string {
  const counts = new Map<string, number>();
  for (const k of kinds) counts.set(k, (counts.get(k) ?? 0) + 1);
  return [...counts].map(([k, n]) => (n > 1 ? `${k} x${n}` : k)).join(", ");
}

/** The desired stack cannot be completed from what AWS has (no subnet to place the NLB in). */
class BuildModelError extends Error {
  override name = "BuildModelError";
}

const isBuildModelError = (err: unknown): err is Error =>
  err instanceof BuildModelError || err instanceof SecurityGroupLookupError;
