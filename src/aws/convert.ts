import type { Tag, TargetGroup } from "@aws-sdk/client-elastic-load-balancing-v2";
import type { HealthCheck, HealthCheckProtocol } from "../model/types.ts";

export const tagsToRecord = (tags: { Key?: string; Value?: string }[] | undefined): Record<string, string> =>
  Object.fromEntries((tags ?? []).map((t) => [t.Key ?? "", t.Value ?? ""]));

export const recordToTags = (record: Record<string, string>): Tag[] =>
  Object.entries(record).map(([Key, Value]) => ({ Key, Value }));

export const attributesToRecord = (
  attrs: { Key?: string; Value?: string }[] | undefined,
): Record<string, string> => Object.fromEntries((attrs ?? []).map((a) => [a.Key ?? "", a.Value ?? ""]));

export const recordToAttributes = (record: Record<string, string>) =>
  Object.entries(record).map(([Key, Value]) => ({ Key, Value }));

export function healthCheckOf(tg: TargetGroup): HealthCheck {
  const port =
    tg.HealthCheckPort && tg.HealthCheckPort !== "traffic-port" ? Number(tg.HealthCheckPort) : "traffic-port";
  const protocol = (tg.HealthCheckProtocol ?? "TCP") as HealthCheckProtocol;
  return {
    protocol,
    port,
    ...(protocol !== "TCP" && tg.HealthCheckPath ? { path: tg.HealthCheckPath } : {}),
    intervalSeconds: tg.HealthCheckIntervalSeconds ?? 30,
    timeoutSeconds: tg.HealthCheckTimeoutSeconds ?? 10,
    healthyThresholdCount: tg.HealthyThresholdCount ?? 5,
    unhealthyThresholdCount: tg.UnhealthyThresholdCount ?? 2,
    ...(protocol !== "TCP" && tg.Matcher?.HttpCode ? { matcher: { httpCode: tg.Matcher.HttpCode } } : {}),
  };
}

/** Health check fields in the shape CreateTargetGroup and ModifyTargetGroup take. */
export function healthCheckInput(hc: HealthCheck) {
  const http = hc.protocol !== "TCP";
  return {
    HealthCheckEnabled: true,
    HealthCheckProtocol: hc.protocol,
    HealthCheckPort: String(hc.port),
    HealthCheckIntervalSeconds: hc.intervalSeconds,
    HealthCheckTimeoutSeconds: hc.timeoutSeconds,
    HealthyThresholdCount: hc.healthyThresholdCount,
    UnhealthyThresholdCount: hc.unhealthyThresholdCount,
    ...(http
      ? { HealthCheckPath: hc.path ?? "/", Matcher: { HttpCode: hc.matcher?.httpCode ?? "200-399" } }
      : {}),
  };
}
