// build() with the annotations of issue 4: TLS listeners, per-port target group settings, the
// deprecated NLB attribute annotations and fixed addresses, with every cross-field refusal.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { build } from "../../../src/model/build.ts";
import type {
  BuildConfig,
  DesiredStack,
  InputProblem,
  Node,
  Service,
  ServicePort,
} from "../../../src/model/types.ts";

const P = "service.beta.kubernetes.io/aws-load-balancer-";
const ACM = "arn:aws:acm:us-west-2:123456789012:certificate/12345678-1234-1234-1234-123456789012";
const IAM = "arn:aws:iam::123456789012:server-certificate/web";
const config: BuildConfig = {
  clusterName: "prod",
  loadBalancerClass: "service.k8s.aws/nlb",
  defaultTargetType: "instance",
  defaultScheme: "internal",
};
const nodes: Node[] = [
  {
    metadata: { name: "a" },
    spec: { providerID: "aws:///us-west-2a/i-0000000000000000a" },
    status: { conditions: [{ type: "Ready", status: "True" }] },
  },
];

/** http 80/TCP, https 443/TCP, dns 53/UDP, and 8000 on both TCP and UDP (one TCP_UDP listener). */
const PORTS: ServicePort[] = [
  { name: "http", port: 80, protocol: "TCP", nodePort: 30080 },
  { name: "https", port: 443, protocol: "TCP", nodePort: 30443 },
  { name: "dns", port: 53, protocol: "UDP", nodePort: 30053 },
  { name: "game-tcp", port: 8000, protocol: "TCP", nodePort: 30800 },
  { name: "game-udp", port: 8000, protocol: "UDP", nodePort: 30800 },
];

function service(annotations: Record<string, string>, ports: ServicePort[] = PORTS): Service {
  return {
    metadata: { name: "web", namespace: "shop", uid: "3f1c6a2e-0000-4000-8000-000000000001", annotations },
    spec: { type: "LoadBalancer", loadBalancerClass: "service.k8s.aws/nlb", ports },
  };
}

function stackOf(annotations: Record<string, string>, ports?: ServicePort[], cfg = config): DesiredStack {
  const result = build(service(annotations, ports), [], nodes, cfg);
  assert.ok(result.ok, result.ok ? "" : result.problems.map((p) => p.message).join("\n"));
  return result.stack;
}

function problemsOf(
  annotations: Record<string, string>,
  ports?: ServicePort[],
  cfg = config,
): InputProblem[] {
  const result = build(service(annotations, ports), [], nodes, cfg);
  assert.equal(result.ok, false, "expected build to refuse the Service");
  return result.ok ? [] : result.problems;
}

/** Exactly one problem, on the given annotation, with the given value. */
function onlyProblem(problems: InputProblem[], suffix: string, value: string): InputProblem {
  assert.equal(problems.length, 1, problems.map((p) => p.message).join("\n"));
  const problem = problems[0]!;
  assert.equal(problem.reason, "InvalidAnnotation");
  assert.equal(problem.field, `annotation ${P}${suffix}`);
  assert.equal(problem.value, value);
  assert.ok(problem.message.includes(`${P}${suffix}`) && problem.message.includes(problem.allowed));
  return problem;
}

const listenerSummary = (stack: DesiredStack) =>
  stack.listeners.map((l) => {
    const tg = stack.targetGroups.find((t) => t.id === l.targetGroup)!;
    return `${l.port} ${l.protocol}->${tg.protocol}`;
  });

describe("build: TLS listeners", () => {
  it("ssl-cert alone makes every TCP-only listener TLS with the default policy (golden)", () => {
    const stack = stackOf({ [`${P}ssl-cert`]: `${ACM},${IAM}` });
    assert.deepEqual(listenerSummary(stack), [
      "53 UDP->UDP",
      "80 TLS->TCP",
      "443 TLS->TCP",
      "8000 TCP_UDP->TCP_UDP",
    ]);
    assert.deepEqual(stack.listeners[1], {
      port: 80,
      protocol: "TLS",
      targetGroup: "shop/web:80",
      certificates: [ACM, IAM],
      sslPolicy: "ELBSecurityPolicy-2016-08",
    });
    assert.deepEqual(stack.listeners[0], { port: 53, protocol: "UDP", targetGroup: "shop/web:53" });
    // ssl-ports * says the same.
    assert.deepEqual(stackOf({ [`${P}ssl-cert`]: `${ACM},${IAM}`, [`${P}ssl-ports`]: "*" }), stack);
  });

  it("ssl-ports by number or by name; the policy and ALPN policy reach only the TLS listeners", () => {
    for (const sslPorts of ["443", "https", " https , 443"]) {
      const stack = stackOf({
        [`${P}ssl-cert`]: ACM,
        [`${P}ssl-ports`]: sslPorts,
        [`${P}ssl-negotiation-policy`]: "ELBSecurityPolicy-TLS13-1-2-2021-06",
        [`${P}alpn-policy`]: "http2preferred",
      });
      assert.deepEqual(listenerSummary(stack), [
        "53 UDP->UDP",
        "80 TCP->TCP",
        "443 TLS->TCP",
        "8000 TCP_UDP->TCP_UDP",
      ]);
      assert.deepEqual(stack.listeners[2], {
        port: 443,
        protocol: "TLS",
        targetGroup: "shop/web:443",
        certificates: [ACM],
        sslPolicy: "ELBSecurityPolicy-TLS13-1-2-2021-06",
        alpnPolicy: "HTTP2Preferred",
      });
      assert.deepEqual(stack.listeners[1], { port: 80, protocol: "TCP", targetGroup: "shop/web:80" });
    }
  });

  it("backend-protocol ssl makes the target groups behind TLS listeners TLS, under a new name", () => {
    const tcp = stackOf({ [`${P}ssl-cert`]: ACM, [`${P}ssl-ports`]: "443" });
    const tls = stackOf({ [`${P}ssl-cert`]: ACM, [`${P}ssl-ports`]: "443", [`${P}backend-protocol`]: "ssl" });
    assert.deepEqual(listenerSummary(tls), [
      "53 UDP->UDP",
      "80 TCP->TCP",
      "443 TLS->TLS",
      "8000 TCP_UDP->TCP_UDP",
    ]);
    const name = (stack: DesiredStack, port: number) => stack.targetGroups.find((t) => t.port === port)!.name;
    assert.notEqual(name(tls, 30443), name(tcp, 30443), "AWS cannot change a target group's protocol");
    assert.equal(name(tls, 30080), name(tcp, 30080));
    assert.deepEqual(
      stackOf({ [`${P}ssl-cert`]: ACM, [`${P}ssl-ports`]: "443", [`${P}backend-protocol`]: "tcp" }),
      tcp,
    );
  });

  it("policy, ALPN and backend-protocol without ssl-cert change nothing", () => {
    const plain = stackOf({});
    const stack = stackOf({
      [`${P}ssl-negotiation-policy`]: "ELBSecurityPolicy-TLS13-1-2-2021-06",
      [`${P}alpn-policy`]: "HTTP2Only",
      [`${P}backend-protocol`]: "ssl",
    });
    assert.deepEqual(stack, plain);
  });

  it("ssl-ports refuses ports the Service lacks, UDP ports and TCP_UDP ports, each by name", () => {
    const cases: [string, RegExp][] = [
      [
        "8443",
        /^a port of the Service, by number or by name; the Service's TCP ports are 80 \(http\), 443 \(https\)$/,
      ],
      ["grpc", /^a port of the Service, by number or by name/],
      ["53", /^a TCP port: port 53 is UDP, and only TCP listeners can be TLS/],
      ["dns", /^a TCP port: port 53 is UDP/],
      [
        "8000",
        /^a TCP-only port: port 8000 is both TCP and UDP \(one TCP_UDP listener\), which cannot be TLS/,
      ],
      ["game-udp", /^a TCP-only port: port 8000/],
    ];
    for (const [entry, allowed] of cases) {
      const problem = onlyProblem(
        problemsOf({ [`${P}ssl-cert`]: ACM, [`${P}ssl-ports`]: `443,${entry}` }),
        "ssl-ports",
        entry,
      );
      assert.match(problem.allowed, allowed, entry);
    }
  });

  it("ssl-ports without ssl-cert is refused", () => {
    const problem = onlyProblem(problemsOf({ [`${P}ssl-ports`]: "443, https" }), "ssl-ports", "443,https");
    assert.equal(
      problem.allowed,
      `ssl-ports only together with ${P}ssl-cert (the certificates of the TLS listeners)`,
    );
  });
});

describe("build: per-port target group settings", () => {
  const attributes = (stack: DesiredStack, port: number) =>
    stack.targetGroups.find((t) => t.id === `shop/web:${port}`)!.attributes;

  it("target-group-attributes.<port> merges over the global attributes for that target group only", () => {
    const stack = stackOf({
      [`${P}target-group-attributes`]: "deregistration_delay.timeout_seconds=30,stickiness.enabled=true",
      [`${P}target-group-attributes.443`]:
        "deregistration_delay.timeout_seconds=0,preserve_client_ip.enabled=false",
    });
    assert.deepEqual(attributes(stack, 443), {
      "deregistration_delay.timeout_seconds": "0",
      "preserve_client_ip.enabled": "false",
      "proxy_protocol_v2.enabled": "false",
      "stickiness.enabled": "true",
    });
    assert.deepEqual(Object.keys(attributes(stack, 443)), Object.keys(attributes(stack, 443)).sort());
    for (const port of [53, 80, 8000]) {
      assert.deepEqual(attributes(stack, port), {
        "deregistration_delay.timeout_seconds": "30",
        "proxy_protocol_v2.enabled": "false",
        "stickiness.enabled": "true",
      });
    }
  });

  it("proxy-protocol-per-target-group turns proxy protocol on for its ports, over any attributes", () => {
    const stack = stackOf({
      [`${P}target-group-attributes.443`]: "proxy_protocol_v2.enabled=false",
      [`${P}proxy-protocol-per-target-group`]: "443, 8000",
    });
    const proxy = (port: number) => attributes(stack, port)["proxy_protocol_v2.enabled"];
    assert.deepEqual([proxy(53), proxy(80), proxy(443), proxy(8000)], ["false", "false", "true", "true"]);
    const everywhere = stackOf({
      [`${P}proxy-protocol`]: "*",
      [`${P}target-group-attributes.80`]: "proxy_protocol_v2.enabled=false",
      [`${P}proxy-protocol-per-target-group`]: "443",
    });
    for (const port of [53, 80, 443, 8000])
      assert.equal(attributes(everywhere, port)["proxy_protocol_v2.enabled"], "true");
  });

  it("refuses ports the Service does not have, naming the exact key", () => {
    const perPort = onlyProblem(
      problemsOf({ [`${P}target-group-attributes.8443`]: "stickiness.enabled=true" }),
      "target-group-attributes.8443",
      "8443",
    );
    assert.equal(
      perPort.allowed,
      "a port of the Service at the end of the key; the Service's ports are 53, 80, 443, 8000",
    );
    const proxy = onlyProblem(
      problemsOf({ [`${P}proxy-protocol-per-target-group`]: "80,9000" }),
      "proxy-protocol-per-target-group",
      "9000",
    );
    assert.equal(proxy.allowed, "ports of the Service; its ports are 53, 80, 443, 8000");
  });
});

describe("build: deprecated NLB attribute annotations", () => {
  it("map into the NLB's attributes", () => {
    const stack = stackOf({
      [`${P}cross-zone-load-balancing-enabled`]: "true",
      [`${P}access-log-enabled`]: "true",
      [`${P}access-log-s3-bucket-name`]: "my-logs",
      [`${P}access-log-s3-bucket-prefix`]: "nlb/web",
    });
    assert.deepEqual(stack.loadBalancer.attributes, {
      "access_logs.s3.bucket": "my-logs",
      "access_logs.s3.enabled": "true",
      "access_logs.s3.prefix": "nlb/web",
      "load_balancing.cross_zone.enabled": "true",
    });
  });

  it("lose to the attributes annotation where both set an attribute", () => {
    const stack = stackOf({
      [`${P}cross-zone-load-balancing-enabled`]: "true",
      [`${P}access-log-s3-bucket-name`]: "old-logs",
      [`${P}attributes`]:
        "load_balancing.cross_zone.enabled=false,access_logs.s3.enabled=true,access_logs.s3.bucket=new-logs",
    });
    assert.deepEqual(stack.loadBalancer.attributes, {
      "access_logs.s3.bucket": "new-logs",
      "access_logs.s3.enabled": "true",
      "load_balancing.cross_zone.enabled": "false",
    });
    // A bucket from the attributes annotation serves access-log-enabled too.
    assert.equal(
      stackOf({ [`${P}access-log-enabled`]: "true", [`${P}attributes`]: "access_logs.s3.bucket=logs" })
        .loadBalancer.attributes["access_logs.s3.enabled"],
      "true",
    );
  });

  it("access-log-enabled true without any bucket is refused", () => {
    const problem = onlyProblem(
      problemsOf({ [`${P}access-log-enabled`]: "1" }),
      "access-log-enabled",
      "true",
    );
    assert.match(
      problem.allowed,
      /^access logs need a bucket too: .*access-log-s3-bucket-name, or access_logs\.s3\.bucket in /,
    );
  });
});

describe("build: Elastic IPs and private IPv4 addresses", () => {
  const eips = "eipalloc-0123456789abcdef1,eipalloc-0123456789abcdef0";

  it("eip-allocations on an internet-facing NLB, in the order given (golden)", () => {
    const stack = stackOf({ [`${P}scheme`]: "internet-facing", [`${P}eip-allocations`]: eips });
    assert.deepEqual(stack.loadBalancer.eipAllocations, [
      "eipalloc-0123456789abcdef1",
      "eipalloc-0123456789abcdef0",
    ]);
    assert.equal(stack.loadBalancer.privateIpv4Addresses, undefined);
    assert.equal(stackOf({}).loadBalancer.eipAllocations, undefined);
    assert.ok(!("eipAllocations" in stackOf({}).loadBalancer), "absent, not undefined, in plan -o json");
  });

  it("eip-allocations on an internal NLB is refused, naming where the scheme came from", () => {
    const byDefault = onlyProblem(problemsOf({ [`${P}eip-allocations`]: eips }), "eip-allocations", eips);
    assert.equal(
      byDefault.allowed,
      "Elastic IP allocations only for an internet-facing NLB, and this one is internal (the controller's --default-scheme)",
    );
    const byAnnotation = onlyProblem(
      problemsOf({ [`${P}scheme`]: "internal", [`${P}eip-allocations`]: eips }),
      "eip-allocations",
      eips,
    );
    assert.match(byAnnotation.allowed, new RegExp(`this one is internal \\(annotation ${P}scheme\\)$`));
    const byInternal = onlyProblem(
      problemsOf({ [`${P}internal`]: "true", [`${P}eip-allocations`]: eips }),
      "eip-allocations",
      eips,
    );
    assert.match(byInternal.allowed, new RegExp(`\\(annotation ${P}internal\\)$`));
  });

  it("private-ipv4-addresses on an internal NLB; refused on an internet-facing one", () => {
    const stack = stackOf({ [`${P}private-ipv4-addresses`]: "10.0.2.10, 10.0.1.10" });
    assert.deepEqual(stack.loadBalancer.privateIpv4Addresses, ["10.0.2.10", "10.0.1.10"]);
    const problem = onlyProblem(
      problemsOf({ [`${P}private-ipv4-addresses`]: "10.0.1.10" }, undefined, {
        ...config,
        defaultScheme: "internet-facing",
      }),
      "private-ipv4-addresses",
      "10.0.1.10",
    );
    assert.equal(
      problem.allowed,
      "private IPv4 addresses only for an internal NLB, and this one is internet-facing (the controller's --default-scheme)",
    );
  });

  it("with explicit subnets, the count must match them", () => {
    const subnets = { [`${P}subnets`]: "subnet-0123456789abcdef0, private-b, private-c" };
    const problem = onlyProblem(
      problemsOf({ ...subnets, [`${P}private-ipv4-addresses`]: "10.0.1.10,10.0.2.10" }),
      "private-ipv4-addresses",
      "10.0.1.10,10.0.2.10",
    );
    assert.equal(
      problem.allowed,
      `one private IPv4 address per subnet: 3 for the 3 subnets of ${P}subnets (subnet-0123456789abcdef0, private-b, private-c), each inside its subnet`,
    );
    const eipProblem = onlyProblem(
      problemsOf({ ...subnets, [`${P}scheme`]: "internet-facing", [`${P}eip-allocations`]: eips }),
      "eip-allocations",
      eips,
    );
    assert.match(eipProblem.allowed, /^one Elastic IP allocation per subnet: 3 for the 3 subnets/);
    const fine = stackOf({ ...subnets, [`${P}private-ipv4-addresses`]: "10.0.1.10,10.0.2.10,10.0.3.10" });
    assert.deepEqual(fine.loadBalancer.subnets, ["subnet-0123456789abcdef0", "private-b", "private-c"]);
  });
});
