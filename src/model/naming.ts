// AWS names for the NLB and its target groups. Names are unique per account and region and
// cannot change, so each hash covers exactly the fields whose change needs a new resource.
import { createHash } from "node:crypto";
import { annotationTable } from "./annotations.ts";
import type { Scheme, Service, TargetGroupProtocol, TargetType } from "./types.ts";

export interface TargetGroupNameParams {
  /** The service port (listener port). */
  port: number;
  protocol: TargetGroupProtocol;
  targetType: TargetType;
  /** The target group's port: nodePort for instance targets, targetPort for ip targets. */
  targetPort: number;
  ipAddressType: "ipv4" | "ipv6";
}

/** `k8s-<namespace, 8>-<name, 8>-<10 hex>`: at most 32 characters, letters and digits only between the hyphens. */
function hashedName(service: Service, hashInput: unknown[]): string {
  const digest = createHash("sha256").update(JSON.stringify(hashInput)).digest("hex").slice(0, 10);
  const namespace = alphanumeric(service.metadata?.namespace || "default").slice(0, 8);
  const name = alphanumeric(service.metadata?.name ?? "").slice(0, 8);
  return `k8s-${namespace}-${name}-${digest}`;
}

function alphanumeric(text: string): string {
  return text.replace(/[^A-Za-z0-9]/g, "");
}

/**
 * The generated NLB name; its hash covers cluster, namespace/name and scheme, so a scheme
 * change (which needs a new NLB) gets a fresh name while the old NLB still exists.
 */
export function generatedLoadBalancerName(clusterName: string, service: Service, scheme: Scheme): string {
  return hashedName(service, [
    clusterName,
    service.metadata?.namespace || "default",
    service.metadata?.name ?? "",
    scheme,
  ]);
}

/** The NLB name: the `aws-load-balancer-name` annotation when it holds a valid name, else the generated one. */
export function loadBalancerName(clusterName: string, service: Service, scheme: Scheme): string {
  const raw = service.metadata?.annotations?.[annotationTable.name.key];
  if (typeof raw === "string") {
    const parsed = annotationTable.name.parse(raw);
    if (parsed.ok) return parsed.value;
  }
  return generatedLoadBalancerName(clusterName, service, scheme);
}

/**
 * The target group name; its hash covers everything AWS cannot modify on a target group
 * (port, protocol, target type, ip address type) plus the Service's identity, and nothing
 * that is modified in place (health check, attributes), so those never rename it.
 */
export function targetGroupName(
  clusterName: string,
  service: Service,
  params: TargetGroupNameParams,
): string {
  return hashedName(service, [
    clusterName,
    service.metadata?.namespace || "default",
    service.metadata?.name ?? "",
    typeof service.metadata?.uid === "string" ? service.metadata.uid : "",
    params.port,
    params.protocol,
    params.targetType,
    params.targetPort,
    params.ipAddressType,
  ]);
}

/** The managed frontend security group's name: unique per Service, stable across every change. */
export function managedSecurityGroupName(clusterName: string, service: Service): string {
  return hashedName(service, [
    "security-group",
    clusterName,
    service.metadata?.namespace || "default",
    service.metadata?.name ?? "",
  ]);
}
