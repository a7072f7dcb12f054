// Pod readiness gates `target-health.elbv2.k8s.aws/<target group name>`: a pod is ready only once
// its target is healthy in that target group.
import type { Endpoint, Pod } from "./types.ts";

export const READINESS_GATE_PREFIX = "target-health.elbv2.k8s.aws/";

/** Pods by `namespace/name` (the Pod informer's cache, or a Map in tests and `plan`). */
export interface PodLookup {
  get(key: string): Pod | undefined;
}

export const podKey = (namespace: string | undefined, name: string): string =>
  `${namespace ?? "default"}/${name}`;

export function gateOf(targetGroupName: string): string {
  return `${READINESS_GATE_PREFIX}${targetGroupName}`;
}

export function hasGate(pod: Pod, targetGroupName: string): boolean {
  const gate = gateOf(targetGroupName);
  return (pod.spec?.readinessGates ?? []).some((g) => g?.conditionType === gate);
}

const conditionStatus = (pod: Pod, type: string): string | undefined =>
  pod.status?.conditions?.find((c) => c?.type === type)?.status;

/**
 * An endpoint that is not ready is still registered when its pod carries our gate for this target
 * group and its containers are ready: the gate itself is what keeps the pod unready.
 */
export function admitsGated(endpoint: Endpoint, pods: PodLookup, targetGroupName: string): boolean {
  const ref = endpoint.targetRef;
  if (ref?.kind !== "Pod" || typeof ref.name !== "string") return false;
  const pod = pods.get(podKey(ref.namespace, ref.name));
  return (
    pod !== undefined && hasGate(pod, targetGroupName) && conditionStatus(pod, "ContainersReady") === "True"
  );
}

export interface TargetHealthState {
  id: string;
  port: number;
  state: string;
  reason?: string;
  description?: string;
}

export interface GateCondition {
  pod: string; // namespace/name
  type: string;
  status: "True" | "False";
  reason: string;
  message: string;
}

/**
 * The gate condition each gated pod should carry, from its targets' health in the group; only pods
 * whose condition differs from what they carry are returned. `healthy` is true when every gated pod
 * of the group is healthy, so polling can stop.
 */
export function gateConditions(
  pods: Pod[],
  targetGroupName: string,
  health: TargetHealthState[],
): { updates: GateCondition[]; healthy: boolean } {
  const type = gateOf(targetGroupName);
  const updates: GateCondition[] = [];
  let healthy = true;
  for (const pod of pods) {
    if (!hasGate(pod, targetGroupName)) continue;
    const ip = pod.status?.podIP;
    const targets = ip ? health.filter((t) => t.id === ip) : [];
    const bad = targets.find((t) => t.state !== "healthy");
    const want: Omit<GateCondition, "pod" | "type"> =
      targets.length === 0
        ? {
            status: "False",
            reason: "Elb.NotRegistered",
            message: `pod IP ${ip ?? "(none)"} is not a target yet`,
          }
        : bad
          ? {
              status: "False",
              reason: bad.reason ?? `Target.${bad.state}`,
              message: bad.description ?? `target ${bad.id}:${bad.port} is ${bad.state}`,
            }
          : { status: "True", reason: "Target.Healthy", message: "target is healthy" };
    if (want.status !== "True") healthy = false;
    const current = pod.status?.conditions?.find((c) => c?.type === type);
    if (current?.status === want.status && current.reason === want.reason) continue;
    updates.push({ pod: podKey(pod.metadata.namespace, pod.metadata.name), type, ...want });
  }
  return { updates, healthy };
}
