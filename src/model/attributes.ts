// The NLB and target group attributes a user may set, each with the values AWS accepts.
// Unknown keys are refused: a typo would otherwise surface only as an AWS error at apply time.

import { booleanText, charCount, fail, integer, keyValueMap, ok, oneOf, type Parser } from "./parse.ts";
import type { ValueError } from "./problems.ts";

/** An access log prefix: S3 keys may hold any character but control characters. */
export const s3Prefix: Parser<string> = (raw) =>
  charCount(raw) <= 1024 && !/[\p{Cc}]/u.test(raw) ? ok(raw) : fail(raw, "text of at most 1024 characters");

const integerText =
  (min: number, max: number): Parser<string> =>
  (raw) => {
    const parsed = integer(min, max)(raw);
    return parsed.ok ? ok(String(parsed.value)) : parsed;
  };

const offOr =
  (inner: Parser<string>): Parser<string> =>
  (raw) => {
    if (raw.trim().toLowerCase() === "off") return ok("off");
    const parsed = inner(raw);
    return parsed.ok ? parsed : fail(raw, `off, or ${parsed.errors[0]?.allowed ?? "a number"}`);
  };

export const s3BucketName: Parser<string> = (raw) =>
  raw === "" || /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/.test(raw)
    ? ok(raw)
    : fail(raw, "an S3 bucket name: 3 to 63 lower-case letters, digits, '.' or '-'");

export const LOAD_BALANCER_ATTRIBUTES: Readonly<Record<string, Parser<string>>> = {
  "access_logs.s3.bucket": s3BucketName,
  "access_logs.s3.enabled": booleanText,
  "access_logs.s3.prefix": s3Prefix,
  "deletion_protection.enabled": booleanText,
  "dns_record.client_routing_policy": oneOf([
    "any_availability_zone",
    "availability_zone_affinity",
    "partial_availability_zone_affinity",
  ]),
  "ipv6.deny_all_igw_traffic": booleanText,
  "load_balancing.cross_zone.enabled": booleanText,
  "secondary_ips.auto_assigned.per_subnet": integerText(0, 7),
  "zonal_shift.config.enabled": booleanText,
};

export const TARGET_GROUP_ATTRIBUTES: Readonly<Record<string, Parser<string>>> = {
  "deregistration_delay.connection_termination.enabled": booleanText,
  "deregistration_delay.timeout_seconds": integerText(0, 3600),
  "load_balancing.cross_zone.enabled": oneOf(["true", "false", "use_load_balancer_configuration"]),
  "preserve_client_ip.enabled": booleanText,
  "proxy_protocol_v2.enabled": booleanText,
  "stickiness.enabled": booleanText,
  "stickiness.type": oneOf(["source_ip"]),
  "target_group_health.dns_failover.minimum_healthy_targets.count": offOr(integerText(1, 1000)),
  "target_group_health.dns_failover.minimum_healthy_targets.percentage": offOr(integerText(1, 100)),
  "target_group_health.unhealthy_state_routing.minimum_healthy_targets.count": integerText(1, 1000),
  "target_group_health.unhealthy_state_routing.minimum_healthy_targets.percentage": offOr(
    integerText(1, 100),
  ),
  "target_health_state.unhealthy.connection_termination.enabled": booleanText,
  "target_health_state.unhealthy.draining_interval_seconds": integerText(0, 360000),
};

/** Listener attributes AWS lets an NLB change; only TCP listeners take any (TLS keeps a fixed 350 s idle timeout). */
export const LISTENER_ATTRIBUTES: Readonly<Record<string, Parser<string>>> = {
  "tcp.idle_timeout.seconds": integerText(60, 6000),
};

function attributeMap(
  what: string,
  known: Readonly<Record<string, Parser<string>>>,
  crossCheck?: (attributes: Record<string, string>) => ValueError[],
): Parser<Record<string, string>> {
  const parseMap = keyValueMap({
    what,
    key: (key) =>
      Object.hasOwn(known, key)
        ? undefined
        : { value: key, allowed: `one of the ${what}: ${Object.keys(known).join(", ")}` },
    value: (value, key) => {
      const parsed = known[key]!(value);
      return parsed.ok ? parsed : fail(`${key}=${value}`, `${key} takes ${parsed.errors[0]?.allowed}`);
    },
  });
  return (raw) => {
    const parsed = parseMap(raw);
    if (!parsed.ok || !crossCheck) return parsed;
    const errors = crossCheck(parsed.value);
    return errors.length > 0 ? { ok: false, errors } : parsed;
  };
}

export const loadBalancerAttributes = attributeMap(
  "NLB attributes",
  LOAD_BALANCER_ATTRIBUTES,
  (attributes) =>
    attributes["access_logs.s3.enabled"] === "true" && !attributes["access_logs.s3.bucket"]
      ? [
          {
            value: "access_logs.s3.enabled=true",
            allowed: "access logs need access_logs.s3.bucket=<bucket name> too",
          },
        ]
      : [],
);

export const targetGroupAttributes: Parser<Record<string, string>> = attributeMap(
  "target group attributes",
  TARGET_GROUP_ATTRIBUTES,
);

export const listenerAttributes: Parser<Record<string, string>> = attributeMap(
  "listener attributes",
  LISTENER_ATTRIBUTES,
);
