import assert from "node:assert/strict";
import { beforeEach, describe, it } from "node:test";
import {
  AllocateAddressCommand,
  AttachInternetGatewayCommand,
  CreateInternetGatewayCommand,
} from "@aws-sdk/client-ec2";
import { DescribeLoadBalancersCommand } from "@aws-sdk/client-elastic-load-balancing-v2";
import { awsTestEnv } from "../../support/aws.ts";
import {
  isMutatingCall,
  nlbService,
  ownedByCluster,
  settle,
  type TestCluster,
  useTestCluster,
  waitFor,
} from "../../support/cluster.ts";

awsTestEnv();
const NS = "default";
const A = "service.beta.kubernetes.io/aws-load-balancer-";

describe("eip-allocations", () => {
  const cluster = useTestCluster();
  let c: TestCluster;
  beforeEach(() => {
    c = cluster();
  });

  const warnings = async (name: string) =>
    (await c.kube.core.listNamespacedEvent({ namespace: NS })).items.filter(
      (e) => e.involvedObject.name === name && e.type === "Warning",
    );

  it("creates the internet-facing NLB with one Elastic IP per subnet, in subnet order", async () => {
    // An internet-facing NLB needs an internet gateway on real AWS.
    const { InternetGateway } = await c.ec2.send(new CreateInternetGatewayCommand({}));
    await c.ec2.send(
      new AttachInternetGatewayCommand({
        InternetGatewayId: InternetGateway!.InternetGatewayId!,
        VpcId: c.vpc.vpcId,
      }),
    );
    const allocations: string[] = [];
    for (let i = 0; i < c.vpc.subnetIds.length; i++)
      allocations.push((await c.ec2.send(new AllocateAddressCommand({ Domain: "vpc" }))).AllocationId!);

    // One allocation for two subnets: refused, nothing made.
    await c.kube.core.createNamespacedService({
      namespace: NS,
      body: nlbService("short", {
        annotations: {
          [`${A}scheme`]: "internet-facing",
          [`${A}subnets`]: c.vpc.subnetIds.join(","),
          [`${A}eip-allocations`]: allocations[0]!,
        },
      }),
    });
    await c.kube.core.createNamespacedService({
      namespace: NS,
      body: nlbService("web", {
        annotations: {
          [`${A}scheme`]: "internet-facing",
          [`${A}subnets`]: c.vpc.subnetIds.join(","),
          [`${A}eip-allocations`]: allocations.join(","),
        },
      }),
    });
    c.proxy.resetCalls();
    const m = await c.startController();
    await waitFor("NLB of web", async () => (await ownedByCluster(c.elbv2, c.clusterName)).loadBalancers[0]);
    await settle(m);

    const short = await warnings("short");
    assert.ok(
      short.some((e) => e.reason === "InvalidAnnotation" && e.message?.includes(`${A}eip-allocations`)),
      JSON.stringify(short.map((e) => e.message)),
    );
    const owned = await ownedByCluster(c.elbv2, c.clusterName);
    assert.equal(owned.loadBalancers.length, 1, "only web got an NLB");
    assert.equal(owned.loadBalancers[0]!.tags["service.k8s.aws/stack"], "default/web");

    const creates = c.proxy.calls.filter((x) => x.operation === "CreateLoadBalancer");
    assert.equal(creates.length, 1);
    const params = creates[0]!.params ?? {};
    assert.equal(params.Scheme, "internet-facing");
    const mappings = c.vpc.subnetIds.map((_, i) => [
      params[`SubnetMappings.member.${i + 1}.SubnetId`],
      params[`SubnetMappings.member.${i + 1}.AllocationId`],
    ]);
    assert.deepEqual(
      mappings,
      c.vpc.subnetIds.map((subnet, i) => [subnet, allocations[i]]),
      "each subnet with its Elastic IP, in subnet order",
    );

    // Where the endpoint reports the NLB's addresses (AWS does), they are the allocations asked for.
    const lb = (
      await c.elbv2.send(
        new DescribeLoadBalancersCommand({ LoadBalancerArns: [owned.loadBalancers[0]!.arn] }),
      )
    ).LoadBalancers![0]!;
    const reported = (lb.AvailabilityZones ?? []).flatMap((z) =>
      (z.LoadBalancerAddresses ?? []).flatMap((a) => (a.AllocationId ? [a.AllocationId] : [])),
    );
    if (reported.length > 0) assert.deepEqual(reported.sort(), [...allocations].sort());

    // Nothing more to do once converged: a second look changes nothing.
    c.proxy.resetCalls();
    await c.startController();
    await settle(c.controller());
    assert.deepEqual(
      c.proxy.calls.filter((x) => isMutatingCall(x.operation)).map((x) => x.operation),
      [],
      "a restart leaves the NLB and its addresses alone",
    );
  });
});
