// AWS's published per-account, per-region API token buckets (burst / refill per second) for the
// calls this controller makes. Facts, shared by the controller's own budget and the test fault proxy.

export type AwsService = "elbv2" | "ec2";

/** Which calls a bucket covers: a service, and operations by name or by prefix ending in `*`. */
export interface CallMatch {
  service?: AwsService;
  operation?: string | readonly string[];
}

export interface ApiLimit {
  name: string;
  match: CallMatch;
  /** Bucket size: how many calls may come at once. */
  burst: number;
  refillPerSecond: number;
  /**
   * "category": a call draws from the first matching category bucket only.
   * "shared": a call also draws from every matching shared bucket (an account-wide budget).
   */
  scope: "category" | "shared";
}

export const AWS_API_LIMITS: readonly ApiLimit[] = [
  {
    name: "elbv2:targets",
    match: { service: "elbv2", operation: ["RegisterTargets", "DeregisterTargets"] },
    burst: 20,
    refillPerSecond: 4,
    scope: "category",
  },
  {
    name: "elbv2:create-load-balancer",
    match: { service: "elbv2", operation: "CreateLoadBalancer" },
    burst: 10,
    refillPerSecond: 0.2,
    scope: "category",
  },
  {
    name: "elbv2:describe",
    match: { service: "elbv2", operation: "Describe*" },
    burst: 40,
    refillPerSecond: 10,
    scope: "category",
  },
  { name: "elbv2:mutating", match: { service: "elbv2" }, burst: 20, refillPerSecond: 3, scope: "category" },
  { name: "elbv2:account", match: { service: "elbv2" }, burst: 40, refillPerSecond: 10, scope: "shared" },
  {
    name: "ec2:describe",
    match: { service: "ec2", operation: "Describe*" },
    burst: 100,
    refillPerSecond: 20,
    scope: "category",
  },
  { name: "ec2:mutating", match: { service: "ec2" }, burst: 50, refillPerSecond: 5, scope: "category" },
];

export function matchesCall(match: CallMatch, service: AwsService, operation: string): boolean {
  if (match.service !== undefined && match.service !== service) return false;
  if (match.operation === undefined) return true;
  const patterns = typeof match.operation === "string" ? [match.operation] : match.operation;
  return patterns.some((p) =>
    p === "*" ? true : p.endsWith("*") ? operation.startsWith(p.slice(0, -1)) : operation === p,
  );
}
