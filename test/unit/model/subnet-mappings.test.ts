import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { blockContains, ipv4ToNumber, numberToIpv4, parseIpv4Cidr } from "../../../src/model/ipv4.ts";
import { subnetMappings } from "../../../src/model/subnets.ts";
import type { LoadBalancerSpec, Subnet } from "../../../src/model/types.ts";

const P = "service.beta.kubernetes.io/aws-load-balancer-";

function subnet(id: string, zone: string, cidr: string): Subnet {
  return { id, zone, cidr, vpcId: "vpc-1", tags: {} };
}

const SUBNETS = [
  subnet("subnet-aaaa1111", "us-west-2a", "10.0.1.0/24"),
  subnet("subnet-bbbb2222", "us-west-2b", "10.0.2.0/24"),
  subnet("subnet-cccc3333", "us-west-2c", "10.0.128.0/17"),
];

function lb(fields: Partial<LoadBalancerSpec> = {}): LoadBalancerSpec {
  return {
    name: "web",
    type: "network",
    scheme: "internal",
    ipAddressType: "ipv4",
    attributes: {},
    tags: {},
    ...fields,
  };
}

function message(result: ReturnType<typeof subnetMappings>): string {
  assert.equal(result.ok, false, "expected a refusal");
  return result.ok ? "" : result.message;
}

describe("subnetMappings", () => {
  it("without fixed addresses: one bare mapping per subnet, in the subnets' order", () => {
    assert.deepEqual(subnetMappings(SUBNETS, lb()), {
      ok: true,
      mappings: [
        { subnetId: "subnet-aaaa1111" },
        { subnetId: "subnet-bbbb2222" },
        { subnetId: "subnet-cccc3333" },
      ],
    });
    assert.deepEqual(subnetMappings([], lb()), { ok: true, mappings: [] });
  });

  it("pairs the i-th Elastic IP with the i-th subnet", () => {
    const eips = ["eipalloc-00000000000000003", "eipalloc-00000000000000001", "eipalloc-00000000000000002"];
    assert.deepEqual(subnetMappings(SUBNETS, lb({ scheme: "internet-facing", eipAllocations: eips })), {
      ok: true,
      mappings: [
        { subnetId: "subnet-aaaa1111", allocationId: eips[0] },
        { subnetId: "subnet-bbbb2222", allocationId: eips[1] },
        { subnetId: "subnet-cccc3333", allocationId: eips[2] },
      ],
    });
  });

  it("pairs the i-th private address with the i-th subnet, anywhere inside its CIDR but the reserved five", () => {
    const addresses = ["10.0.1.4", "10.0.2.254", "10.0.200.7"];
    assert.deepEqual(subnetMappings(SUBNETS, lb({ privateIpv4Addresses: addresses })), {
      ok: true,
      mappings: [
        { subnetId: "subnet-aaaa1111", privateIpv4Address: "10.0.1.4" },
        { subnetId: "subnet-bbbb2222", privateIpv4Address: "10.0.2.254" },
        { subnetId: "subnet-cccc3333", privateIpv4Address: "10.0.200.7" },
      ],
    });
  });

  it("refuses a count that differs from the subnets, naming the annotation, the count and the subnets", () => {
    assert.equal(
      message(subnetMappings(SUBNETS, lb({ eipAllocations: ["eipalloc-00000000000000001"] }))),
      `annotation ${P}eip-allocations gives 1 Elastic IP allocations but the NLB has 3 subnets (subnet-aaaa1111, subnet-bbbb2222, subnet-cccc3333); give one per subnet (Elastic IPs in the subnets' order, addresses each inside its subnet)`,
    );
    assert.equal(
      message(subnetMappings(SUBNETS.slice(0, 1), lb({ privateIpv4Addresses: ["10.0.1.10", "10.0.2.10"] }))),
      `annotation ${P}private-ipv4-addresses gives 2 private IPv4 addresses but the NLB has 1 subnet (subnet-aaaa1111); give one per subnet (Elastic IPs in the subnets' order, addresses each inside its subnet)`,
    );
    assert.match(
      message(subnetMappings([], lb({ privateIpv4Addresses: ["10.0.1.10"] }))),
      /has 0 subnets \(none\)/,
    );
  });

  it("places each address in the subnet that holds it, whatever the order; refuses one in no subnet or two in one", () => {
    const placed = subnetMappings(
      SUBNETS,
      lb({ privateIpv4Addresses: ["10.0.2.10", "10.0.1.10", "10.0.200.7"] }),
    );
    assert.ok(placed.ok);
    assert.deepEqual(
      placed.mappings.map((m) => [m.subnetId, m.privateIpv4Address]),
      [
        ["subnet-aaaa1111", "10.0.1.10"],
        ["subnet-bbbb2222", "10.0.2.10"],
        ["subnet-cccc3333", "10.0.200.7"],
      ],
    );
    assert.match(
      message(
        subnetMappings(SUBNETS, lb({ privateIpv4Addresses: ["10.0.1.10", "10.0.2.10", "10.0.127.255"] })),
      ),
      /address 10\.0\.127\.255 .* is inside none of the NLB's subnets/,
    );
    assert.match(
      message(
        subnetMappings(SUBNETS, lb({ privateIpv4Addresses: ["10.0.1.10", "10.0.1.11", "10.0.200.7"] })),
      ),
      /addresses 10\.0\.1\.10 and 10\.0\.1\.11 .* are both inside subnet subnet-aaaa1111; give one per subnet/,
    );
  });

  it("refuses the four first and the last address of the subnet, which AWS reserves", () => {
    const one = [subnet("subnet-aaaa1111", "us-west-2a", "10.0.1.0/24")];
    for (const address of ["10.0.1.0", "10.0.1.1", "10.0.1.2", "10.0.1.3", "10.0.1.255"]) {
      assert.equal(
        message(subnetMappings(one, lb({ privateIpv4Addresses: [address] }))),
        `private IPv4 address ${address} (annotation ${P}private-ipv4-addresses) is reserved by AWS in subnet subnet-aaaa1111 (10.0.1.0/24): the first four addresses (10.0.1.0 to 10.0.1.3) and the last (10.0.1.255) cannot be assigned`,
        address,
      );
    }
    for (const address of ["10.0.1.4", "10.0.1.254"]) {
      assert.ok(subnetMappings(one, lb({ privateIpv4Addresses: [address] })).ok, address);
    }
  });

  it("refuses to place an address in a subnet whose CIDR it cannot read", () => {
    assert.match(
      message(
        subnetMappings(
          [subnet("subnet-v6", "us-west-2a", "2600:1f14::/64")],
          lb({ privateIpv4Addresses: ["10.0.1.10"] }),
        ),
      ),
      /address 10\.0\.1\.10 .* is inside none of the NLB's subnets \(subnet-v6 2600:1f14::\/64\)/,
    );
  });
});

describe("IPv4 arithmetic", () => {
  it("reads dotted quads exactly and writes them back", () => {
    assert.equal(ipv4ToNumber("0.0.0.0"), 0);
    assert.equal(ipv4ToNumber("255.255.255.255"), 2 ** 32 - 1);
    assert.equal(ipv4ToNumber("10.0.1.10"), 10 * 2 ** 24 + 256 + 10);
    for (const bad of [
      "10.0.1",
      "10.0.1.1.1",
      "10.0.1.256",
      "10.0.01.1",
      "10.0.1.-1",
      "10.0.1.a",
      "",
      "1e1.0.0.1",
    ]) {
      assert.equal(ipv4ToNumber(bad), undefined, bad);
    }
    for (const text of ["0.0.0.0", "10.0.1.10", "192.168.255.1", "255.255.255.255"]) {
      assert.equal(numberToIpv4(ipv4ToNumber(text)!), text);
    }
  });

  it("reads CIDR blocks, refusing host bits and bad prefix lengths", () => {
    assert.deepEqual(parseIpv4Cidr("10.0.1.0/24"), {
      first: ipv4ToNumber("10.0.1.0"),
      last: ipv4ToNumber("10.0.1.255"),
      prefixLength: 24,
    });
    assert.deepEqual(parseIpv4Cidr("0.0.0.0/0"), { first: 0, last: 2 ** 32 - 1, prefixLength: 0 });
    assert.deepEqual(parseIpv4Cidr("10.0.1.7/32"), {
      first: ipv4ToNumber("10.0.1.7"),
      last: ipv4ToNumber("10.0.1.7"),
      prefixLength: 32,
    });
    for (const bad of ["10.0.1.1/24", "10.0.1.0/33", "10.0.1.0", "10.0.1.0/", "10.0.1.0/x", "::/0"]) {
      assert.equal(parseIpv4Cidr(bad), undefined, bad);
    }
    const block = parseIpv4Cidr("172.16.0.0/12")!;
    assert.ok(blockContains(block, ipv4ToNumber("172.31.255.255")!));
    assert.ok(!blockContains(block, ipv4ToNumber("172.32.0.0")!));
    assert.ok(!blockContains(block, ipv4ToNumber("172.15.255.255")!));
  });
});
