import assert from "node:assert/strict";
import { beforeEach, describe, it } from "node:test";
import {
  AssociateSubnetCidrBlockCommand,
  AssociateVpcCidrBlockCommand,
  DescribeSubnetsCommand,
  DescribeVpcsCommand,
} from "@aws-sdk/client-ec2";
import { DescribeLoadBalancersCommand } from "@aws-sdk/client-elastic-load-balancing-v2";
import { awsTestEnv } from "../../support/aws.ts";
import {
  annotate,
  isMutatingCall,
  nlbService,
  ownedByCluster,
  type TestCluster,
  useTestCluster,
  waitFor,
} from "../../support/cluster.ts";

awsTestEnv();
const NS = "default";
const A = "service.beta.kubernetes.io/aws-load-balancer-";

/** The i-th /64 of a /56 block. */
function subnet64(block56: string, index: number): string {
  const [network = ""] = block56.split("/");
  const groups = new URL(`http://[${network}]/`).hostname.slice(1, -1).split("::")[0]!.split(":");
  while (groups.length < 4) groups.push("0");
  groups[3] = (Number.parseInt(groups[3]!, 16) + index).toString(16);
  return `${groups.slice(0, 4).join(":")}::/64`;
}

/** Gives the seeded VPC an Amazon-provided IPv6 block and each subnet a /64 of it, as dualstack needs. */
async function addIpv6(c: TestCluster): Promise<string[]> {
  await c.ec2.send(
    new AssociateVpcCidrBlockCommand({ VpcId: c.vpc.vpcId, AmazonProvidedIpv6CidrBlock: true }),
  );
  const block = await waitFor("the VPC's IPv6 block", async () => {
    const vpc = (await c.ec2.send(new DescribeVpcsCommand({ VpcIds: [c.vpc.vpcId] }))).Vpcs?.[0];
    return vpc?.Ipv6CidrBlockAssociationSet?.find((a) => a.Ipv6CidrBlockState?.State === "associated")
      ?.Ipv6CidrBlock;
  });
  const cidrs = c.vpc.subnetIds.map((_, i) => subnet64(block, i));
  for (const [i, SubnetId] of c.vpc.subnetIds.entries())
    await c.ec2.send(new AssociateSubnetCidrBlockCommand({ SubnetId, Ipv6CidrBlock: cidrs[i] }));
  await waitFor("subnets with IPv6", async () => {
    const subnets = (await c.ec2.send(new DescribeSubnetsCommand({ SubnetIds: c.vpc.subnetIds }))).Subnets;
    return subnets?.every((s) =>
      s.Ipv6CidrBlockAssociationSet?.some(
        (a) => a.Ipv6CidrBlock && a.Ipv6CidrBlockState?.State !== "associating",
      ),
    );
  });
  return cidrs;
}

describe("ipv6-addresses", () => {
  const cluster = useTestCluster();
  let c: TestCluster;
  beforeEach(() => {
    c = cluster();
  });

  const warning = (reason: string, pattern: RegExp) =>
    waitFor(`${reason} event`, async () =>
      (await c.kube.core.listNamespacedEvent({ namespace: NS })).items.find(
        (e) => e.reason === reason && e.type === "Warning" && pattern.test(e.message ?? ""),
      ),
    );

  it("refuses bad addresses touching nothing, then creates the internal dualstack NLB with them", async () => {
    const cidrs = await addIpv6(c);
    const addresses = cidrs.map((cidr) => cidr.replace("::/64", "::10"));
    await c.kube.core.createNamespacedService({
      namespace: NS,
      body: nlbService("web", {
        annotations: { [`${A}ip-address-type`]: "dualstack", [`${A}ipv6-addresses`]: "2600:1f13::zz" },
      }),
    });
    c.proxy.resetCalls();
    await c.startController();
    await warning("InvalidAnnotation", /ipv6-addresses.*"2600:1f13::zz"/);

    // Valid addresses, but both in one subnet: refused once the subnets are known.
    const second = cidrs[0]!.replace("::/64", "::11");
    await annotate(c, "web", { [`${A}ipv6-addresses`]: `${addresses[0]},${second}` });
    const twice = await warning("FailedBuildModel", /are both inside subnet/);
    assert.match(twice.message ?? "", new RegExp(`${addresses[0]} and ${second}`));
    assert.deepEqual(
      c.proxy.calls.filter((x) => isMutatingCall(x.operation)).map((x) => x.operation),
      [],
      "nothing created or changed in AWS",
    );

    // In any order: each address goes to the subnet that holds it.
    await annotate(c, "web", { [`${A}ipv6-addresses`]: [...addresses].reverse().join(", ") });
    const lb = await waitFor(
      "the NLB",
      async () => (await ownedByCluster(c.elbv2, c.clusterName)).loadBalancers[0],
    );
    const described = (await c.elbv2.send(new DescribeLoadBalancersCommand({ LoadBalancerArns: [lb.arn] })))
      .LoadBalancers?.[0];
    assert.equal(described?.IpAddressType, "dualstack");
    assert.equal(described?.Scheme, "internal");
    const reported = (described?.AvailabilityZones ?? []).flatMap((z) =>
      (z.LoadBalancerAddresses ?? []).flatMap((a) => (a.IPv6Address ? [[z.SubnetId, a.IPv6Address]] : [])),
    );
    if (reported.length > 0) {
      // Where AWS lists the addresses, they are the ones asked for, each in its subnet.
      assert.deepEqual(reported.sort(), c.vpc.subnetIds.map((id, i) => [id, addresses[i]]).sort());
    } else {
      // Emulators that do not list addresses: the controller accepted the mapping and reconciled.
      assert.deepEqual(
        (described?.AvailabilityZones ?? []).map((z) => z.SubnetId).sort(),
        [...c.vpc.subnetIds].sort(),
      );
    }
    await waitFor("status hostname", async () => {
      const svc = await c.kube.core.readNamespacedService({ name: "web", namespace: NS });
      return svc.status?.loadBalancer?.ingress?.[0]?.hostname;
    });
  });
});
