import type { Target } from "../model/types.ts";

export const MAX_TARGETS_PER_CALL = 200;

export interface TargetChanges {
  register: Target[];
  deregister: Target[];
}

const key = (t: Target) => `${t.id}:${t.port}`;

/** Targets to register and to deregister so the actual set becomes the desired one. */
export function planTargets(desired: readonly Target[], actual: readonly Target[]): TargetChanges {
  const want = new Map(desired.map((t) => [key(t), t]));
  const have = new Map(actual.map((t) => [key(t), t]));
  return {
    register: [...want.values()].filter((t) => !have.has(key(t))),
    deregister: [...have.values()].filter((t) => !want.has(key(t))),
  };
}

/** Target changes for a group shared with other clusters, and what to record about them. */
export interface SharedTargetChanges extends TargetChanges {
  /**
   * The record to write before any registration, so that a crash right after it cannot lose a target
   * this cluster registered; absent when the record already holds every desired target.
   */
  recordBefore?: Target[];
  /** The record once the changes are made (the desired set); absent when it would not change. */
  recordAfter?: Target[];
}

/**
 * planTargets() for a target group other clusters register into too: only targets this cluster
 * recorded as its own may be deregistered, every other one is left alone. `recorded` undefined means
 * nothing was recorded yet (the group was just shared): then nothing is deregistered, as nothing can
 * be told apart, and the desired set becomes the record.
 */
export function planSharedTargets(
  desired: readonly Target[],
  actual: readonly Target[],
  recorded: readonly Target[] | undefined,
): SharedTargetChanges {
  const { register, deregister } = planTargets(desired, actual);
  const want = unique(desired);
  if (recorded === undefined) return { register, deregister: [], recordBefore: want };
  const ours = new Set(recorded.map(key));
  const before = unique([...recorded, ...desired]);
  const grows = before.length > ours.size;
  const after = grows ? before : unique(recorded);
  return {
    register,
    deregister: deregister.filter((t) => ours.has(key(t))),
    ...(grows ? { recordBefore: before } : {}),
    ...(sameTargets(want, after) ? {} : { recordAfter: want }),
  };
}

function unique(targets: readonly Target[]): Target[] {
  return [...new Map(targets.map((t) => [key(t), { id: t.id, port: t.port }])).values()];
}

function sameTargets(a: readonly Target[], b: readonly Target[]): boolean {
  const keys = new Set(b.map(key));
  return a.length === b.length && a.every((t) => keys.has(key(t)));
}

/** Splits a target list into calls of at most MAX_TARGETS_PER_CALL. */
export function batches<T>(items: readonly T[], size = MAX_TARGETS_PER_CALL): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}
