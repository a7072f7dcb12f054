import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { parseAnnotations } from "../../../src/model/annotations.ts";
import { defaultHealthCheck, healthCheckFor } from "../../../src/model/health-check.ts";
import type { HealthCheck, Service, TargetType } from "../../../src/model/types.ts";

const P = "service.beta.kubernetes.io/aws-load-balancer-";

function service(spec: Partial<Service["spec"]> = {}, annotations: Record<string, string> = {}): Service {
  return {
    metadata: { name: "web", namespace: "shop", annotations },
    spec: {
      type: "LoadBalancer",
      ports: [
        { name: "http", port: 80, protocol: "TCP", targetPort: 8080, nodePort: 30080 },
        { name: "admin", port: 9000, protocol: "TCP", targetPort: "admin", nodePort: 30900 },
      ],
      ...spec,
    },
  };
}

const LOCAL_DEFAULT: HealthCheck = {
  protocol: "HTTP",
  port: 32123,
  path: "/healthz",
  intervalSeconds: 10,
  timeoutSeconds: 6,
  healthyThresholdCount: 2,
  unhealthyThresholdCount: 2,
  matcher: { httpCode: "200-399" },
};

const TCP_DEFAULT: HealthCheck = {
  protocol: "TCP",
  port: "traffic-port",
  intervalSeconds: 10,
  timeoutSeconds: 10,
  healthyThresholdCount: 3,
  unhealthyThresholdCount: 3,
};

function resolved(svc: Service, targetType: TargetType) {
  return healthCheckFor(svc, targetType, parseAnnotations(svc).values);
}

const local = { externalTrafficPolicy: "Local", healthCheckNodePort: 32123 } as const;

describe("defaultHealthCheck", () => {
  it("instance targets + Local + type LoadBalancer: HTTP /healthz on healthCheckNodePort, 10/6, 2/2, 200-399", () => {
    assert.deepEqual(defaultHealthCheck(service(local), "instance"), LOCAL_DEFAULT);
  });

  it("instance targets + Cluster: TCP on traffic-port, 10/10, 3/3", () => {
    assert.deepEqual(
      defaultHealthCheck(service({ externalTrafficPolicy: "Cluster" }), "instance"),
      TCP_DEFAULT,
    );
  });

  it("instance targets without a policy: TCP", () => {
    assert.deepEqual(defaultHealthCheck(service(), "instance"), TCP_DEFAULT);
  });

  it("ip targets + Local: TCP (pods answer for themselves)", () => {
    assert.deepEqual(defaultHealthCheck(service(local), "ip"), TCP_DEFAULT);
  });

  it("Local on a Service that is not type LoadBalancer: TCP", () => {
    assert.deepEqual(defaultHealthCheck(service({ ...local, type: "NodePort" }), "instance"), TCP_DEFAULT);
  });
});

describe("healthCheckFor: annotations override their own field", () => {
  it("without annotations is the default", () => {
    assert.deepEqual(resolved(service(local), "instance"), { healthCheck: LOCAL_DEFAULT, problems: [] });
    assert.deepEqual(resolved(service(), "ip"), { healthCheck: TCP_DEFAULT, problems: [] });
  });

  const overrides: [string, string, Partial<HealthCheck>][] = [
    ["healthcheck-port", "8081", { port: 8081 }],
    ["healthcheck-port", "traffic-port", { port: "traffic-port" }],
    ["healthcheck-interval", "30", { intervalSeconds: 30 }],
    ["healthcheck-timeout", "5", { timeoutSeconds: 5 }],
    ["healthcheck-healthy-threshold", "5", { healthyThresholdCount: 5 }],
    ["healthcheck-unhealthy-threshold", "7", { unhealthyThresholdCount: 7 }],
    ["healthcheck-path", "/ready", { path: "/ready" }],
    ["healthcheck-success-codes", "200,204", { matcher: { httpCode: "200,204" } }],
  ];
  for (const [suffix, value, change] of overrides) {
    it(`${suffix}=${value} changes only that field of the Local default`, () => {
      const result = resolved(service(local, { [`${P}${suffix}`]: value }), "instance");
      assert.deepEqual(result, { healthCheck: { ...LOCAL_DEFAULT, ...change }, problems: [] });
    });
  }

  it("healthcheck-protocol HTTP on the TCP default adds path / and codes 200-399", () => {
    const result = resolved(service({}, { [`${P}healthcheck-protocol`]: "http" }), "instance");
    assert.deepEqual(result.healthCheck, {
      ...TCP_DEFAULT,
      protocol: "HTTP",
      path: "/",
      matcher: { httpCode: "200-399" },
    });
  });

  it("healthcheck-protocol HTTPS with path and codes uses them", () => {
    const result = resolved(
      service(
        {},
        {
          [`${P}healthcheck-protocol`]: "HTTPS",
          [`${P}healthcheck-path`]: "/status",
          [`${P}healthcheck-success-codes`]: "200-299",
        },
      ),
      "ip",
    );
    assert.deepEqual(result.healthCheck, {
      ...TCP_DEFAULT,
      protocol: "HTTPS",
      path: "/status",
      matcher: { httpCode: "200-299" },
    });
  });

  it("healthcheck-protocol HTTPS on the Local default keeps /healthz", () => {
    const result = resolved(service(local, { [`${P}healthcheck-protocol`]: "https" }), "instance");
    assert.deepEqual(result.healthCheck, { ...LOCAL_DEFAULT, protocol: "HTTPS" });
  });

  it("a TCP health check ignores path and success codes (AWS refuses them)", () => {
    const result = resolved(
      service(local, {
        [`${P}healthcheck-protocol`]: "TCP",
        [`${P}healthcheck-path`]: "/ready",
        [`${P}healthcheck-success-codes`]: "200",
      }),
      "instance",
    );
    assert.deepEqual(result, {
      healthCheck: {
        protocol: "TCP",
        port: 32123,
        intervalSeconds: 10,
        timeoutSeconds: 6,
        healthyThresholdCount: 2,
        unhealthyThresholdCount: 2,
      },
      problems: [],
    });
  });

  it("a named healthcheck-port is the port's nodePort for instance targets and its targetPort for ip targets", () => {
    const annotations = { [`${P}healthcheck-port`]: "http" };
    assert.equal(resolved(service({}, annotations), "instance").healthCheck.port, 30080);
    assert.equal(resolved(service({}, annotations), "ip").healthCheck.port, 8080);
  });

  it("a named healthcheck-port that cannot be resolved is a problem", () => {
    const unknown = resolved(service({}, { [`${P}healthcheck-port`]: "metrics" }), "instance").problems;
    assert.equal(unknown.length, 1);
    assert.equal(unknown[0]?.value, "metrics");
    assert.match(unknown[0]!.allowed, /this Service has http, admin\)$/);
    const named = resolved(service({}, { [`${P}healthcheck-port`]: "admin" }), "ip").problems;
    assert.match(
      named[0]!.allowed,
      /^for ip targets, the name of a service port whose targetPort is a number/,
    );
  });
});

describe("cross-field rules", () => {
  it("a timeout above the interval names the timeout annotation", () => {
    const { problems } = resolved(
      service({}, { [`${P}healthcheck-interval`]: "5", [`${P}healthcheck-timeout`]: "6" }),
      "instance",
    );
    assert.deepEqual(
      problems.map((problem) => problem.message),
      [
        `service shop/web: annotation ${P}healthcheck-timeout: "6" is not valid: at most the health check interval (5 seconds)`,
      ],
    );
  });

  it("an interval below the default timeout names the interval annotation", () => {
    const { problems } = resolved(service({}, { [`${P}healthcheck-interval`]: "5" }), "instance");
    assert.deepEqual(
      problems.map((problem) => problem.message),
      [
        `service shop/web: annotation ${P}healthcheck-interval: "5" is not valid: at least the health check timeout (10 seconds by default)`,
      ],
    );
  });

  it("a timeout equal to the interval is fine", () => {
    const { problems } = resolved(
      service({}, { [`${P}healthcheck-interval`]: "6", [`${P}healthcheck-timeout`]: "6" }),
      "instance",
    );
    assert.deepEqual(problems, []);
  });

  it("Local without a healthCheckNodePort is an InvalidSpec unless healthcheck-port is given", () => {
    const missing = resolved(service({ externalTrafficPolicy: "Local" }), "instance").problems;
    assert.equal(missing.length, 1);
    assert.equal(missing[0]?.reason, "InvalidSpec");
    assert.equal(missing[0]?.field, "spec.healthCheckNodePort");
    const given = resolved(
      service({ externalTrafficPolicy: "Local" }, { [`${P}healthcheck-port`]: "10256" }),
      "instance",
    );
    assert.deepEqual(given.problems, []);
    assert.equal(given.healthCheck.port, 10256);
  });
});

describe("field order", () => {
  it("is the same for every health check, so serialised plans are stable", () => {
    const http = resolved(service({}, { [`${P}healthcheck-protocol`]: "http" }), "instance").healthCheck;
    assert.deepEqual(Object.keys(http), [
      "protocol",
      "port",
      "path",
      "intervalSeconds",
      "timeoutSeconds",
      "healthyThresholdCount",
      "unhealthyThresholdCount",
      "matcher",
    ]);
  });
});
