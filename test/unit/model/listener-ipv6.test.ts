// build() and subnetMappings() for listener-attributes.<PROTOCOL>-<port> and ipv6-addresses.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { parseAnnotations } from "../../../src/model/annotations.ts";
import { build } from "../../../src/model/build.ts";
import { canonicalIpv6, ipv6InCidr, parseIpv6Cidr } from "../../../src/model/ipv6.ts";
import { subnetMappings } from "../../../src/model/subnets.ts";
import type {
  BuildConfig,
  DesiredStack,
  InputProblem,
  LoadBalancerSpec,
  Service,
  ServicePort,
  Subnet,
} from "../../../src/model/types.ts";

const P = "service.beta.kubernetes.io/aws-load-balancer-";
const LA = `${P}listener-attributes.`;
const ACM = "arn:aws:acm:us-west-2:123456789012:certificate/12345678-1234-1234-1234-123456789012";
const config: BuildConfig = {
  clusterName: "prod",
  loadBalancerClass: "service.k8s.aws/nlb",
  defaultTargetType: "ip",
  defaultScheme: "internal",
};

/** 80/TCP, 443/TCP, 53/UDP, and 8000 on TCP and UDP (one TCP_UDP listener). */
const PORTS: ServicePort[] = [
  { port: 80, protocol: "TCP" },
  { port: 443, protocol: "TCP" },
  { port: 53, protocol: "UDP" },
  { name: "game-tcp", port: 8000, protocol: "TCP" },
  { name: "game-udp", port: 8000, protocol: "UDP" },
];

function service(annotations: Record<string, string>): Service {
  return {
    metadata: { name: "web", namespace: "shop", annotations },
    spec: { type: "LoadBalancer", loadBalancerClass: "service.k8s.aws/nlb", ports: PORTS },
  };
}

function stackOf(annotations: Record<string, string>): DesiredStack {
  const result = build(service(annotations), [], [], config);
  assert.ok(result.ok, result.ok ? "" : result.problems.map((p) => p.message).join("\n"));
  return result.stack;
}

function onlyProblem(annotations: Record<string, string>, key: string): InputProblem {
  const result = build(service(annotations), [], [], config);
  assert.equal(result.ok, false, "expected build to refuse the Service");
  const problems = result.ok ? [] : result.problems;
  assert.equal(problems.length, 1, problems.map((p) => p.message).join("\n"));
  assert.equal(problems[0]!.field, `annotation ${key}`);
  return problems[0]!;
}

const listener = (stack: DesiredStack, port: number) => stack.listeners.find((l) => l.port === port)!;
const attributesOf = (stack: DesiredStack) =>
  Object.fromEntries(stack.listeners.map((l) => [`${l.protocol}-${l.port}`, l.attributes]));

describe("build: listener-attributes.<protocol>-<port>", () => {
  it("sets the attributes on that listener only, the protocol in any case", () => {
    const stack = stackOf({ [`${LA}tcp-80`]: " tcp.idle_timeout.seconds = 600 " });
    assert.deepEqual(attributesOf(stack), {
      "TCP-80": { "tcp.idle_timeout.seconds": "600" },
      "TCP-443": undefined,
      "UDP-53": undefined,
      "TCP_UDP-8000": undefined,
    });
    assert.ok(!("attributes" in listener(stack, 443)), "absent, not undefined, in plan -o json");
  });

  it("takes the range ends and an empty value (nothing set)", () => {
    const stack = stackOf({
      [`${LA}TCP-80`]: "tcp.idle_timeout.seconds=60",
      [`${LA}TCP-443`]: "tcp.idle_timeout.seconds=6000",
      [`${LA}UDP-53`]: "",
    });
    assert.deepEqual(listener(stack, 80).attributes, { "tcp.idle_timeout.seconds": "60" });
    assert.deepEqual(listener(stack, 443).attributes, { "tcp.idle_timeout.seconds": "6000" });
    assert.ok(!("attributes" in listener(stack, 53)));
  });

  it("refuses values out of range, unknown keys and malformed keys, naming what is allowed", () => {
    for (const [value, allowed] of [
      ["tcp.idle_timeout.seconds=59", "tcp.idle_timeout.seconds takes a whole number from 60 to 6000"],
      ["tcp.idle_timeout.seconds=6001", "tcp.idle_timeout.seconds takes a whole number from 60 to 6000"],
      ["idle_timeout.timeout_seconds=60", "one of the listener attributes: tcp.idle_timeout.seconds"],
    ] as const) {
      const problem = onlyProblem({ [`${LA}TCP-80`]: value }, `${LA}TCP-80`);
      assert.equal(problem.allowed, allowed);
    }
    for (const suffix of ["80", "HTTP-80", "TCP-0", "TCP-65536", "TCP-", "TCP-80-1"]) {
      const problem = onlyProblem({ [`${LA}${suffix}`]: "tcp.idle_timeout.seconds=600" }, `${LA}${suffix}`);
      assert.equal(problem.value, suffix);
      assert.match(problem.allowed, /^a key ending in <protocol>-<port>: one of TCP, UDP, TCP_UDP, TLS/);
    }
  });

  it("refuses a port the Service has no listener on, listing the listeners", () => {
    const problem = onlyProblem({ [`${LA}TCP-8080`]: "tcp.idle_timeout.seconds=600" }, `${LA}TCP-8080`);
    assert.equal(problem.value, "TCP-8080");
    assert.equal(
      problem.allowed,
      "a key naming one of the Service's listeners (<protocol>-<port>): UDP-53, TCP-80, TCP-443, TCP_UDP-8000",
    );
  });

  it("refuses a protocol other than the listener's, naming the right key", () => {
    const problem = onlyProblem({ [`${LA}TCP-8000`]: "tcp.idle_timeout.seconds=600" }, `${LA}TCP-8000`);
    assert.equal(problem.allowed, `the key ${LA}TCP_UDP-8000: the listener on port 8000 is TCP_UDP`);
    // With ssl-ports the listener is TLS, so TCP-443 names no listener.
    const tls = onlyProblem(
      { [`${P}ssl-cert`]: ACM, [`${P}ssl-ports`]: "443", [`${LA}TCP-443`]: "tcp.idle_timeout.seconds=600" },
      `${LA}TCP-443`,
    );
    assert.equal(tls.allowed, `the key ${LA}TLS-443: the listener on port 443 is TLS`);
  });

  it("refuses attributes on listeners AWS gives none: TLS, UDP, TCP_UDP", () => {
    const tls = onlyProblem(
      { [`${P}ssl-cert`]: ACM, [`${P}ssl-ports`]: "443", [`${LA}TLS-443`]: "tcp.idle_timeout.seconds=600" },
      `${LA}TLS-443`,
    );
    assert.equal(tls.allowed, "no attributes: AWS keeps a TLS listener's idle timeout at 350 seconds");
    const udp = onlyProblem({ [`${LA}UDP-53`]: "tcp.idle_timeout.seconds=600" }, `${LA}UDP-53`);
    assert.equal(udp.allowed, "no attributes: AWS has none for UDP listeners, only for TCP ones");
    const both = onlyProblem({ [`${LA}TCP_UDP-8000`]: "tcp.idle_timeout.seconds=600" }, `${LA}TCP_UDP-8000`);
    assert.equal(both.value, "tcp.idle_timeout.seconds=600");
  });

  it("refuses two keys for one listener (the protocol in different case)", () => {
    const { problems } = parseAnnotations(
      service({
        [`${LA}TCP-80`]: "tcp.idle_timeout.seconds=600",
        [`${LA}tcp-80`]: "tcp.idle_timeout.seconds=700",
      }),
    );
    assert.equal(problems.length, 1);
    assert.equal(problems[0]!.field, `annotation ${LA}tcp-80`);
    assert.equal(problems[0]!.allowed, `one key per listener; ${LA}TCP-80 names the same`);
  });
});

describe("build: ipv6-addresses", () => {
  const dualstack = { [`${P}ip-address-type`]: "dualstack" };

  it("keeps the addresses of an internal dualstack NLB in order, in canonical form", () => {
    const stack = stackOf({
      ...dualstack,
      [`${P}ipv6-addresses`]: "2600:1F13:0:B::10, 2600:1f13:0:a:0:0:0:10",
    });
    assert.deepEqual(stack.loadBalancer.ipv6Addresses, ["2600:1f13:0:b::10", "2600:1f13:0:a::10"]);
    assert.ok(!("ipv6Addresses" in stackOf(dualstack).loadBalancer));
  });

  it("refuses them on an ipv4 NLB, and takes them on an internet-facing dualstack one (AWS does)", () => {
    const ipv4 = onlyProblem({ [`${P}ipv6-addresses`]: "2600:1f13::10" }, `${P}ipv6-addresses`);
    assert.equal(
      ipv4.allowed,
      `IPv6 addresses only for a dualstack NLB, and this one is ipv4 (${P}ip-address-type)`,
    );
    const stack = stackOf({
      ...dualstack,
      [`${P}scheme`]: "internet-facing",
      [`${P}ipv6-addresses`]: "2600:1f13::10",
    });
    assert.deepEqual(stack.loadBalancer.ipv6Addresses, ["2600:1f13::10"]);
  });

  it("refuses what is not an IPv6 address, and a count that differs from explicit subnets", () => {
    for (const bad of ["10.0.1.10", "2600:1f13::10::1", "fe80::1%eth0", "2600:1f13::g"]) {
      const problem = onlyProblem({ ...dualstack, [`${P}ipv6-addresses`]: bad }, `${P}ipv6-addresses`);
      assert.equal(problem.value, bad);
      assert.equal(problem.allowed, "an IPv6 address (2600:1f13:abc:de00::10)");
    }
    const count = onlyProblem(
      {
        ...dualstack,
        [`${P}subnets`]: "subnet-aaaa1111,subnet-bbbb2222",
        [`${P}ipv6-addresses`]: "2600:1f13::10",
      },
      `${P}ipv6-addresses`,
    );
    assert.match(count.allowed, /^one IPv6 address per subnet: 2 for the 2 subnets of/);
  });
});

describe("subnetMappings with IPv6 addresses", () => {
  const subnets: Subnet[] = [
    {
      id: "subnet-aaaa1111",
      zone: "us-west-2a",
      cidr: "10.0.1.0/24",
      ipv6Cidrs: ["2600:1f13:0:a::/64"],
      vpcId: "vpc-1",
      tags: {},
    },
    {
      id: "subnet-bbbb2222",
      zone: "us-west-2b",
      cidr: "10.0.2.0/24",
      ipv6Cidrs: ["2600:1f13:0:b::/64"],
      vpcId: "vpc-1",
      tags: {},
    },
  ];
  const lb = (ipv6Addresses: string[]): LoadBalancerSpec => ({
    name: "web",
    type: "network",
    scheme: "internal",
    ipAddressType: "dualstack",
    ipv6Addresses,
    attributes: {},
    tags: {},
  });

  it("pairs the i-th address with the i-th subnet", () => {
    assert.deepEqual(subnetMappings(subnets, lb(["2600:1f13:0:a::10", "2600:1f13:0:b::10"])), {
      ok: true,
      mappings: [
        { subnetId: "subnet-aaaa1111", ipv6Address: "2600:1f13:0:a::10" },
        { subnetId: "subnet-bbbb2222", ipv6Address: "2600:1f13:0:b::10" },
      ],
    });
  });

  it("places each address in the subnet that holds it; refuses one in no subnet, a subnet without IPv6, and a wrong count", () => {
    const swapped = subnetMappings(subnets, lb(["2600:1f13:0:b::10", "2600:1f13:0:a::10"]));
    assert.deepEqual(swapped, {
      ok: true,
      mappings: [
        { subnetId: "subnet-aaaa1111", ipv6Address: "2600:1f13:0:a::10" },
        { subnetId: "subnet-bbbb2222", ipv6Address: "2600:1f13:0:b::10" },
      ],
    });
    const outside = subnetMappings(subnets, lb(["2600:1f13:0:a::10", "2600:1f13:0:c::10"]));
    assert.match(
      outside.ok ? "" : outside.message,
      /2600:1f13:0:c::10 .* is inside none of the NLB's subnets/,
    );
    const noIpv6 = subnetMappings(
      [{ ...subnets[0]!, ipv6Cidrs: [] }, subnets[1]!],
      lb(["2600:1f13:0:a::10", "2600:1f13:0:b::10"]),
    );
    assert.equal(noIpv6.ok, false);
    assert.match(noIpv6.ok ? "" : noIpv6.message, /2600:1f13:0:a::10 .* is inside none of the NLB's subnets/);
    const count = subnetMappings(subnets, lb(["2600:1f13:0:a::10"]));
    assert.match(count.ok ? "" : count.message, /gives 1 IPv6 addresses but the NLB has 2 subnets/);
  });
});

describe("ipv6 helpers", () => {
  it("canonicalises addresses and refuses zone indexes and non-addresses", () => {
    assert.equal(canonicalIpv6("2600:1F13:0000:0:0::0010"), "2600:1f13::10");
    assert.equal(canonicalIpv6("::"), "::");
    for (const bad of ["", "10.0.0.1", "fe80::1%eth0", "1:2:3:4:5:6:7:8:9", "2600::1::2"])
      assert.equal(canonicalIpv6(bad), undefined, bad);
  });

  it("places addresses in CIDR blocks and refuses blocks with host bits set", () => {
    assert.ok(ipv6InCidr("2600:1f13:0:a::10", "2600:1f13:0:a::/64"));
    assert.ok(ipv6InCidr("2600:1f13:0:a:ffff:ffff:ffff:ffff", "2600:1f13:0:a::/64"));
    assert.ok(!ipv6InCidr("2600:1f13:0:b::10", "2600:1f13:0:a::/64"));
    assert.equal(parseIpv6Cidr("2600:1f13:0:a::1/64"), undefined);
    assert.equal(parseIpv6Cidr("2600:1f13:0:a::/129"), undefined);
    assert.equal(parseIpv6Cidr("10.0.0.0/8"), undefined);
    assert.ok(parseIpv6Cidr("::/0")?.check("2600::1", "ipv6"));
  });
});

describe("reserved IPv6 addresses", () => {
  it("refuses the first four and the last address of the subnet's block, as AWS reserves them", () => {
    const subnets: Subnet[] = [
      {
        id: "subnet-aaaa1111",
        zone: "us-west-2a",
        cidr: "10.0.1.0/24",
        vpcId: "vpc-1",
        tags: {},
        ipv6Cidrs: ["2600:1f13:0:a::/64"],
      },
    ];
    const lb = (address: string): LoadBalancerSpec => ({
      name: "x",
      type: "network",
      scheme: "internal",
      ipAddressType: "dualstack",
      ipv6Addresses: [address],
      attributes: {},
      tags: {},
    });
    for (const address of ["2600:1f13:0:a::", "2600:1f13:0:a::3", "2600:1f13:0:a:ffff:ffff:ffff:ffff"]) {
      const out = subnetMappings(subnets, lb(address));
      assert.match(out.ok ? "" : out.message, /is reserved by AWS/, address);
    }
    assert.ok(subnetMappings(subnets, lb("2600:1f13:0:a::4")).ok);
  });
});
