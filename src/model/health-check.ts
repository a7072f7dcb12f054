// Target group health checks: the default follows externalTrafficPolicy (DESIGN.md), then each
// healthcheck-* annotation overrides its own field.
import type { HealthCheckPortValue } from "./annotation-values.ts";
import { type AnnotationValues, annotationTable } from "./annotations.ts";
import { annotationProblem, specProblem, textOf } from "./problems.ts";
import { stackIdOf } from "./tags.ts";
import type { HealthCheck, InputProblem, Service, TargetType } from "./types.ts";

export const DEFAULT_HTTP_PATH = "/";
export const DEFAULT_SUCCESS_CODES = "200-399";

/** True when kube-proxy's health check node port tells whether a node has a local endpoint. */
export function usesLocalTrafficHealthCheck(service: Service, targetType: TargetType): boolean {
  return (
    targetType === "instance" &&
    service.spec?.externalTrafficPolicy === "Local" &&
    service.spec?.type === "LoadBalancer"
  );
}

/**
 * Instance targets + externalTrafficPolicy Local + type LoadBalancer: HTTP /healthz on
 * spec.healthCheckNodePort, 10 s / 6 s, 2/2, codes 200-399. Every other case: TCP on
 * traffic-port, 10 s / 10 s, 3/3. (Without a healthCheckNodePort the Local case falls back to
 * traffic-port here; build() refuses such a Service unless healthcheck-port is given.)
 */
export function defaultHealthCheck(service: Service, targetType: TargetType): HealthCheck {
  if (usesLocalTrafficHealthCheck(service, targetType)) {
    return {
      protocol: "HTTP",
      port: validPort(service.spec.healthCheckNodePort) ?? "traffic-port",
      path: "/healthz",
      intervalSeconds: 10,
      timeoutSeconds: 6,
      healthyThresholdCount: 2,
      unhealthyThresholdCount: 2,
      matcher: { httpCode: DEFAULT_SUCCESS_CODES },
    };
  }
  return {
    protocol: "TCP",
    port: "traffic-port",
    intervalSeconds: 10,
    timeoutSeconds: 10,
    healthyThresholdCount: 3,
    unhealthyThresholdCount: 3,
  };
}

function validPort(port: unknown): number | undefined {
  return typeof port === "number" && Number.isInteger(port) && port >= 1 && port <= 65535 ? port : undefined;
}

export interface HealthCheckResult {
  healthCheck: HealthCheck;
  problems: InputProblem[];
}

/**
 * The default with the annotations applied. A TCP health check has no path or matcher (AWS
 * refuses them), so those annotations are ignored then; an HTTP(S) one without them gets the
 * default's path and codes, or `/` and `200-399` when the default was TCP.
 */
export function healthCheckFor(
  service: Service,
  targetType: TargetType,
  values: AnnotationValues,
): HealthCheckResult {
  const object = stackIdOf(service);
  const problems: InputProblem[] = [];
  const base = defaultHealthCheck(service, targetType);
  const protocol = values.healthCheckProtocol ?? base.protocol;

  let port: HealthCheck["port"] = base.port;
  if (values.healthCheckPort !== undefined) {
    const resolved = resolvePort(service, targetType, values.healthCheckPort);
    if ("port" in resolved) port = resolved.port;
    else
      problems.push(
        annotationProblem(object, annotationTable.healthCheckPort.key, {
          value: portText(values.healthCheckPort),
          allowed: resolved.allowed,
        }),
      );
  } else if (
    usesLocalTrafficHealthCheck(service, targetType) &&
    validPort(service.spec.healthCheckNodePort) === undefined
  ) {
    problems.push(
      specProblem(object, "spec.healthCheckNodePort", {
        value: textOf(service.spec.healthCheckNodePort ?? ""),
        allowed: `a port from 1 to 65535 (Kubernetes sets it for type LoadBalancer with externalTrafficPolicy Local), or the annotation ${annotationTable.healthCheckPort.key}`,
      }),
    );
  }

  const intervalSeconds = values.healthCheckInterval ?? base.intervalSeconds;
  const timeoutSeconds = values.healthCheckTimeout ?? base.timeoutSeconds;
  if (timeoutSeconds > intervalSeconds) {
    problems.push(
      values.healthCheckTimeout !== undefined
        ? annotationProblem(object, annotationTable.healthCheckTimeout.key, {
            value: String(timeoutSeconds),
            allowed: `at most the health check interval (${intervalSeconds} seconds)`,
          })
        : annotationProblem(object, annotationTable.healthCheckInterval.key, {
            value: String(intervalSeconds),
            allowed: `at least the health check timeout (${timeoutSeconds} seconds by default)`,
          }),
    );
  }

  const healthCheck: HealthCheck = {
    protocol,
    port,
    intervalSeconds,
    timeoutSeconds,
    healthyThresholdCount: values.healthCheckHealthyThreshold ?? base.healthyThresholdCount,
    unhealthyThresholdCount: values.healthCheckUnhealthyThreshold ?? base.unhealthyThresholdCount,
  };
  if (protocol !== "TCP") {
    healthCheck.path = values.healthCheckPath ?? base.path ?? DEFAULT_HTTP_PATH;
    healthCheck.matcher = {
      httpCode: values.healthCheckSuccessCodes ?? base.matcher?.httpCode ?? DEFAULT_SUCCESS_CODES,
    };
  }
  return { healthCheck: orderedHealthCheck(healthCheck), problems };
}

type ResolvedPort = { port: HealthCheck["port"] } | { allowed: string };

/** A port name becomes the port's nodePort (instance targets) or its numeric targetPort (ip targets). */
function resolvePort(service: Service, targetType: TargetType, value: HealthCheckPortValue): ResolvedPort {
  if (typeof value !== "object") return { port: value };
  const ports = Array.isArray(service.spec?.ports) ? service.spec.ports : [];
  const servicePort = ports.find((candidate) => candidate?.name === value.portName);
  if (!servicePort) {
    const names = ports
      .map((candidate) => candidate?.name)
      .filter((name) => typeof name === "string" && name !== "");
    return {
      allowed: `traffic-port, a port number from 1 to 65535, or the name of a service port (this Service has ${names.length > 0 ? names.join(", ") : "no named ports"})`,
    };
  }
  const found = (port: number | undefined, allowed: string): ResolvedPort =>
    port === undefined ? { allowed } : { port };
  if (targetType === "instance") {
    return found(
      validPort(servicePort.nodePort),
      `the name of a service port that has a nodePort (${value.portName} has none)`,
    );
  }
  const targetPort = servicePort.targetPort ?? servicePort.port;
  return found(
    validPort(typeof targetPort === "string" && /^\d+$/.test(targetPort) ? Number(targetPort) : targetPort),
    `for ip targets, the name of a service port whose targetPort is a number (${value.portName} has targetPort ${textOf(targetPort)})`,
  );
}

function portText(value: HealthCheckPortValue): string {
  return typeof value === "object" ? value.portName : String(value);
}

/** Same field order every time, so serialised plans are byte-stable. */
function orderedHealthCheck(check: HealthCheck): HealthCheck {
  const ordered: HealthCheck = {
    protocol: check.protocol,
    port: check.port,
    ...(check.path === undefined ? {} : { path: check.path }),
    intervalSeconds: check.intervalSeconds,
    timeoutSeconds: check.timeoutSeconds,
    healthyThresholdCount: check.healthyThresholdCount,
    unhealthyThresholdCount: check.unhealthyThresholdCount,
  };
  if (check.matcher !== undefined) ordered.matcher = check.matcher;
  return ordered;
}
