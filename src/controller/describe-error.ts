/** What to do about AWS errors whose own message does not say it. */
const HINTS: Record<string, string> = {
  RulesPerSecurityGroupLimitExceeded:
    "the targets' security group holds its maximum of inbound rules (60 by default): raise the EC2 quota 'Inbound or outbound rules per security group', or set manage-backend-security-group-rules to false and allow the NLB's traffic yourself",
  UnauthorizedOperation: "the controller's IAM role lacks a permission: compare it with iam/policy.json",
  AccessDenied: "the controller's IAM role lacks a permission: compare it with iam/policy.json",
};

/** An error as one line for events and logs: its name (when it says something), message and a hint. */
export function describeError(err: unknown): string {
  if (!(err instanceof Error)) return String(err);
  const hint = HINTS[err.name];
  return `${err.name === "Error" ? "" : `${err.name}: `}${err.message}${hint ? ` (${hint})` : ""}`;
}
