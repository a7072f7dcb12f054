import assert from "node:assert/strict";
import { after, afterEach, before, beforeEach, describe, test } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import { DescribeSubnetsCommand, DescribeVpcsCommand, type EC2Client } from "@aws-sdk/client-ec2";
import {
  CreateTargetGroupCommand,
  DescribeLoadBalancersCommand,
  DescribeTargetGroupsCommand,
  type ElasticLoadBalancingV2Client,
  RegisterTargetsCommand,
} from "@aws-sdk/client-elastic-load-balancing-v2";
import { awsTestEnv, ec2Client, elbv2Client, resetAws, seedVpc } from "../../support/aws.ts";
import {
  awsAccountLimits,
  type CallRecord,
  type FaultProxy,
  startFaultProxy,
  type TokenBucketLimit,
} from "../../support/fault-proxy.ts";

const SEED = 7;
const aws = awsTestEnv();
let proxy: FaultProxy;
const clients: { destroy(): void }[] = [];

function elbv2(maxAttempts = 1): ElasticLoadBalancingV2Client {
  const client = elbv2Client(proxy.url, { maxAttempts });
  clients.push(client);
  return client;
}

function ec2(maxAttempts = 1): EC2Client {
  const client = ec2Client(proxy.url, { maxAttempts });
  clients.push(client);
  return client;
}

/** An SDK error as the caller sees it. */
interface SdkError {
  name: string;
  code?: string;
  $fault?: string;
  $metadata?: { httpStatusCode?: number; attempts?: number; totalRetryDelay?: number };
}

async function failure(promise: Promise<unknown>): Promise<SdkError> {
  return promise.then(
    () => assert.fail("the call should have failed"),
    (error: SdkError) => error,
  );
}

function summary(calls: readonly CallRecord[]): string[] {
  return calls.map((call) => `${call.service} ${call.operation} ${call.outcome}`);
}

async function vpcId(): Promise<string> {
  const { Vpcs = [] } = await ec2().send(new DescribeVpcsCommand({}));
  const id = Vpcs[0]?.VpcId;
  if (id === undefined)
    return (
      await seedVpc(ec2(), { zones: [`${aws.region}a`], clusterName: "proxy", role: "elb", instances: 0 })
    ).vpcId;
  return id;
}

const httpsEndpoint = process.env.AWS_ENDPOINT_URL?.startsWith("https:") ?? false;
const skip = httpsEndpoint ? "the fault proxy forwards plain HTTP only and AWS_ENDPOINT_URL is https" : false;

before(async () => {
  await aws.ready();
  proxy = await startFaultProxy({ target: aws.endpoint, seed: SEED });
});
after(async () => {
  await proxy?.close();
});
beforeEach(async () => {
  await resetAws();
  proxy.setFaults();
  proxy.setLimits();
  proxy.reseed(SEED);
  proxy.resetCalls();
});
afterEach(() => {
  for (const client of clients.splice(0)) client.destroy();
});

describe("fault proxy", { skip }, () => {
  test("records every call with its service, operation and outcome", async () => {
    const started = Date.now();
    const vpc = await vpcId();
    proxy.resetCalls();
    await elbv2().send(new DescribeLoadBalancersCommand({}));
    await elbv2().send(
      new CreateTargetGroupCommand({ Name: "recorded", Protocol: "TCP", Port: 80, VpcId: vpc }),
    );
    await ec2().send(new DescribeSubnetsCommand({}));
    await failure(
      elbv2().send(
        new CreateTargetGroupCommand({ Name: "bad", Protocol: "TCP", Port: 80, VpcId: "vpc-0000000000" }),
      ),
    );
    const other = await fetch(`${proxy.url}/moto-api/does-not-exist`);
    await other.arrayBuffer();

    assert.deepEqual(summary(proxy.calls.slice(0, 3)), [
      "elbv2 DescribeLoadBalancers ok",
      "elbv2 CreateTargetGroup ok",
      "ec2 DescribeSubnets ok",
    ]);
    const rejected = proxy.calls[3]!;
    assert.equal(rejected.service, "elbv2");
    assert.equal(rejected.operation, "CreateTargetGroup");
    assert.equal(typeof rejected.outcome, "number");
    assert.equal(rejected.outcome, rejected.status);
    assert.ok(rejected.status! >= 400 && rejected.status! < 500);
    assert.ok(rejected.errorCode, "the AWS error code of a rejected call is recorded");
    assert.equal(proxy.calls[4]?.service, "other");
    assert.equal(proxy.calls[4]?.operation, "GET /moto-api/does-not-exist");
    for (const call of proxy.calls) {
      assert.equal(call.injected, false);
      assert.ok(call.startedAt >= started && call.startedAt <= Date.now());
      assert.ok(call.durationMs >= 0);
    }
    proxy.resetCalls();
    assert.equal(proxy.calls.length, 0);
  });

  test("throttling at rate 1 gives each service's real throttling error", async () => {
    proxy.setFaults({ throttleRate: 1 });
    const elbError = await failure(elbv2().send(new DescribeLoadBalancersCommand({})));
    assert.equal(elbError.name, "Throttling");
    assert.equal(elbError.$fault, "client");
    assert.equal(elbError.$metadata?.httpStatusCode, 400);
    assert.equal(elbError.$metadata?.attempts, 1);
    const ec2Error = await failure(ec2().send(new DescribeVpcsCommand({})));
    assert.equal(ec2Error.name, "RequestLimitExceeded");
    assert.equal(ec2Error.$metadata?.httpStatusCode, 503);
    assert.equal(ec2Error.$metadata?.attempts, 1);

    assert.deepEqual(summary(proxy.calls), [
      "elbv2 DescribeLoadBalancers throttled",
      "ec2 DescribeVpcs throttled",
    ]);
    assert.deepEqual(
      proxy.calls.map((call) => [call.injected, call.forwarded, call.errorCode]),
      [
        [true, false, "Throttling"],
        [true, false, "RequestLimitExceeded"],
      ],
    );
  });

  test("the SDK retries throttled calls to success", async () => {
    proxy.setFaults({ throttleRate: 0.4 });
    let retried = 0;
    for (const send of [
      () => elbv2(8).send(new DescribeLoadBalancersCommand({})),
      () => ec2(8).send(new DescribeVpcsCommand({})),
      () => elbv2(8).send(new DescribeTargetGroupsCommand({})),
      () => ec2(8).send(new DescribeSubnetsCommand({})),
    ]) {
      proxy.resetCalls();
      const output = await send();
      const attempts = output.$metadata.attempts ?? 1;
      assert.equal(proxy.calls.length, attempts, "one recorded call per SDK attempt");
      assert.deepEqual(
        proxy.calls.map((call) => call.outcome),
        [...Array(attempts - 1).fill("throttled"), "ok"],
      );
      retried += attempts - 1;
    }
    assert.ok(retried > 0, "with this seed some calls are throttled");
  });

  test("fault rules apply per service and per operation, first match wins", async () => {
    const vpc = await vpcId();
    proxy.setFaults([
      { match: { service: "ec2" }, throttleRate: 1 },
      { match: { service: "elbv2", operation: "Describe*" }, errorRate: 1 },
    ]);
    proxy.resetCalls();
    await elbv2().send(
      new CreateTargetGroupCommand({ Name: "filtered", Protocol: "TCP", Port: 80, VpcId: vpc }),
    );
    await failure(elbv2().send(new DescribeTargetGroupsCommand({})));
    await failure(ec2().send(new DescribeVpcsCommand({})));
    assert.deepEqual(summary(proxy.calls), [
      "elbv2 CreateTargetGroup ok",
      "elbv2 DescribeTargetGroups error5xx",
      "ec2 DescribeVpcs throttled",
    ]);
  });

  test("5xx errors reach the SDK as server faults and are retried", async () => {
    proxy.setFaults({ errorRate: 1 });
    const elbError = await failure(elbv2().send(new DescribeLoadBalancersCommand({})));
    assert.equal(elbError.name, "InternalFailure");
    assert.equal(elbError.$fault, "server");
    assert.equal(elbError.$metadata?.httpStatusCode, 500);
    const ec2Error = await failure(ec2().send(new DescribeVpcsCommand({})));
    assert.equal(ec2Error.name, "InternalError");
    assert.equal(ec2Error.$metadata?.httpStatusCode, 500);

    proxy.setFaults({ errorRate: 1, errorStatus: 503 });
    const unavailable = await failure(elbv2().send(new DescribeLoadBalancersCommand({})));
    assert.equal(unavailable.name, "ServiceUnavailable");
    assert.equal(unavailable.$metadata?.httpStatusCode, 503);

    proxy.setFaults({ errorRate: 0.5 });
    proxy.resetCalls();
    const output = await elbv2(10).send(new DescribeLoadBalancersCommand({}));
    assert.equal(proxy.calls.length, output.$metadata.attempts);
    assert.equal(proxy.calls.at(-1)?.outcome, "ok");
    assert.ok(proxy.calls.slice(0, -1).every((call) => call.outcome === "error5xx"));
  });

  test("latency delays each matching call by the fixed part plus jitter", async () => {
    proxy.setFaults({ match: { service: "ec2" }, latencyMs: 300, jitterMs: 50 });
    const client = ec2();
    for (let i = 0; i < 2; i++) {
      const began = performance.now();
      await client.send(new DescribeVpcsCommand({}));
      assert.ok(performance.now() - began >= 299, "the client waited at least the fixed latency");
    }
    const fast = performance.now();
    await elbv2().send(new DescribeLoadBalancersCommand({}));
    const elbMs = performance.now() - fast;

    const delayed = proxy.calls.filter((call) => call.service === "ec2");
    assert.equal(delayed.length, 2);
    for (const call of delayed)
      assert.ok(call.durationMs >= 299 && call.durationMs < 2_000, `${call.durationMs}`);
    assert.notEqual(delayed[0]?.durationMs, delayed[1]?.durationMs, "jitter differs call to call");
    assert.ok(elbMs < 300, `an unmatched call is not delayed (${elbMs} ms)`);
  });

  test("dropped connections reset the socket and are retried by the SDK", async () => {
    proxy.setFaults({ dropRate: 1 });
    const error = await failure(elbv2().send(new DescribeLoadBalancersCommand({})));
    assert.equal(error.code, "ECONNRESET");
    assert.deepEqual(
      proxy.calls.map((call) => [call.outcome, call.status, call.forwarded]),
      [["dropped", undefined, false]],
    );

    proxy.setFaults({ dropRate: 0.5 });
    proxy.resetCalls();
    const output = await ec2(10).send(new DescribeVpcsCommand({}));
    assert.equal(proxy.calls.length, output.$metadata.attempts);
    assert.equal(proxy.calls.at(-1)?.outcome, "ok");
    assert.ok(proxy.calls.slice(0, -1).every((call) => call.outcome === "dropped"));
  });

  test("a dropped answer leaves the call executed upstream", async () => {
    const vpc = await vpcId();
    proxy.setFaults({ match: { operation: "CreateTargetGroup" }, dropResponseRate: 1 });
    const error = await failure(
      elbv2().send(
        new CreateTargetGroupCommand({ Name: "unanswered", Protocol: "TCP", Port: 80, VpcId: vpc }),
      ),
    );
    assert.equal(error.code, "ECONNRESET");
    const { TargetGroups = [] } = await elbv2().send(
      new DescribeTargetGroupsCommand({ Names: ["unanswered"] }),
    );
    assert.equal(TargetGroups.length, 1);
    const dropped = proxy.calls.find((call) => call.operation === "CreateTargetGroup");
    assert.equal(dropped?.outcome, "dropped");
    assert.equal(dropped?.forwarded, true);
  });

  test("the same seed gives the same faults", async () => {
    const outcomes = async (): Promise<string[]> => {
      proxy.reseed(42);
      proxy.resetCalls();
      const client = ec2();
      for (let i = 0; i < 20; i++) await client.send(new DescribeVpcsCommand({})).catch(() => undefined);
      return proxy.calls.map((call) => String(call.outcome));
    };
    proxy.setFaults({ throttleRate: 0.3, errorRate: 0.2 });
    const first = await outcomes();
    const second = await outcomes();
    assert.deepEqual(second, first);
    assert.ok(first.includes("throttled") && first.includes("ok"), first.join(","));
  });
});

describe("fault proxy token buckets", { skip }, () => {
  test("a burst beyond the bucket is throttled and the bucket refills over time", async () => {
    const limits: TokenBucketLimit[] = [
      {
        name: "describe",
        match: { service: "elbv2", operation: "Describe*" },
        burst: 3,
        refillPerSecond: 0.5,
        scope: "category",
      },
    ];
    // Eight simulated seconds per real second: a token every 2 simulated seconds is 4 a real one,
    // slow enough that the burst (sent at once) sees no refill, fast enough that the test need not wait 4 s.
    proxy.setLimits(limits, 8);
    const client = elbv2();
    const burst = await Promise.allSettled(
      Array.from({ length: 5 }, () => client.send(new DescribeLoadBalancersCommand({}))),
    );
    assert.equal(burst.filter((result) => result.status === "fulfilled").length, 3);
    const throttled = burst.filter((result) => result.status === "rejected");
    assert.equal(throttled.length, 2);
    for (const result of throttled) assert.equal((result.reason as SdkError).name, "Throttling");
    assert.deepEqual(
      proxy.calls.filter((call) => call.outcome === "throttled").map((call) => call.bucket),
      ["describe", "describe"],
    );
    // Calls the table does not cover are never throttled.
    await ec2().send(new DescribeVpcsCommand({}));

    await sleep(550); // 2.2 tokens at 4 a second
    await client.send(new DescribeLoadBalancersCommand({}));
    await client.send(new DescribeLoadBalancersCommand({}));
  });

  test("AWS's account limits: a call draws from its category and from the account-wide bucket", async () => {
    // A time scale near zero freezes refills, so the counts are exact.
    proxy.setLimits(awsAccountLimits, 1e-6);
    const vpc = await vpcId();
    const client = elbv2();
    const { TargetGroups = [] } = await client.send(
      new CreateTargetGroupCommand({
        Name: "limits",
        Protocol: "TCP",
        Port: 80,
        VpcId: vpc,
        TargetType: "ip",
      }),
    );
    const arn = TargetGroups[0]?.TargetGroupArn;
    proxy.resetCalls();

    const register = (): Promise<unknown> =>
      client.send(
        new RegisterTargetsCommand({ TargetGroupArn: arn, Targets: [{ Id: "10.0.0.10", Port: 80 }] }),
      );
    for (let i = 0; i < 25; i++) await register().catch(() => undefined);
    const registerBuckets = proxy.calls.map((call) => call.bucket ?? call.outcome);
    assert.deepEqual(registerBuckets, [...Array(20).fill("ok"), ...Array(5).fill("elbv2:targets")]);

    // The account bucket (40) has given 1 token to CreateTargetGroup and 20 to RegisterTargets: 19 remain,
    // although the Describe bucket itself still holds 40.
    proxy.resetCalls();
    for (let i = 0; i < 25; i++)
      await client.send(new DescribeTargetGroupsCommand({})).catch(() => undefined);
    assert.deepEqual(
      proxy.calls.map((call) => call.bucket ?? call.outcome),
      [...Array(19).fill("ok"), ...Array(6).fill("elbv2:account")],
    );

    // EC2 has buckets of its own, untouched by all this.
    await ec2().send(new DescribeVpcsCommand({}));
  });

  test("the default table holds AWS's published per-account limits", () => {
    const table = Object.fromEntries(
      awsAccountLimits.map((limit) => [limit.name, [limit.burst, limit.refillPerSecond]]),
    );
    assert.deepEqual(table, {
      "elbv2:targets": [20, 4],
      "elbv2:create-load-balancer": [10, 0.2],
      "elbv2:describe": [40, 10],
      "elbv2:mutating": [20, 3],
      "elbv2:account": [40, 10],
      "ec2:describe": [100, 20],
      "ec2:mutating": [50, 5],
    });
  });
});
