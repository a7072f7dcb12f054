import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { ApiBudget, parseThrottleOverrides, TokenBucket } from "../../../src/aws/budget.ts";
import { AWS_API_LIMITS } from "../../../src/aws/limits.ts";
import { FlagError, resolveConfig } from "../../../src/config.ts";

function fakeClock() {
  let now = 0;
  return { clock: () => now, advance: (ms: number) => (now += ms) };
}

describe("TokenBucket", () => {
  it("lets a burst through at once, then one call per refill interval, in order", () => {
    const t = fakeClock();
    const bucket = new TokenBucket(2, 4, t.clock);
    assert.deepEqual([bucket.take(), bucket.take()], [0, 0]);
    assert.equal(bucket.take(), 250, "the third waits for the next token");
    assert.equal(bucket.take(), 500, "the fourth queues behind it");
    t.advance(500);
    assert.equal(bucket.take(), 250);
  });

  it("refills up to its burst only", () => {
    const t = fakeClock();
    const bucket = new TokenBucket(3, 10, t.clock);
    t.advance(60_000);
    assert.deepEqual([bucket.take(), bucket.take(), bucket.take()], [0, 0, 0]);
    assert.equal(bucket.take(), 100);
  });

  it("after AWS throttled a call: empty, then half the rate for 30 s, for calls booked after it", () => {
    const t = fakeClock();
    const bucket = new TokenBucket(4, 4, t.clock);
    bucket.take();
    bucket.slowDown();
    const first = bucket.take();
    const second = bucket.take();
    assert.ok(first > 0, "no burst right after a throttle");
    assert.equal(second - first, 500, "one call per 500 ms instead of 250");
    t.advance(31_000);
    assert.equal(bucket.rate, 4);
  });

  it("books a call drawing from two buckets at one send time in both", () => {
    const t = fakeClock();
    const budget = new ApiBudget(AWS_API_LIMITS, 0.5, [], { clock: t.clock });
    // Back the account-wide bucket up with Describe calls, then the targets bucket must not run ahead.
    for (let i = 0; i < 40; i++) budget.reserve("elbv2", "DescribeTargetHealth");
    const waits = Array.from({ length: 30 }, () => budget.reserve("elbv2", "RegisterTargets"));
    for (let i = 1; i < waits.length; i++) assert.ok(waits[i]! >= waits[i - 1]!, "in order");
    // 30 RegisterTargets may go out no faster than their own bucket allows: 10 at once, then 2 a second.
    const window = waits[29]! - waits[0]!;
    assert.ok(window >= ((30 - 10) / 2) * 1000 - 1, `spread over ${window} ms`);
  });

  it("fails the calls still waiting once stopped", async () => {
    const budget = new ApiBudget(AWS_API_LIMITS, 0.5);
    const waiting = budget.wait(60_000);
    budget.stop();
    await assert.rejects(waiting, /stopping/);
    await assert.rejects(budget.wait(1), /stopping/);
  });
});

describe("ApiBudget", () => {
  it("gives half of AWS's buckets by default: RegisterTargets 10 at once, then 2 a second", () => {
    const t = fakeClock();
    const budget = new ApiBudget(AWS_API_LIMITS, 0.5, [], { clock: t.clock });
    const waits = Array.from({ length: 11 }, () => budget.reserve("elbv2", "RegisterTargets"));
    assert.deepEqual(waits.slice(0, 10), Array(10).fill(0));
    assert.equal(waits[10], 500);
  });

  it("draws a call from its first category bucket and from the account-wide ELB bucket", () => {
    const budget = new ApiBudget(AWS_API_LIMITS, 0.5);
    assert.deepEqual(
      budget.bucketsOf("elbv2", "DescribeTargetHealth").map((b) => b.name),
      ["elbv2:describe", "elbv2:account"],
    );
    assert.deepEqual(
      budget.bucketsOf("elbv2", "ModifyListener").map((b) => b.name),
      ["elbv2:mutating", "elbv2:account"],
    );
    assert.deepEqual(
      budget.bucketsOf("ec2", "AuthorizeSecurityGroupIngress").map((b) => b.name),
      ["ec2:mutating"],
    );
  });

  it("lets the account-wide bucket hold back a category that still has tokens", () => {
    const t = fakeClock();
    const budget = new ApiBudget(AWS_API_LIMITS, 0.5, [], { clock: t.clock });
    // 20 account-wide tokens: 10 from RegisterTargets, 10 from Describe*, then Describe* waits.
    for (let i = 0; i < 10; i++) budget.reserve("elbv2", "RegisterTargets");
    for (let i = 0; i < 10; i++) assert.equal(budget.reserve("elbv2", "DescribeListeners"), 0);
    assert.ok(budget.reserve("elbv2", "DescribeListeners") > 0);
  });

  it("takes an override before the defaults, at the rate given", () => {
    const t = fakeClock();
    const overrides = parseThrottleOverrides("elbv2:RegisterTargets|DeregisterTargets=1:1");
    assert.ok(Array.isArray(overrides));
    const budget = new ApiBudget(AWS_API_LIMITS, 0.5, overrides, { clock: t.clock });
    assert.equal(
      budget.bucketsOf("elbv2", "DeregisterTargets")[0]?.name,
      "elbv2:RegisterTargets|DeregisterTargets",
    );
    assert.equal(budget.reserve("elbv2", "RegisterTargets"), 0);
    assert.equal(budget.reserve("elbv2", "RegisterTargets"), 1000);
  });

  it("compresses refills, not bursts, for a benchmark whose AWS runs faster", () => {
    const t = fakeClock();
    const budget = new ApiBudget(AWS_API_LIMITS, 0.5, [], { clock: t.clock, timeScale: 10 });
    for (let i = 0; i < 5; i++) assert.equal(budget.reserve("elbv2", "CreateLoadBalancer"), 0);
    // 0.1 per second at 10x: one every second.
    assert.equal(budget.reserve("elbv2", "CreateLoadBalancer"), 1000);
  });
});

describe("--aws-api-throttle and --aws-api-budget", () => {
  it("accepts LBC's service names and several entries", () => {
    const parsed = parseThrottleOverrides(
      "Elastic Load Balancing v2:RegisterTargets|DeregisterTargets=4:20,EC2:Describe.*=10:40",
    );
    assert.ok(Array.isArray(parsed));
    assert.deepEqual(
      parsed.map((o) => [o.service, o.operation.test("DescribeInstances"), o.refillPerSecond, o.burst]),
      [
        ["elbv2", false, 4, 20],
        ["ec2", true, 10, 40],
      ],
    );
  });

  for (const [value, says] of [
    ["s3:GetObject=1:1", /service elbv2 or ec2/],
    ["elbv2:RegisterTargets=4", /service:operationRegex=rate:burst/],
    ["elbv2:(=4:20", /not a regular expression/],
    ["elbv2:Describe.*=0:20", /rate must be above 0/],
    ["elbv2:Describe.*=1:0", /burst at least 1/],
  ] as const) {
    it(`refuses ${value} with the flag, the value and what is allowed`, () => {
      assert.throws(
        () => resolveConfig({ clusterName: "c", awsApiThrottle: value }, {}),
        (err: unknown) =>
          err instanceof FlagError && /^--aws-api-throttle: /.test(err.message) && says.test(err.message),
      );
    });
  }

  for (const value of ["0", "0.001", "-1", "abc", "101", "0.5x"]) {
    it(`refuses --aws-api-budget ${value}`, () => {
      assert.throws(
        () => resolveConfig({ clusterName: "c", awsApiBudget: value }, {}),
        (err: unknown) =>
          err instanceof FlagError && err.message.startsWith(`--aws-api-budget: "${value}" is not valid`),
      );
    });
  }

  it("defaults to half of AWS's rates", () => {
    assert.equal(resolveConfig({ clusterName: "c" }, {}).awsApiBudget, 0.5);
  });
});
