import {
  DescribeListenersCommand,
  DescribeLoadBalancersCommand,
  DescribeTargetGroupsCommand,
  type ElasticLoadBalancingV2Client,
} from "@aws-sdk/client-elastic-load-balancing-v2";
import type { TargetRegistry } from "../aws/targets.ts";
import type { Service } from "../model/types.ts";

/** What the sandbox shows: per Service its NLB, listeners, target groups with health check, and targets. */
export async function renderSandbox(
  services: Service[],
  elbv2: ElasticLoadBalancingV2Client,
  targets: TargetRegistry,
): Promise<string> {
  const lines: string[] = [];
  const lbs = (await elbv2.send(new DescribeLoadBalancersCommand({}))).LoadBalancers ?? [];
  for (const svc of services) {
    const id = `${svc.metadata.namespace}/${svc.metadata.name}`;
    const host = svc.status?.loadBalancer?.ingress?.[0]?.hostname;
    lines.push(`SERVICE ${id}`);
    const lb = lbs.find((l) => l.DNSName?.toLowerCase() === host);
    if (!host || !lb?.LoadBalancerArn) {
      lines.push("  (no load balancer yet)", "");
      continue;
    }
    lines.push(`  NLB        ${host}  (${lb.Scheme}, ${lb.State?.Code ?? "?"})`);
    lines.push(`  SECURITY   ${(lb.SecurityGroups ?? []).join(", ") || "(none)"}`);
    const listeners =
      (await elbv2.send(new DescribeListenersCommand({ LoadBalancerArn: lb.LoadBalancerArn }))).Listeners ??
      [];
    const groups =
      (await elbv2.send(new DescribeTargetGroupsCommand({ LoadBalancerArn: lb.LoadBalancerArn })))
        .TargetGroups ?? [];
    for (const l of listeners.sort((a, b) => (a.Port ?? 0) - (b.Port ?? 0))) {
      const tg = groups.find((g) => g.TargetGroupArn === l.DefaultActions?.[0]?.TargetGroupArn);
      lines.push(`  LISTENER   ${l.Protocol}:${l.Port} -> ${tg?.TargetGroupName ?? "?"}`);
    }
    for (const tg of groups) {
      const hc = `${tg.HealthCheckProtocol}:${tg.HealthCheckPort}${tg.HealthCheckPath && tg.HealthCheckProtocol !== "TCP" ? tg.HealthCheckPath : ""}`;
      lines.push(
        `  TG         ${tg.TargetGroupName}  ${tg.TargetType} ${tg.Protocol}:${tg.Port}  health ${hc} every ${tg.HealthCheckIntervalSeconds}s`,
      );
      const health = await targets.describe(tg.TargetGroupArn ?? "");
      const shown = health.map((t) => `${t.id}:${t.port}=${t.state}`).join("  ");
      lines.push(`    targets  ${shown || "(none)"}`);
    }
    lines.push("");
  }
  return lines.join("\n");
}
