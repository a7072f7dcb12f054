import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { build } from "../../../src/model/build.ts";
import type {
  BuildConfig,
  DesiredStack,
  EndpointSlice,
  InputProblem,
  Node,
  Service,
  ServicePort,
} from "../../../src/model/types.ts";

const P = "service.beta.kubernetes.io/aws-load-balancer-";
const config: BuildConfig = {
  clusterName: "prod",
  loadBalancerClass: "service.k8s.aws/nlb",
  defaultTargetType: "instance",
  defaultScheme: "internal",
};

function service(spec: Partial<Service["spec"]> = {}, annotations: Record<string, string> = {}): Service {
  return {
    metadata: { name: "web", namespace: "shop", uid: "3f1c6a2e-0000-4000-8000-000000000001", annotations },
    spec: {
      type: "LoadBalancer",
      loadBalancerClass: "service.k8s.aws/nlb",
      externalTrafficPolicy: "Cluster",
      ports: [{ name: "http", port: 80, protocol: "TCP", targetPort: 8080, nodePort: 30080 }],
      ...spec,
    },
  };
}

function node(name: string, instanceId: string, labels: Record<string, string> = {}, ready = true): Node {
  return {
    metadata: { name, labels },
    spec: { providerID: `aws:///us-west-2a/${instanceId}` },
    status: { conditions: [{ type: "Ready", status: ready ? "True" : "False" }] },
  };
}

const nodes = [
  node("b", "i-0000000000000000b"),
  node("a", "i-0000000000000000a"),
  node("down", "i-0000000000000000d", {}, false),
];

function slice(ports: EndpointSlice["ports"], addresses: string[], name = "web-abc"): EndpointSlice {
  return {
    metadata: { name, namespace: "shop", labels: { "kubernetes.io/service-name": "web" } },
    addressType: "IPv4",
    ports,
    endpoints: addresses.map((address) => ({ addresses: [address], conditions: { ready: true } })),
  };
}

function stackOf(
  svc: Service,
  slices: EndpointSlice[] = [],
  withNodes: Node[] = nodes,
  cfg = config,
): DesiredStack {
  const result = build(svc, slices, withNodes, cfg);
  assert.ok(result.ok, result.ok ? "" : result.problems.map((p) => p.message).join("\n"));
  return result.stack;
}

function problemsOf(svc: Service, cfg = config): InputProblem[] {
  const result = build(svc, [], nodes, cfg);
  assert.equal(result.ok, false, "expected build to refuse the Service");
  return result.ok ? [] : result.problems;
}

const tcpHealthCheck = {
  protocol: "TCP",
  port: "traffic-port",
  intervalSeconds: 10,
  timeoutSeconds: 10,
  healthyThresholdCount: 3,
  unhealthyThresholdCount: 3,
} as const;

const ownership = (resource: string) => ({
  "elbv2.k8s.aws/cluster": "prod",
  "service.k8s.aws/resource": resource,
  "service.k8s.aws/stack": "shop/web",
});

describe("build: the defaults of DESIGN.md", () => {
  it("an instance-mode Service with nothing set (golden)", () => {
    assert.deepEqual(stackOf(service()), {
      service: "shop/web",
      loadBalancer: {
        name: "k8s-shop-web-7367d75979",
        type: "network",
        scheme: "internal",
        ipAddressType: "ipv4",
        attributes: {},
        tags: ownership("LoadBalancer"),
      },
      listeners: [{ port: 80, protocol: "TCP", targetGroup: "shop/web:80" }],
      targetGroups: [
        {
          id: "shop/web:80",
          name: "k8s-shop-web-4928a317fe",
          targetType: "instance",
          protocol: "TCP",
          port: 30080,
          ipAddressType: "ipv4",
          healthCheck: tcpHealthCheck,
          attributes: { "proxy_protocol_v2.enabled": "false" },
          tags: ownership("shop/web:80"),
          targets: [
            { id: "i-0000000000000000a", port: 30080 },
            { id: "i-0000000000000000b", port: 30080 },
          ],
        },
      ],
      securityGroups: {
        managed: {
          name: "k8s-shop-web-202c493d8a",
          description: "Frontend security group of an NLB managed by aws-nlb-controller",
          ingress: [{ protocol: "tcp", fromPort: 80, toPort: 80, source: { cidr: "0.0.0.0/0" } }],
          tags: ownership("ManagedLBSecurityGroup"),
        },
        manageBackendRules: true,
      },
    });
  });

  it("an ip-mode Service with externalTrafficPolicy Local (golden)", () => {
    const svc = service(
      { externalTrafficPolicy: "Local", healthCheckNodePort: 32000 },
      { [`${P}nlb-target-type`]: "ip" },
    );
    const stack = stackOf(svc, [slice([{ name: "http", port: 8080 }], ["10.0.1.7", "10.0.1.5"])]);
    assert.deepEqual(stack.targetGroups, [
      {
        id: "shop/web:80",
        name: stack.targetGroups[0]!.name,
        targetType: "ip",
        protocol: "TCP",
        port: 8080,
        ipAddressType: "ipv4",
        healthCheck: tcpHealthCheck,
        attributes: { "proxy_protocol_v2.enabled": "false" },
        tags: ownership("shop/web:80"),
        targets: [
          { id: "10.0.1.5", port: 8080 },
          { id: "10.0.1.7", port: 8080 },
        ],
      },
    ]);
  });

  it("instance mode with externalTrafficPolicy Local checks kube-proxy's healthCheckNodePort over HTTP", () => {
    const stack = stackOf(service({ externalTrafficPolicy: "Local", healthCheckNodePort: 32000 }));
    assert.deepEqual(stack.targetGroups[0]!.healthCheck, {
      protocol: "HTTP",
      port: 32000,
      path: "/healthz",
      intervalSeconds: 10,
      timeoutSeconds: 6,
      healthyThresholdCount: 2,
      unhealthyThresholdCount: 2,
      matcher: { httpCode: "200-399" },
    });
  });

  it("a change of externalTrafficPolicy changes only the health check, never the target group's name or port", () => {
    const cluster = stackOf(service({ healthCheckNodePort: 32000 }));
    const local = stackOf(service({ externalTrafficPolicy: "Local", healthCheckNodePort: 32000 }));
    const { healthCheck: a, ...restCluster } = cluster.targetGroups[0]!;
    const { healthCheck: b, ...restLocal } = local.targetGroups[0]!;
    assert.notDeepEqual(a, b);
    assert.deepEqual(restCluster, restLocal);
  });

  it("uses the configured default scheme and target type", () => {
    const stack = stackOf(service(), [slice([{ name: "http", port: 8080 }], ["10.0.0.1"])], nodes, {
      ...config,
      defaultScheme: "internet-facing",
      defaultTargetType: "ip",
    });
    assert.equal(stack.loadBalancer.scheme, "internet-facing");
    assert.equal(stack.targetGroups[0]!.targetType, "ip");
    assert.deepEqual(stack.targetGroups[0]!.targets, [{ id: "10.0.0.1", port: 8080 }]);
  });
});

describe("build: scheme", () => {
  const cases: [Record<string, string>, string][] = [
    [{}, "internal"],
    [{ [`${P}scheme`]: "internet-facing" }, "internet-facing"],
    [{ [`${P}scheme`]: "Internal" }, "internal"],
    [{ [`${P}internal`]: "true" }, "internal"],
    [{ [`${P}internal`]: "false" }, "internet-facing"],
    [{ [`${P}internal`]: "false", [`${P}scheme`]: "internal" }, "internal"],
    [{ [`${P}internal`]: "true", [`${P}scheme`]: "internet-facing" }, "internet-facing"],
  ];
  for (const [annotations, scheme] of cases) {
    it(`${JSON.stringify(annotations)} -> ${scheme}`, () => {
      assert.equal(stackOf(service({}, annotations)).loadBalancer.scheme, scheme);
    });
  }

  it("a scheme change gives the NLB a new name (AWS cannot change a scheme)", () => {
    const internal = stackOf(service()).loadBalancer.name;
    const facing = stackOf(service({}, { [`${P}scheme`]: "internet-facing" })).loadBalancer.name;
    assert.equal(facing, "k8s-shop-web-74ecb4bf54");
    assert.notEqual(internal, facing);
  });
});

describe("build: target type", () => {
  const slices = [slice([{ name: "http", port: 8080 }], ["10.0.0.1"])];
  const cases: [Record<string, string>, string][] = [
    [{}, "instance"],
    [{ [`${P}nlb-target-type`]: "ip" }, "ip"],
    [{ [`${P}nlb-target-type`]: "Instance" }, "instance"],
    [{ [`${P}type`]: "nlb-ip" }, "ip"],
    [{ [`${P}type`]: "nlb-ip", [`${P}nlb-target-type`]: "instance" }, "ip"],
    [{ [`${P}type`]: "external", [`${P}nlb-target-type`]: "instance" }, "instance"],
  ];
  for (const [annotations, targetType] of cases) {
    it(`${JSON.stringify(annotations)} -> ${targetType}`, () => {
      assert.equal(stackOf(service({}, annotations), slices).targetGroups[0]!.targetType, targetType);
    });
  }
});

describe("build: listeners and target groups", () => {
  it("one listener and target group per port, ordered by port", () => {
    const stack = stackOf(
      service({
        ports: [
          { name: "https", port: 443, targetPort: 8443, nodePort: 30443 },
          { name: "http", port: 80, targetPort: 8080, nodePort: 30080 },
        ],
      }),
    );
    assert.deepEqual(stack.listeners, [
      { port: 80, protocol: "TCP", targetGroup: "shop/web:80" },
      { port: 443, protocol: "TCP", targetGroup: "shop/web:443" },
    ]);
    assert.deepEqual(
      stack.targetGroups.map((tg) => [tg.id, tg.port, tg.tags["service.k8s.aws/resource"]]),
      [
        ["shop/web:80", 30080, "shop/web:80"],
        ["shop/web:443", 30443, "shop/web:443"],
      ],
    );
    assert.notEqual(stack.targetGroups[0]!.name, stack.targetGroups[1]!.name);
  });

  it("a UDP port becomes a UDP listener and target group", () => {
    const stack = stackOf(
      service({ ports: [{ name: "syslog", port: 514, protocol: "UDP", nodePort: 30514 }] }),
    );
    assert.deepEqual(stack.listeners, [{ port: 514, protocol: "UDP", targetGroup: "shop/web:514" }]);
    assert.equal(stack.targetGroups[0]!.protocol, "UDP");
  });

  it("a TCP and a UDP port with the same number become one TCP_UDP listener and target group", () => {
    const ports: ServicePort[] = [
      { name: "dns-udp", port: 53, protocol: "UDP", targetPort: 5353, nodePort: 30053 },
      { name: "dns-tcp", port: 53, protocol: "TCP", targetPort: 5353, nodePort: 30053 },
    ];
    const instance = stackOf(service({ ports }));
    assert.deepEqual(instance.listeners, [{ port: 53, protocol: "TCP_UDP", targetGroup: "shop/web:53" }]);
    assert.equal(instance.targetGroups.length, 1);
    assert.equal(instance.targetGroups[0]!.protocol, "TCP_UDP");
    assert.equal(instance.targetGroups[0]!.port, 30053);

    const slices = [
      slice(
        [
          { name: "dns-tcp", port: 5353, protocol: "TCP" },
          { name: "dns-udp", port: 5353, protocol: "UDP" },
        ],
        ["10.0.0.1"],
      ),
    ];
    const ip = stackOf(service({ ports }, { [`${P}nlb-target-type`]: "ip" }), slices);
    assert.equal(ip.targetGroups[0]!.protocol, "TCP_UDP");
    assert.equal(ip.targetGroups[0]!.port, 5353);
    assert.deepEqual(ip.targetGroups[0]!.targets, [{ id: "10.0.0.1", port: 5353 }]);
  });

  it("a TCP_UDP pair with different nodePorts is refused", () => {
    const problems = problemsOf(
      service({
        ports: [
          { name: "dns-tcp", port: 53, protocol: "TCP", nodePort: 30053 },
          { name: "dns-udp", port: 53, protocol: "UDP", nodePort: 30054 },
        ],
      }),
    );
    assert.deepEqual(
      problems.map((p) => p.message),
      [
        'service shop/web: spec.ports[1].nodePort: "30054" is not valid: equal to spec.ports[0].nodePort (30053): TCP and UDP port 53 share one TCP_UDP target group',
      ],
    );
  });

  it("SCTP, duplicate ports and bad port numbers are InvalidSpec problems naming the field", () => {
    const problems = problemsOf(
      service({
        ports: [
          { name: "a", port: 80, nodePort: 30080 },
          { name: "b", port: 80, protocol: "TCP", nodePort: 30081 },
          { name: "c", port: 9999, protocol: "SCTP", nodePort: 30082 },
          { name: "d", port: 70000, nodePort: 30083 },
        ],
      }),
    );
    assert.deepEqual(
      problems.map((p) => [p.reason, p.field, p.value]),
      [
        ["InvalidSpec", "spec.ports[1].port", "80/TCP"],
        ["InvalidSpec", "spec.ports[2].protocol", "SCTP"],
        ["InvalidSpec", "spec.ports[3].port", "70000"],
      ],
    );
    assert.equal(
      problems[0]!.message,
      'service shop/web: spec.ports[1].port: "80/TCP" is not valid: each port and protocol once (spec.ports[0] has 80/TCP already)',
    );
    assert.equal(
      problems[1]!.message,
      'service shop/web: spec.ports[2].protocol: "SCTP" is not valid: TCP or UDP (an NLB has no SCTP listeners)',
    );
  });

  it("at most 50 listeners", () => {
    const ports = (count: number): ServicePort[] =>
      Array.from({ length: count }, (_, i) => ({ name: `p${i}`, port: 1000 + i, nodePort: 30000 + i }));
    assert.equal(stackOf(service({ ports: ports(50) })).listeners.length, 50);
    const problems = problemsOf(service({ ports: ports(51) }));
    assert.deepEqual(
      problems.map((p) => p.message),
      [
        'service shop/web: spec.ports: "51 listeners" is not valid: at most 50 listeners per NLB (a TCP and a UDP port with the same number share one)',
      ],
    );
  });

  it("a Service without ports is refused", () => {
    assert.deepEqual(
      problemsOf(service({ ports: [] })).map((p) => p.field),
      ["spec.ports"],
    );
  });
});

describe("build: target group ports", () => {
  it("instance targets: the nodePort; a missing nodePort names spec.ports[i].nodePort", () => {
    const problems = problemsOf(
      service({
        ports: [
          { name: "http", port: 80, nodePort: 30080 },
          { name: "https", port: 443 },
        ],
      }),
    );
    assert.deepEqual(
      problems.map((p) => [p.field, p.reason]),
      [["spec.ports[1].nodePort", "InvalidSpec"]],
    );
    assert.match(
      problems[0]!.message,
      /^service shop\/web: spec\.ports\[1\]\.nodePort: "" is not valid: a nodePort from 1 to 65535/,
    );
  });

  it("ip targets: the numeric targetPort, else the port itself", () => {
    const ip = { [`${P}nlb-target-type`]: "ip" };
    assert.equal(stackOf(service({}, ip)).targetGroups[0]!.port, 8080);
    assert.equal(stackOf(service({ ports: [{ port: 80 }] }, ip)).targetGroups[0]!.port, 80);
  });

  it("ip targets with a named targetPort: target group port 1, targets on each endpoint's own port", () => {
    const svc = service(
      { ports: [{ name: "http", port: 80, targetPort: "web" }] },
      { [`${P}nlb-target-type`]: "ip" },
    );
    const stack = stackOf(svc, [
      slice([{ name: "http", port: 8080 }], ["10.0.0.1"], "web-a"),
      slice([{ name: "http", port: 9090 }], ["10.0.0.2"], "web-b"),
    ]);
    assert.equal(stack.targetGroups[0]!.port, 1);
    assert.deepEqual(stack.targetGroups[0]!.targets, [
      { id: "10.0.0.1", port: 8080 },
      { id: "10.0.0.2", port: 9090 },
    ]);
    const withoutEndpoints = stackOf(svc);
    assert.equal(withoutEndpoints.targetGroups[0]!.port, 1);
    assert.equal(withoutEndpoints.targetGroups[0]!.name, stack.targetGroups[0]!.name);
  });

  it("ip targets: an empty or out-of-range targetPort names spec.ports[i].targetPort", () => {
    const ip = { [`${P}nlb-target-type`]: "ip" };
    for (const targetPort of ["", 0, 70000]) {
      const problems = problemsOf(service({ ports: [{ name: "http", port: 80, targetPort }] }, ip));
      assert.deepEqual(
        problems.map((p) => [p.field, p.allowed]),
        [["spec.ports[0].targetPort", "a port from 1 to 65535 or the name of a container port"]],
        String(targetPort),
      );
    }
  });

  it("ip targets ignore slices of other Services and not-ready endpoints", () => {
    const foreign: EndpointSlice = {
      ...slice([{ name: "http", port: 8080 }], ["10.9.9.9"]),
      metadata: { name: "api-x", namespace: "shop", labels: { "kubernetes.io/service-name": "api" } },
    };
    const notReady: EndpointSlice = {
      ...slice([{ name: "http", port: 8080 }], []),
      endpoints: [{ addresses: ["10.0.0.3"], conditions: { ready: false } }],
    };
    const stack = stackOf(service({}, { [`${P}nlb-target-type`]: "ip" }), [foreign, notReady]);
    assert.deepEqual(stack.targetGroups[0]!.targets, []);
  });
});

describe("build: annotations", () => {
  it("name overrides the generated NLB name", () => {
    assert.equal(stackOf(service({}, { [`${P}name`]: "shop-web" })).loadBalancer.name, "shop-web");
  });

  it("subnets appear only when the annotation gives them", () => {
    assert.equal("subnets" in stackOf(service()).loadBalancer, false);
    assert.deepEqual(
      stackOf(service({}, { [`${P}subnets`]: "subnet-0123abcd, public-b" })).loadBalancer.subnets,
      ["subnet-0123abcd", "public-b"],
    );
  });

  it("attributes hold only what the user gave, with sorted keys", () => {
    const stack = stackOf(
      service(
        {},
        { [`${P}attributes`]: "load_balancing.cross_zone.enabled=true,deletion_protection.enabled=true" },
      ),
    );
    assert.deepEqual(Object.entries(stack.loadBalancer.attributes), [
      ["deletion_protection.enabled", "true"],
      ["load_balancing.cross_zone.enabled", "true"],
    ]);
  });

  it("ip-address-type dualstack sets the NLB's type; target groups stay ipv4", () => {
    const stack = stackOf(service({}, { [`${P}ip-address-type`]: "dualstack" }));
    assert.equal(stack.loadBalancer.ipAddressType, "dualstack");
    assert.equal(stack.targetGroups[0]!.ipAddressType, "ipv4");
  });

  it("proxy-protocol * turns proxy protocol v2 on for every target group, over target-group-attributes", () => {
    const ports: ServicePort[] = [
      { name: "a", port: 80, nodePort: 30080 },
      { name: "b", port: 443, nodePort: 30443 },
    ];
    const on = stackOf(service({ ports }, { [`${P}proxy-protocol`]: "*" }));
    for (const tg of on.targetGroups) assert.equal(tg.attributes["proxy_protocol_v2.enabled"], "true");
    const both = stackOf(
      service(
        { ports },
        {
          [`${P}proxy-protocol`]: "*",
          [`${P}target-group-attributes`]: "proxy_protocol_v2.enabled=false",
        },
      ),
    );
    for (const tg of both.targetGroups) assert.equal(tg.attributes["proxy_protocol_v2.enabled"], "true");
  });

  it("target-group-attributes merge with the proxy protocol default, keys sorted", () => {
    const stack = stackOf(
      service(
        {},
        {
          [`${P}target-group-attributes`]:
            "preserve_client_ip.enabled=true,deregistration_delay.timeout_seconds=30",
        },
      ),
    );
    assert.deepEqual(Object.entries(stack.targetGroups[0]!.attributes), [
      ["deregistration_delay.timeout_seconds", "30"],
      ["preserve_client_ip.enabled", "true"],
      ["proxy_protocol_v2.enabled", "false"],
    ]);
    const explicit = stackOf(
      service({}, { [`${P}target-group-attributes`]: "proxy_protocol_v2.enabled=true" }),
    );
    assert.equal(explicit.targetGroups[0]!.attributes["proxy_protocol_v2.enabled"], "true");
  });

  it("tags: additional-resource-tags, then --default-tags, then ownership tags win", () => {
    const stack = stackOf(
      service(
        {},
        {
          [`${P}additional-resource-tags`]:
            "team=payments,env=dev,elbv2.k8s.aws/cluster=evil,service.k8s.aws/stack=x/y",
        },
      ),
      [],
      nodes,
      { ...config, defaultTags: { env: "prod", costcenter: "42" } },
    );
    const expected = {
      costcenter: "42",
      "elbv2.k8s.aws/cluster": "prod",
      env: "prod",
      "service.k8s.aws/resource": "LoadBalancer",
      "service.k8s.aws/stack": "shop/web",
      team: "payments",
    };
    assert.deepEqual(stack.loadBalancer.tags, expected);
    assert.deepEqual(Object.keys(stack.loadBalancer.tags), Object.keys(expected));
    assert.deepEqual(stack.targetGroups[0]!.tags, { ...expected, "service.k8s.aws/resource": "shop/web:80" });
  });

  it("at most 50 tags per resource", () => {
    const tags = (count: number) => Array.from({ length: count }, (_, i) => `t${i}=v`).join(",");
    assert.equal(
      Object.keys(stackOf(service({}, { [`${P}additional-resource-tags`]: tags(47) })).loadBalancer.tags)
        .length,
      50,
    );
    const problems = problemsOf(service({}, { [`${P}additional-resource-tags`]: tags(48) }));
    assert.deepEqual(
      problems.map((p) => p.message),
      [
        `service shop/web: annotation ${P}additional-resource-tags: "48 tags" is not valid: at most 50 tags per AWS resource in all, of which 3 are the controller's own`,
      ],
    );
  });

  it("target-node-labels narrows instance targets", () => {
    const labelled = [
      node("edge-1", "i-0000000000000000e", { pool: "edge" }),
      node("core-1", "i-0000000000000000c", { pool: "core" }),
    ];
    const stack = stackOf(service({}, { [`${P}target-node-labels`]: "pool=edge" }), [], labelled);
    assert.deepEqual(stack.targetGroups[0]!.targets, [{ id: "i-0000000000000000e", port: 30080 }]);
  });

  it("every healthcheck-* annotation reaches each target group", () => {
    const stack = stackOf(
      service(
        {
          ports: [
            { name: "a", port: 80, nodePort: 30080 },
            { name: "b", port: 443, nodePort: 30443 },
          ],
        },
        {
          [`${P}healthcheck-protocol`]: "http",
          [`${P}healthcheck-port`]: "10254",
          [`${P}healthcheck-path`]: "/ready",
          [`${P}healthcheck-interval`]: "30",
          [`${P}healthcheck-timeout`]: "5",
          [`${P}healthcheck-healthy-threshold`]: "4",
          [`${P}healthcheck-unhealthy-threshold`]: "5",
          [`${P}healthcheck-success-codes`]: "200-299",
        },
      ),
    );
    for (const tg of stack.targetGroups) {
      assert.deepEqual(tg.healthCheck, {
        protocol: "HTTP",
        port: 10254,
        path: "/ready",
        intervalSeconds: 30,
        timeoutSeconds: 5,
        healthyThresholdCount: 4,
        unhealthyThresholdCount: 5,
        matcher: { httpCode: "200-299" },
      });
    }
  });

  it("health check and attribute changes do not rename target groups", () => {
    const plain = stackOf(service());
    const tuned = stackOf(
      service(
        {},
        {
          [`${P}healthcheck-protocol`]: "http",
          [`${P}healthcheck-interval`]: "30",
          [`${P}target-group-attributes`]: "deregistration_delay.timeout_seconds=5",
          [`${P}proxy-protocol`]: "*",
        },
      ),
    );
    assert.equal(tuned.targetGroups[0]!.name, plain.targetGroups[0]!.name);
  });

  it("collects problems from annotations and spec together", () => {
    const problems = problemsOf(
      service(
        { ports: [{ name: "x", port: 80, protocol: "SCTP" }] },
        {
          [`${P}scheme`]: "public",
          [`${P}healthcheck-timeout`]: "200",
          [`${P}proxy-protocol`]: "yes",
        },
      ),
    );
    assert.deepEqual(
      problems.map((p) => p.field),
      [
        `annotation ${P}scheme`,
        `annotation ${P}healthcheck-timeout`,
        `annotation ${P}proxy-protocol`,
        "spec.ports[0].protocol",
      ],
    );
    for (const problem of problems) assert.ok(problem.message.startsWith("service shop/web: "));
  });
});

describe("build: stable output", () => {
  it("the same input gives byte-identical JSON, whatever the input order", () => {
    const svc = service(
      {
        ports: [
          { name: "b", port: 443, nodePort: 30443 },
          { name: "a", port: 80, nodePort: 30080 },
        ],
      },
      {
        [`${P}additional-resource-tags`]: "z=1,a=2",
        [`${P}target-group-attributes`]: "stickiness.enabled=true,deregistration_delay.timeout_seconds=10",
      },
    );
    const first = JSON.stringify(stackOf(svc, [], nodes));
    const second = JSON.stringify(stackOf(structuredClone(svc), [], [...nodes].reverse()));
    assert.equal(first, second);
  });

  it("does not share objects between target groups", () => {
    const stack = stackOf(
      service({
        ports: [
          { name: "a", port: 80, nodePort: 30080 },
          { name: "b", port: 443, nodePort: 30443 },
        ],
      }),
    );
    assert.notEqual(stack.targetGroups[0]!.healthCheck, stack.targetGroups[1]!.healthCheck);
    assert.notEqual(stack.targetGroups[0]!.attributes, stack.targetGroups[1]!.attributes);
  });

  it("all generated names are at most 32 characters", () => {
    const long = service({}, {});
    long.metadata.namespace = "a-very-long-namespace-name-for-payments";
    long.metadata.name = "checkout-service-with-a-long-name";
    const stack = stackOf(long);
    assert.ok(stack.loadBalancer.name.length <= 32);
    for (const tg of stack.targetGroups) assert.ok(tg.name.length <= 32);
  });
});
