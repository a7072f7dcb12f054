import assert from "node:assert/strict";
import { beforeEach, describe, test } from "node:test";
import { DescribeInstancesCommand, DescribeSubnetsCommand, DescribeVpcsCommand } from "@aws-sdk/client-ec2";
import { DescribeLoadBalancersCommand } from "@aws-sdk/client-elastic-load-balancing-v2";
import {
  awsTestEnv,
  ec2Client,
  elbv2Client,
  resetAws,
  seedVpc,
  startAwsEndpoint,
} from "../../support/aws.ts";

const aws = awsTestEnv();
beforeEach(() => resetAws());

describe("AWS test environment", () => {
  test("points the SDK's own environment variables at the endpoint", async () => {
    assert.equal(process.env.AWS_ENDPOINT_URL, aws.endpoint);
    assert.ok(process.env.AWS_REGION);
    assert.equal(aws.region, process.env.AWS_REGION);
    assert.ok(process.env.AWS_ACCESS_KEY_ID);
    assert.ok(process.env.AWS_SECRET_ACCESS_KEY);
    if (!aws.external) assert.equal(aws.endpoint, aws.moto?.url);
    // Clients built with no endpoint at all reach it through the environment.
    const ec2 = ec2Client();
    const elbv2 = elbv2Client();
    assert.equal(await ec2.config.region(), aws.region);
    await ec2.send(new DescribeVpcsCommand({}));
    await elbv2.send(new DescribeLoadBalancersCommand({}));
    ec2.destroy();
    elbv2.destroy();
  });

  test("an endpoint already in the environment is used as is, without starting moto", async () => {
    const { endpoint, release } = await startAwsEndpoint();
    try {
      assert.equal(endpoint.moto, undefined);
      assert.equal(endpoint.endpoint, aws.endpoint);
    } finally {
      await release();
    }
    assert.equal(process.env.AWS_ENDPOINT_URL, aws.endpoint, "release() must not undo what it did not set");
  });

  test("seedVpc builds a tagged VPC with one subnet per zone and running instances", async () => {
    const ec2 = ec2Client();
    const zones = [`${aws.region}a`, `${aws.region}b`, `${aws.region}c`];
    const seeded = await seedVpc(ec2, { zones, clusterName: "harness", role: "internal-elb", instances: 4 });

    assert.match(seeded.vpcId, /^vpc-/);
    assert.equal(seeded.subnets.length, 3);
    assert.deepEqual(
      seeded.subnets.map((subnet) => subnet.zone),
      zones,
    );
    const { Subnets = [] } = await ec2.send(
      new DescribeSubnetsCommand({
        Filters: [
          { Name: "vpc-id", Values: [seeded.vpcId] },
          { Name: "tag:kubernetes.io/role/internal-elb", Values: ["1"] },
          { Name: "tag:kubernetes.io/cluster/harness", Values: ["shared"] },
        ],
      }),
    );
    assert.deepEqual(Subnets.map((subnet) => subnet.SubnetId).sort(), [...seeded.subnetIds].sort());

    assert.equal(seeded.instanceIds.length, 4);
    // Round-robin over the zones: 2, 1, 1.
    assert.deepEqual(
      seeded.instances.map((instance) => instance.zone),
      [zones[0], zones[0], zones[1], zones[2]],
    );
    for (const instance of seeded.instances) {
      assert.equal(instance.providerID, `aws:///${instance.zone}/${instance.instanceId}`);
    }
    assert.deepEqual(
      seeded.providerIDs,
      seeded.instances.map((instance) => instance.providerID),
    );
    const { Reservations = [] } = await ec2.send(
      new DescribeInstancesCommand({ InstanceIds: seeded.instanceIds }),
    );
    const described = Reservations.flatMap((reservation) => reservation.Instances ?? []);
    assert.equal(described.length, 4);
    for (const instance of described) {
      assert.equal(instance.State?.Name, "running");
      assert.equal(instance.VpcId, seeded.vpcId);
      const seededOne = seeded.instances.find((candidate) => candidate.instanceId === instance.InstanceId);
      assert.equal(instance.SubnetId, seededOne?.subnetId);
      assert.equal(instance.Placement?.AvailabilityZone, seededOne?.zone);
    }
    ec2.destroy();
  });

  test("seedVpc tags subnets for internet-facing load balancers with role elb", async () => {
    const ec2 = ec2Client();
    const seeded = await seedVpc(ec2, {
      zones: [`${aws.region}a`],
      clusterName: "public",
      role: "elb",
      instances: 0,
      vpcCidr: "10.7.0.0/16",
    });
    const { Subnets = [] } = await ec2.send(new DescribeSubnetsCommand({ SubnetIds: seeded.subnetIds }));
    const tags = Object.fromEntries((Subnets[0]?.Tags ?? []).map((tag) => [tag.Key, tag.Value]));
    assert.equal(tags["kubernetes.io/role/elb"], "1");
    assert.equal(tags["kubernetes.io/role/internal-elb"], undefined);
    assert.equal(tags["kubernetes.io/cluster/public"], "shared");
    assert.equal(Subnets[0]?.CidrBlock, "10.7.0.0/20");
    assert.deepEqual(seeded.instanceIds, []);
    ec2.destroy();
  });

  test("resetAws empties the account between tests", async (t) => {
    if (aws.external) {
      t.skip("AWS_ENDPOINT_URL is not moto: resetAws() does nothing there");
      return;
    }
    const ec2 = ec2Client();
    const seeded = await seedVpc(ec2, {
      zones: [`${aws.region}a`],
      clusterName: "gone",
      role: "elb",
      instances: 0,
    });
    await resetAws();
    const { Vpcs = [] } = await ec2.send(new DescribeVpcsCommand({}));
    assert.equal(
      Vpcs.some((vpc) => vpc.VpcId === seeded.vpcId),
      false,
    );
    ec2.destroy();
  });
});
