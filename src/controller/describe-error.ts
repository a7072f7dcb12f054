import { kubeStatusOf } from "../kube/client.ts";

/** What to do about AWS errors whose own message does not say it. */
const HINTS: Record<string, string> = {
  RulesPerSecurityGroupLimitExceeded:
    "the targets' security group holds its maximum of inbound rules (60 by default): raise the EC2 quota 'Inbound or outbound rules per security group', or set manage-backend-security-group-rules to false and allow the NLB's traffic yourself",
  UnauthorizedOperation: "the controller's IAM role lacks a permission: compare it with iam/policy.json",
  AccessDenied: "the controller's IAM role lacks a permission: compare it with iam/policy.json",
};

const KUBE_HINTS: Record<number, string> = {
  403: "the controller's ServiceAccount lacks this permission: compare its RBAC with the Helm chart's ClusterRole (ConfigMaps, for multi-cluster-target-group, need rbac.multiClusterTargetGroups=true)",
};

/** An error as one line for events and logs: its name (when it says something), message and a hint. */
export function describeError(err: unknown): string {
  const status = kubeStatusOf(err);
  if (status) {
    const hint = KUBE_HINTS[status.code];
    return `Kubernetes API ${status.code}${status.reason ? ` ${status.reason}` : ""}: ${status.message}${hint ? ` (${hint})` : ""}`;
  }
  if (!(err instanceof Error)) return String(err);
  const hint = HINTS[err.name];
  return `${err.name === "Error" ? "" : `${err.name}: `}${err.message}${hint ? ` (${hint})` : ""}`;
}
