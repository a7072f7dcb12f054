import { sourceText } from "../model/security-groups.ts";
import type { DesiredStack } from "../model/types.ts";
import type { Change } from "../plan/changes.ts";

/** A desired stack as a readable block for `plan -o table`. */
export function renderStack(stack: DesiredStack): string {
  const lb = stack.loadBalancer;
  const lines = [
    `service ${stack.service}`,
    `  load balancer ${lb.name}  ${lb.type} ${lb.scheme} ${lb.ipAddressType}${lb.subnets ? `  subnets ${lb.subnets.join(",")}` : ""}`,
  ];
  const sg = stack.securityGroups;
  const backend = sg.manageBackendRules ? "backend rules managed" : "backend rules not managed";
  if (sg.managed) {
    const rules = sg.managed.ingress
      .map((r) => `${r.protocol}:${r.fromPort}<-${sourceText(r.source)}`)
      .join(" ");
    lines.push(`  security group ${sg.managed.name} (managed; ${backend})  ${rules}`);
  } else if (sg.given) {
    lines.push(`  security groups ${sg.given.join(",")} (given; ${backend})`);
  }
  for (const l of stack.listeners) lines.push(`  listener ${l.protocol}:${l.port} -> ${l.targetGroup}`);
  for (const tg of stack.targetGroups) {
    const hc = tg.healthCheck;
    lines.push(
      `  target group ${tg.id}  ${tg.name}  ${tg.targetType} ${tg.protocol}:${tg.port}`,
      `    health check ${hc.protocol}:${hc.port}${hc.path ?? ""} every ${hc.intervalSeconds}s timeout ${hc.timeoutSeconds}s ${hc.healthyThresholdCount}/${hc.unhealthyThresholdCount}`,
      `    targets ${tg.targets.length === 0 ? "(none)" : tg.targets.map((t) => `${t.id}:${t.port}`).join(" ")}`,
    );
  }
  return `${lines.join("\n")}\n`;
}

/** Plan changes, one line each, for `plan --diff`. */
export function renderChanges(changes: Change[]): string {
  if (changes.length === 0) return "no changes: the live stack matches\n";
  return `${changes.map(describeChange).join("\n")}\n`;
}

function describeChange(c: Change): string {
  switch (c.kind) {
    case "deleteLoadBalancer":
      return `- delete load balancer ${c.name}`;
    case "createTargetGroup":
      return `+ create target group ${c.spec.id} (${c.spec.name}, ${c.spec.protocol}:${c.spec.port}, ${c.spec.targetType})`;
    case "modifyTargetGroupHealthCheck":
      return `~ modify health check of ${c.id}: ${JSON.stringify(c.healthCheck)}`;
    case "modifyTargetGroupAttributes":
      return `~ modify attributes of ${c.id}: ${JSON.stringify(c.attributes)}`;
    case "createLoadBalancer":
      return `+ create load balancer ${c.spec.name} (${c.spec.scheme})`;
    case "setSecurityGroups":
      return `~ set security groups of ${c.arn || "the new load balancer"}: ${c.securityGroups.join(", ")}${c.privateLinkInboundRules ? ` (PrivateLink inbound rules ${c.privateLinkInboundRules})` : ""}`;
    case "setSubnets":
      return `~ set subnets ${c.subnetIds.join(",")}`;
    case "setIpAddressType":
      return `~ set ip address type ${c.ipAddressType}`;
    case "modifyLoadBalancerAttributes":
      return `~ modify load balancer attributes: ${JSON.stringify(c.attributes)}`;
    case "updateTags":
      return `~ tags of ${c.resource}: add ${JSON.stringify(c.add)} remove ${JSON.stringify(c.remove)}`;
    case "deleteListener":
      return `- delete listener on port ${c.port}`;
    case "createListener":
      return `+ create listener ${c.spec.protocol}:${c.spec.port}`;
    case "modifyListener":
      return `~ modify listener ${c.spec.protocol}:${c.spec.port} (${c.fields.join(", ")})`;
    case "deleteTargetGroup":
      return `- delete target group ${c.id || c.name}`;
    case "registerTargets":
      return `+ register ${c.targets.length} targets in ${c.id}`;
    case "modifyListenerAttributes":
      return `~ listener ${c.port} attributes: ${JSON.stringify(c.attributes)}`;
    case "setListenerCertificates":
      return `~ listener ${"port" in c.listener ? c.listener.port : c.listener.arn} certificates: add ${c.add.join(",") || "none"} remove ${c.remove.join(",") || "none"}`;
  }
}
