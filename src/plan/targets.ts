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

/** Splits a target list into calls of at most MAX_TARGETS_PER_CALL. */
export function batches<T>(items: readonly T[], size = MAX_TARGETS_PER_CALL): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}
