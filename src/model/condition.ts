import { createHash } from "node:crypto";
import type { Condition, DesiredStack, InputProblem, Service } from "./types.ts";

/** The condition this controller keeps on each Service it serves. */
export const RECONCILED_CONDITION = "aws-nlb-controller/Reconciled";
const FINGERPRINT_PREFIX = "stack ";

/**
 * A digest of everything the stack loop sets in AWS (targets excluded: the target loop owns them).
 * Equal fingerprints mean the last successful reconcile already applied this very stack.
 */
export function stackFingerprint(stack: DesiredStack): string {
  const { targetGroups, ...rest } = stack;
  const groups = targetGroups.map(({ targets: _targets, ...tg }) => tg);
  return createHash("sha256")
    .update(JSON.stringify({ ...rest, targetGroups: groups }))
    .digest("hex")
    .slice(0, 20);
}

export function reconciledCondition(
  stack: DesiredStack,
  generation: number | undefined,
  now: Date,
): Condition {
  return {
    type: RECONCILED_CONDITION,
    status: "True",
    reason: "Reconciled",
    message: `${FINGERPRINT_PREFIX}${stackFingerprint(stack)}`,
    ...(generation !== undefined ? { observedGeneration: generation } : {}),
    lastTransitionTime: now.toISOString(),
  };
}

/** Not reconciled because the manifest is wrong: names the first problem and how many there are. */
export function invalidCondition(
  problems: InputProblem[],
  generation: number | undefined,
  now: Date,
): Condition {
  const first = problems[0];
  const more = problems.length > 1 ? ` (and ${problems.length - 1} more problems, see events)` : "";
  return {
    type: RECONCILED_CONDITION,
    status: "False",
    reason: first?.reason ?? "InvalidSpec",
    message: `not reconciled, the NLB is left as it was: ${first?.message ?? "invalid Service"}${more}`.slice(
      0,
      32_000,
    ),
    ...(generation !== undefined ? { observedGeneration: generation } : {}),
    lastTransitionTime: now.toISOString(),
  };
}

/** Not reconciled because AWS refused or lacks something (FailedBuildModel, FailedDeployModel); retried. */
export function failedCondition(
  reason: string,
  message: string,
  generation: number | undefined,
  now: Date,
): Condition {
  return {
    type: RECONCILED_CONDITION,
    status: "False",
    reason,
    message: `not reconciled yet, retrying: ${message}`.slice(0, 32_000),
    ...(generation !== undefined ? { observedGeneration: generation } : {}),
    lastTransitionTime: now.toISOString(),
  };
}

export function currentCondition(service: Service): Condition | undefined {
  return service.status?.conditions?.find((c) => c.type === RECONCILED_CONDITION);
}

/**
 * The stack as applied to an NLB made without security groups (AWS cannot add them): nothing about
 * security groups is managed for it, and its fingerprint says so, so a restart can tell it apart.
 */
export function withoutSecurityGroups(stack: DesiredStack): DesiredStack {
  return { ...stack, securityGroups: { manageBackendRules: false } };
}

/** True when the Service says its last successful reconcile applied exactly this stack. */
export function alreadyApplied(service: Service, stack: DesiredStack): boolean {
  const c = currentCondition(service);
  return c?.status === "True" && c.message === `${FINGERPRINT_PREFIX}${stackFingerprint(stack)}`;
}

/** The same condition apart from its timestamp: no status write is needed. */
export function sameCondition(a: Condition | undefined, b: Condition): boolean {
  return (
    a !== undefined &&
    a.status === b.status &&
    a.reason === b.reason &&
    a.message === b.message &&
    a.observedGeneration === b.observedGeneration
  );
}
