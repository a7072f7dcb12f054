import type { Service } from "./types.ts";

export const CLUSTER_TAG = "elbv2.k8s.aws/cluster";
export const STACK_TAG = "service.k8s.aws/stack";
export const RESOURCE_TAG = "service.k8s.aws/resource";
export const FINALIZER = "service.k8s.aws/resources";
/** Value of RESOURCE_TAG on the NLB; target groups carry their id `<namespace>/<name>:<port>`. */
export const LOAD_BALANCER_RESOURCE = "LoadBalancer";

/** The three tags that make a resource ours; they are decisive and always win over user tags. */
export function ownershipTags(
  clusterName: string,
  stackId: string,
  resource: string,
): Record<string, string> {
  return { [CLUSTER_TAG]: clusterName, [STACK_TAG]: stackId, [RESOURCE_TAG]: resource };
}

/** A resource is this cluster's only when it carries this cluster's tag; nothing else counts. */
export function isOwnedBy(tags: Record<string, string> | undefined, clusterName: string): boolean {
  return tags?.[CLUSTER_TAG] === clusterName;
}

/** `<namespace>/<name>`; a manifest without a namespace lives in `default`, as kubectl would put it. */
export function stackIdOf(service: Pick<Service, "metadata">): string {
  const namespace = service.metadata?.namespace || "default";
  return `${namespace}/${service.metadata?.name ?? ""}`;
}
/** Value of RESOURCE_TAG on the managed frontend security group (LBC's value). */
export const SECURITY_GROUP_RESOURCE = "ManagedLBSecurityGroup";
/** Value of RESOURCE_TAG on the backend rules added to the targets' security groups. */
export const BACKEND_RULE_RESOURCE = "BackendSecurityGroupRule";
