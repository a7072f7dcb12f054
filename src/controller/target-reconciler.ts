import { build } from "../model/build.ts";
import { isSelected } from "../model/selection.ts";
import type { ControllerContext } from "./context.ts";
import { describeError } from "./describe-error.ts";
import { addMissingBackendRules } from "./security-groups.ts";
import { recordFor } from "./shared-targets.ts";

/**
 * The target loop: brings the target sets of one Service's target groups in line with its endpoints
 * and nodes. It uses the target group ARNs of the last stack reconcile and never re-describes the stack;
 * a Service whose stack was not reconciled yet is handed to the stack loop instead.
 * Returns false when the stack loop must run first.
 */
export async function reconcileTargets(ctx: ControllerContext, key: string): Promise<boolean> {
  const svc = ctx.services.get(key);
  if (!svc || svc.metadata.deletionTimestamp || !isSelected(svc, ctx.build.loadBalancerClass)) return true;
  const arns = ctx.stackTargetGroups.get(key);
  if (!arns) return false;
  const result = build(svc, ctx.slices.byIndex(key), ctx.nodes.all(), ctx.build, ctx.pods);
  if (!result.ok) return true; // the stack loop reports the problems
  if (result.stack.targetGroups.some((tg) => !arns.has(tg.id))) return false; // a new port: the stack loop creates its target group
  // Rules for targets on security groups not seen before go in first, so their health checks can pass.
  // A failure there must not hold up registration (nor deregistration of targets that are gone).
  await addMissingBackendRules(ctx, key, svc, result.stack).catch((err: unknown) =>
    ctx.writer
      .event(
        svc,
        "Warning",
        "FailedBackendSecurityGroupRules",
        `Backend security group rules for new targets could not be added: ${describeError(err)}`,
      )
      .catch(() => {}),
  );
  for (const tg of result.stack.targetGroups) {
    const arn = arns.get(tg.id)!;
    await ctx.targets.sync(arn, tg.targets, { record: recordFor(ctx, key) });
    if (tg.targetType === "ip") ctx.gates.targetsChanged(arn, tg.name);
  }
  return true;
}
