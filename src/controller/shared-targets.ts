import type { TargetRecord } from "../aws/targets.ts";
import { statusCodeOf } from "../kube/client.ts";
import { sharesTargetGroups } from "../model/annotations.ts";
import type { Service } from "../model/types.ts";
import type { ControllerContext } from "./context.ts";
import { describeError } from "./describe-error.ts";

/** The record a target group's sync must keep, looked up from the Service as it is when the sync starts. */
export function recordFor(ctx: ControllerContext, key: string): () => TargetRecord | undefined {
  return () => {
    const svc = ctx.services.get(key);
    return svc && sharesTargetGroups(svc) ? ctx.records.of(svc) : undefined;
  };
}

/**
 * Deletes the Service's record of registered targets (multi-cluster-target-group turned off, or the
 * stack deleted). Without permission to read ConfigMaps the controller cannot have written one, so
 * a 403 is only logged: a cluster that never uses the annotation needs no ConfigMap access.
 */
export async function dropRecord(ctx: ControllerContext, svc: Service, key: string): Promise<void> {
  if (forbidden.has(ctx.records)) return;
  try {
    await ctx.records.remove(svc);
  } catch (err) {
    if (statusCodeOf(err) === 403) {
      // Asked once per process: without access no record can have been written since it started.
      forbidden.add(ctx.records);
      ctx.log.debug({ service: key }, "no access to ConfigMaps: no target record to delete");
      return;
    }
    // Best effort: the record is owned by the Service (garbage-collected with it) and a record left
    // behind only matters if the annotation is turned on again; a reconcile is not failed for it.
    ctx.log.warn({ service: key, err: describeError(err) }, "target record not deleted");
  }
}

const forbidden = new WeakSet<object>();
