import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { chooseSubnets } from "../../../src/model/subnets.ts";
import type { Subnet } from "../../../src/model/types.ts";

function subnet(id: string, zone: string, tags: Record<string, string> = {}): Subnet {
  return { id, zone, cidr: "10.0.0.0/24", vpcId: "vpc-123", tags };
}

const PUBLIC = "kubernetes.io/role/elb";
const INTERNAL = "kubernetes.io/role/internal-elb";
const OURS = "kubernetes.io/cluster/prod";
const THEIRS = "kubernetes.io/cluster/staging";

const ids = (choice: ReturnType<typeof chooseSubnets>) => {
  assert.ok(choice.ok, choice.ok ? "" : choice.message);
  return choice.subnets.map((s) => s.id);
};

describe("chooseSubnets: discovery by role tag", () => {
  const candidates = [
    subnet("subnet-public-a", "us-west-2a", { [PUBLIC]: "1" }),
    subnet("subnet-public-b", "us-west-2b", { [PUBLIC]: "" }),
    subnet("subnet-private-a", "us-west-2a", { [INTERNAL]: "1" }),
    subnet("subnet-private-b", "us-west-2b", { [INTERNAL]: "1" }),
    subnet("subnet-untagged-c", "us-west-2c"),
    subnet("subnet-disabled-c", "us-west-2c", { [INTERNAL]: "0", [PUBLIC]: "0" }),
  ];

  it("internal NLBs use subnets tagged kubernetes.io/role/internal-elb (1 or empty), one per zone", () => {
    assert.deepEqual(ids(chooseSubnets(candidates, { clusterName: "prod", scheme: "internal" })), [
      "subnet-private-a",
      "subnet-private-b",
    ]);
  });

  it("internet-facing NLBs use subnets tagged kubernetes.io/role/elb", () => {
    assert.deepEqual(ids(chooseSubnets(candidates, { clusterName: "prod", scheme: "internet-facing" })), [
      "subnet-public-a",
      "subnet-public-b",
    ]);
  });

  it("prefers a subnet tagged for this cluster, then the smallest ID, in each zone", () => {
    const many = [
      subnet("subnet-c", "us-west-2a", { [INTERNAL]: "1" }),
      subnet("subnet-b", "us-west-2a", { [INTERNAL]: "1" }),
      subnet("subnet-z", "us-west-2a", { [INTERNAL]: "1", [OURS]: "shared" }),
      subnet("subnet-y", "us-west-2b", { [INTERNAL]: "1" }),
      subnet("subnet-x", "us-west-2b", { [INTERNAL]: "1" }),
    ];
    assert.deepEqual(ids(chooseSubnets(many, { clusterName: "prod", scheme: "internal" })), [
      "subnet-z",
      "subnet-x",
    ]);
    assert.deepEqual(ids(chooseSubnets([...many].reverse(), { clusterName: "prod", scheme: "internal" })), [
      "subnet-z",
      "subnet-x",
    ]);
  });

  it("skips subnets that belong only to another cluster, keeps shared ones", () => {
    const shared = [
      subnet("subnet-a", "us-west-2a", { [INTERNAL]: "1", [THEIRS]: "owned" }),
      subnet("subnet-b", "us-west-2b", { [INTERNAL]: "1", [THEIRS]: "shared", [OURS]: "shared" }),
      subnet("subnet-c", "us-west-2c", { [INTERNAL]: "1" }),
    ];
    assert.deepEqual(ids(chooseSubnets(shared, { clusterName: "prod", scheme: "internal" })), [
      "subnet-b",
      "subnet-c",
    ]);
  });

  it("says which tag and VPC it looked for when nothing matches", () => {
    assert.deepEqual(
      chooseSubnets([subnet("subnet-a", "us-west-2a")], { clusterName: "prod", scheme: "internal" }),
      {
        ok: false,
        message: "no subnet in vpc-123 is tagged kubernetes.io/role/internal-elb=1 (for an internal NLB)",
      },
    );
    assert.deepEqual(chooseSubnets([], { clusterName: "prod", scheme: "internet-facing", vpcId: "vpc-9" }), {
      ok: false,
      message: "no subnet in vpc-9 is tagged kubernetes.io/role/elb=1 (for an internet-facing NLB)",
    });
  });

  it("says so when every role-tagged subnet belongs to another cluster", () => {
    const choice = chooseSubnets([subnet("subnet-a", "us-west-2a", { [PUBLIC]: "1", [THEIRS]: "owned" })], {
      clusterName: "prod",
      scheme: "internet-facing",
    });
    assert.deepEqual(choice, {
      ok: false,
      message:
        "no subnet in vpc-123 is tagged kubernetes.io/role/elb=1 (for an internet-facing NLB) without belonging to another cluster: subnet-a carries another cluster's kubernetes.io/cluster/<name> tag but not kubernetes.io/cluster/prod",
    });
  });
});

describe("chooseSubnets: the subnets annotation", () => {
  const candidates = [
    subnet("subnet-0aaaaaaaaaaaaaaa1", "us-west-2a", { Name: "private-a" }),
    subnet("subnet-0bbbbbbbbbbbbbbb2", "us-west-2b", { Name: "private-b" }),
    subnet("subnet-0ccccccccccccccc3", "us-west-2a", { Name: "other-a" }),
    subnet("subnet-0ddddddddddddddd4", "us-west-2c", { Name: "twin" }),
    subnet("subnet-0eeeeeeeeeeeeeee5", "us-west-2d", { Name: "twin" }),
  ];

  it("resolves IDs and Name tags, ignoring role tags", () => {
    const choice = chooseSubnets(candidates, {
      clusterName: "prod",
      scheme: "internet-facing",
      explicit: ["private-b", "subnet-0aaaaaaaaaaaaaaa1"],
    });
    assert.deepEqual(ids(choice), ["subnet-0aaaaaaaaaaaaaaa1", "subnet-0bbbbbbbbbbbbbbb2"]);
  });

  it("names an entry it cannot find", () => {
    assert.deepEqual(
      chooseSubnets(candidates, {
        clusterName: "prod",
        scheme: "internal",
        explicit: ["private-a", "public-z"],
      }),
      {
        ok: false,
        message: 'subnet "public-z" was not found in vpc-123 (looked for a subnet with this ID or Name tag)',
      },
    );
    assert.deepEqual(
      chooseSubnets(candidates, {
        clusterName: "prod",
        scheme: "internal",
        explicit: ["subnet-0123456789abcdef0"],
      }),
      {
        ok: false,
        message:
          'subnet "subnet-0123456789abcdef0" was not found in vpc-123 (looked for a subnet with this ID)',
      },
    );
  });

  it("refuses a Name shared by several subnets", () => {
    assert.deepEqual(
      chooseSubnets(candidates, { clusterName: "prod", scheme: "internal", explicit: ["twin"] }),
      {
        ok: false,
        message:
          'subnet Name "twin" is ambiguous in vpc-123: subnet-0ddddddddddddddd4, subnet-0eeeeeeeeeeeeeee5 all carry it; use subnet IDs',
      },
    );
  });

  it("refuses two subnets in one zone", () => {
    assert.deepEqual(
      chooseSubnets(candidates, {
        clusterName: "prod",
        scheme: "internal",
        explicit: ["other-a", "private-a"],
      }),
      {
        ok: false,
        message:
          "subnets subnet-0aaaaaaaaaaaaaaa1 and subnet-0ccccccccccccccc3 are both in us-west-2a; an NLB takes at most one subnet per availability zone",
      },
    );
  });

  it("counts an ID and its Name once", () => {
    const choice = chooseSubnets(candidates, {
      clusterName: "prod",
      scheme: "internal",
      explicit: ["private-a", "subnet-0aaaaaaaaaaaaaaa1"],
    });
    assert.deepEqual(ids(choice), ["subnet-0aaaaaaaaaaaaaaa1"]);
  });
});
