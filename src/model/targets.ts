// Which nodes and pod IPs become targets. Output is de-duplicated and sorted by (id, port), so the
// same cluster state always yields the same list.
import { byCodePoint } from "./sorted.ts";
import type { Endpoint, EndpointSlice, Node, Service, ServicePort, Target } from "./types.ts";

export const EXCLUDE_FROM_LOAD_BALANCERS_LABEL = "node.kubernetes.io/exclude-from-external-load-balancers";
export const COMPUTE_TYPE_LABEL = "eks.amazonaws.com/compute-type";
export const TO_BE_DELETED_TAINT = "ToBeDeletedByClusterAutoscaler";
export const SERVICE_NAME_LABEL = "kubernetes.io/service-name";

const INSTANCE_ID = /^i-[0-9a-f]{8,17}$/;

/** The EC2 instance id at the end of `spec.providerID` (`aws:///us-west-2a/i-0123456789abcdef0`). */
export function instanceIdOf(node: Node): string | undefined {
  const providerId = node.spec?.providerID;
  if (typeof providerId !== "string" || !providerId.startsWith("aws://")) return undefined;
  const last = providerId.slice(providerId.lastIndexOf("/") + 1);
  return INSTANCE_ID.test(last) ? last : undefined;
}

function isReady(node: Node): boolean {
  const conditions = Array.isArray(node.status?.conditions) ? node.status.conditions : [];
  return conditions.some((condition) => condition?.type === "Ready" && condition.status === "True");
}

function matchesLabels(node: Node, wanted: Record<string, string> | undefined): boolean {
  const labels = node.metadata?.labels ?? {};
  return Object.entries(wanted ?? {}).every(
    ([key, value]) => Object.hasOwn(labels, key) && labels[key] === value,
  );
}

/**
 * Nodes that may receive traffic: Ready=True, without the exclude-from-external-load-balancers
 * label, not Fargate, not being removed by the cluster autoscaler, carrying every target-node-label,
 * and backed by an EC2 instance.
 */
export function eligibleNodes(nodes: readonly Node[], targetNodeLabels?: Record<string, string>): Node[] {
  return nodes.filter((node) => {
    if (typeof node !== "object" || node === null) return false;
    const labels = node.metadata?.labels ?? {};
    const taints = Array.isArray(node.spec?.taints) ? node.spec.taints : [];
    return (
      isReady(node) &&
      !Object.hasOwn(labels, EXCLUDE_FROM_LOAD_BALANCERS_LABEL) &&
      labels[COMPUTE_TYPE_LABEL] !== "fargate" &&
      !taints.some((taint) => taint?.key === TO_BE_DELETED_TAINT) &&
      matchesLabels(node, targetNodeLabels) &&
      instanceIdOf(node) !== undefined
    );
  });
}

export function instanceTargets(
  nodes: readonly Node[],
  nodePort: number,
  targetNodeLabels?: Record<string, string>,
): Target[] {
  return sortedTargets(
    eligibleNodes(nodes, targetNodeLabels).map((node) => ({ id: instanceIdOf(node)!, port: nodePort })),
  );
}

/** The Service's own EndpointSlices: same namespace and label kubernetes.io/service-name=<name>. */
export function slicesOfService(service: Service, slices: readonly EndpointSlice[]): EndpointSlice[] {
  const namespace = service.metadata?.namespace || "default";
  return slices.filter(
    (slice) =>
      (slice?.metadata?.namespace || "default") === namespace &&
      slice.metadata?.labels?.[SERVICE_NAME_LABEL] === service.metadata?.name,
  );
}

/**
 * Pod IP targets for one service port, from slices already narrowed to the Service (see
 * slicesOfService): endpoints that are ready (true or unset) and not terminating, on the slice
 * port whose name equals the service port's name (unnamed matches unnamed). Only the first
 * address of an endpoint is used: Kubernetes declares the others interchangeable with it.
 */
/**
 * `admitUnready` lets an endpoint that is not ready in yet: the one whose pod waits only for our own
 * readiness gate, which can turn true only once the target is registered and healthy.
 */
export function ipTargets(
  slices: readonly EndpointSlice[],
  servicePort: ServicePort,
  addressType = "IPv4",
  admitUnready: (endpoint: Endpoint) => boolean = () => false,
): Target[] {
  const wantedName = servicePort?.name ?? "";
  const targets: Target[] = [];
  for (const slice of slices) {
    if (slice?.addressType !== addressType) continue;
    const ports = Array.isArray(slice.ports) ? slice.ports : [];
    const port = ports.find((candidate) => (candidate?.name ?? "") === wantedName)?.port;
    if (typeof port !== "number" || !Number.isInteger(port) || port < 1 || port > 65535) continue;
    for (const endpoint of Array.isArray(slice.endpoints) ? slice.endpoints : []) {
      const address = Array.isArray(endpoint?.addresses) ? endpoint.addresses[0] : undefined;
      if (typeof address !== "string" || address === "") continue;
      if (endpoint.conditions?.terminating === true) continue;
      if (endpoint.conditions?.ready === false && !admitUnready(endpoint)) continue;
      targets.push({ id: address, port });
    }
  }
  return sortedTargets(targets);
}

export function sortedTargets(targets: Target[]): Target[] {
  const unique = new Map(targets.map((target) => [`${target.id}\u0000${target.port}`, target]));
  return [...unique.values()].sort((a, b) => byCodePoint(a.id, b.id) || a.port - b.port);
}
