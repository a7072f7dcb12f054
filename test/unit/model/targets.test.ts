import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
  eligibleNodes,
  instanceIdOf,
  instanceTargets,
  ipTargets,
  slicesOfService,
} from "../../../src/model/targets.ts";
import type { Endpoint, EndpointSlice, Node, Service } from "../../../src/model/types.ts";

function node(name: string, instanceId: string, change: (node: Node) => void = () => {}): Node {
  const result: Node = {
    metadata: { name, labels: { "kubernetes.io/hostname": name } },
    spec: { providerID: `aws:///us-west-2a/${instanceId}` },
    status: { conditions: [{ type: "Ready", status: "True" }] },
  };
  change(result);
  return result;
}

const names = (nodes: Node[]) => nodes.map((n) => n.metadata.name);

describe("instanceIdOf", () => {
  it("reads the instance id at the end of an AWS providerID", () => {
    assert.equal(instanceIdOf(node("a", "i-0123456789abcdef0")), "i-0123456789abcdef0");
    assert.equal(
      instanceIdOf({ metadata: { name: "a" }, spec: { providerID: "aws://us-west-2a/i-0abc1234" } }),
      "i-0abc1234",
    );
  });

  it("has none for other providers, Fargate, or no providerID", () => {
    for (const providerID of [
      "gce://project/zone/vm-1",
      "aws:///us-west-2a/fargate-ip-10-0-1-2.ec2.internal",
      "aws:///us-west-2a/",
      "i-0123456789abcdef0",
      "",
    ]) {
      assert.equal(instanceIdOf({ metadata: { name: "a" }, spec: { providerID } }), undefined, providerID);
    }
    assert.equal(instanceIdOf({ metadata: { name: "a" } }), undefined);
  });
});

describe("eligibleNodes", () => {
  const good = node("good", "i-00000000000000001");

  it("keeps a Ready EC2 node", () => {
    assert.deepEqual(names(eligibleNodes([good])), ["good"]);
  });

  const exclusions: [string, Node][] = [
    ["Ready=False", node("x", "i-00000000000000002", (n) => (n.status!.conditions![0]!.status = "False"))],
    [
      "Ready=Unknown",
      node("x", "i-00000000000000002", (n) => (n.status!.conditions![0]!.status = "Unknown")),
    ],
    ["no Ready condition", node("x", "i-00000000000000002", (n) => (n.status!.conditions = []))],
    ["no status", node("x", "i-00000000000000002", (n) => delete n.status)],
    [
      "the exclude-from-external-load-balancers label (any value)",
      node(
        "x",
        "i-00000000000000002",
        (n) => (n.metadata.labels!["node.kubernetes.io/exclude-from-external-load-balancers"] = ""),
      ),
    ],
    [
      "compute-type fargate",
      node(
        "x",
        "i-00000000000000002",
        (n) => (n.metadata.labels!["eks.amazonaws.com/compute-type"] = "fargate"),
      ),
    ],
    [
      "the ToBeDeletedByClusterAutoscaler taint",
      node("x", "i-00000000000000002", (n) => {
        n.spec!.taints = [
          { key: "ToBeDeletedByClusterAutoscaler", value: "1700000000", effect: "NoSchedule" },
        ];
      }),
    ],
    ["no instance id", node("x", "i-00000000000000002", (n) => delete n.spec!.providerID)],
  ];
  for (const [why, excluded] of exclusions) {
    it(`drops a node with ${why}`, () => {
      assert.deepEqual(names(eligibleNodes([good, excluded])), ["good"]);
    });
  }

  it("keeps nodes with other taints, other compute types, or unschedulable", () => {
    const kept = [
      node(
        "tainted",
        "i-00000000000000003",
        (n) => (n.spec!.taints = [{ key: "dedicated", effect: "NoSchedule" }]),
      ),
      node(
        "ec2",
        "i-00000000000000004",
        (n) => (n.metadata.labels!["eks.amazonaws.com/compute-type"] = "ec2"),
      ),
      node("cordoned", "i-00000000000000005", (n) => (n.spec!.unschedulable = true)),
    ];
    assert.deepEqual(names(eligibleNodes(kept)), ["tainted", "ec2", "cordoned"]);
  });

  it("keeps only nodes carrying every target-node-label", () => {
    const both = node("both", "i-00000000000000006", (n) =>
      Object.assign(n.metadata.labels!, { pool: "edge", zone: "a" }),
    );
    const one = node("one", "i-00000000000000007", (n) =>
      Object.assign(n.metadata.labels!, { pool: "edge" }),
    );
    const other = node("other", "i-00000000000000008", (n) =>
      Object.assign(n.metadata.labels!, { pool: "core", zone: "a" }),
    );
    assert.deepEqual(names(eligibleNodes([both, one, other], { pool: "edge", zone: "a" })), ["both"]);
    assert.deepEqual(names(eligibleNodes([both, one, other], { pool: "edge" })), ["both", "one"]);
    assert.deepEqual(names(eligibleNodes([both, one, other], {})), ["both", "one", "other"]);
  });
});

describe("instanceTargets", () => {
  it("is every eligible node on the nodePort, sorted by instance id, without repeats", () => {
    const nodes = [
      node("b", "i-0000000000000000b"),
      node("a", "i-0000000000000000a"),
      node("a-again", "i-0000000000000000a"),
      node("down", "i-0000000000000000c", (n) => (n.status!.conditions![0]!.status = "False")),
    ];
    assert.deepEqual(instanceTargets(nodes, 30080), [
      { id: "i-0000000000000000a", port: 30080 },
      { id: "i-0000000000000000b", port: 30080 },
    ]);
  });
});

function slice(
  name: string,
  endpoints: Endpoint[],
  ports: EndpointSlice["ports"],
  change: Partial<EndpointSlice> = {},
): EndpointSlice {
  return {
    metadata: { name, namespace: "shop", labels: { "kubernetes.io/service-name": "web" } },
    addressType: "IPv4",
    endpoints,
    ports,
    ...change,
  };
}

const ep = (address: string, conditions?: Endpoint["conditions"]): Endpoint => ({
  addresses: [address],
  ...(conditions ? { conditions } : {}),
});

describe("ipTargets", () => {
  it("takes endpoints that are ready or have no ready condition, and are not terminating", () => {
    const slices = [
      slice(
        "web-1",
        [
          ep("10.0.0.1", { ready: true }),
          ep("10.0.0.2"),
          ep("10.0.0.3", { serving: true }),
          ep("10.0.0.4", { ready: false }),
          ep("10.0.0.5", { ready: false, serving: true, terminating: true }),
          ep("10.0.0.6", { ready: true, terminating: true }),
        ],
        [{ name: "", port: 8080, protocol: "TCP" }],
      ),
    ];
    assert.deepEqual(ipTargets(slices, { port: 80 }), [
      { id: "10.0.0.1", port: 8080 },
      { id: "10.0.0.2", port: 8080 },
      { id: "10.0.0.3", port: 8080 },
    ]);
  });

  it("uses the slice port whose name matches the service port's name", () => {
    const slices = [
      slice(
        "web-1",
        [ep("10.0.0.1")],
        [
          { name: "http", port: 8080 },
          { name: "metrics", port: 9090 },
        ],
      ),
    ];
    assert.deepEqual(ipTargets(slices, { name: "metrics", port: 9000 }), [{ id: "10.0.0.1", port: 9090 }]);
    assert.deepEqual(ipTargets(slices, { name: "http", port: 80 }), [{ id: "10.0.0.1", port: 8080 }]);
    assert.deepEqual(ipTargets(slices, { name: "grpc", port: 81 }), []);
    assert.deepEqual(ipTargets(slices, { port: 81 }), []);
  });

  it("matches an unnamed service port with an unnamed or empty-named slice port", () => {
    const unnamed = [slice("web-1", [ep("10.0.0.1")], [{ port: 8080 }])];
    assert.deepEqual(ipTargets(unnamed, { port: 80 }), [{ id: "10.0.0.1", port: 8080 }]);
    assert.deepEqual(ipTargets(unnamed, { name: "", port: 80 }), [{ id: "10.0.0.1", port: 8080 }]);
  });

  it("lets each slice carry its own port for the same name (pods on different ports)", () => {
    const slices = [
      slice("web-1", [ep("10.0.0.1")], [{ name: "http", port: 8080 }]),
      slice("web-2", [ep("10.0.0.2")], [{ name: "http", port: 8081 }]),
    ];
    assert.deepEqual(ipTargets(slices, { name: "http", port: 80 }), [
      { id: "10.0.0.1", port: 8080 },
      { id: "10.0.0.2", port: 8081 },
    ]);
  });

  it("skips IPv6 and FQDN slices for an IPv4 target group, and slices without ports or endpoints", () => {
    const slices = [
      slice("v6", [ep("fd00::1")], [{ port: 8080 }], { addressType: "IPv6" }),
      slice("fqdn", [ep("db.example.com")], [{ port: 8080 }], { addressType: "FQDN" }),
      slice("no-ports", [ep("10.0.0.9")], null),
      slice("no-endpoints", [], [{ port: 8080 }], { endpoints: null }),
      slice("v4", [ep("10.0.0.1")], [{ port: 8080 }]),
    ];
    assert.deepEqual(ipTargets(slices, { port: 80 }), [{ id: "10.0.0.1", port: 8080 }]);
  });

  it("removes repeats across slices and sorts by (id, port)", () => {
    const slices = [
      slice("b", [ep("10.0.0.2"), ep("10.0.0.1")], [{ port: 8080 }]),
      slice("a", [ep("10.0.0.1")], [{ port: 8080 }]),
    ];
    assert.deepEqual(ipTargets(slices, { port: 80 }), [
      { id: "10.0.0.1", port: 8080 },
      { id: "10.0.0.2", port: 8080 },
    ]);
  });

  it("uses only an endpoint's first address", () => {
    const slices = [slice("a", [{ addresses: ["10.0.0.1", "10.0.0.99"] }], [{ port: 8080 }])];
    assert.deepEqual(ipTargets(slices, { port: 80 }), [{ id: "10.0.0.1", port: 8080 }]);
  });
});

describe("slicesOfService", () => {
  it("keeps only slices labelled with the Service's name in its namespace", () => {
    const service: Service = { metadata: { name: "web", namespace: "shop" }, spec: {} };
    const slices = [
      slice("mine", [], []),
      slice("other-service", [], [], {
        metadata: { name: "other", namespace: "shop", labels: { "kubernetes.io/service-name": "api" } },
      }),
      slice("other-namespace", [], [], {
        metadata: { name: "x", namespace: "blog", labels: { "kubernetes.io/service-name": "web" } },
      }),
      slice("unlabelled", [], [], { metadata: { name: "y", namespace: "shop" } }),
    ];
    assert.deepEqual(
      slicesOfService(service, slices).map((s) => s.metadata.name),
      ["mine"],
    );
  });
});
