import { DescribeInstancesCommand, DescribeSubnetsCommand, type EC2Client } from "@aws-sdk/client-ec2";
import type { Subnet } from "../model/types.ts";

/** IPv6 block states that leave a subnet without that block. */
const GONE = new Set(["disassociating", "disassociated", "failing", "failed"]);

/** Every subnet of the VPC, for chooseSubnets() to pick from. */
export async function describeSubnets(ec2: EC2Client, vpcId: string): Promise<Subnet[]> {
  const out: Subnet[] = [];
  let token: string | undefined;
  do {
    const page = await ec2.send(
      new DescribeSubnetsCommand({ Filters: [{ Name: "vpc-id", Values: [vpcId] }], NextToken: token }),
    );
    for (const s of page.Subnets ?? []) {
      out.push({
        id: s.SubnetId ?? "",
        zone: s.AvailabilityZone ?? "",
        cidr: s.CidrBlock ?? "",
        ipv6Cidrs: (s.Ipv6CidrBlockAssociationSet ?? [])
          .filter((a) => a.Ipv6CidrBlock && !GONE.has(String(a.Ipv6CidrBlockState?.State)))
          .map((a) => a.Ipv6CidrBlock!),
        vpcId: s.VpcId ?? vpcId,
        tags: Object.fromEntries((s.Tags ?? []).map((t) => [t.Key ?? "", t.Value ?? ""])),
      });
    }
    token = page.NextToken;
  } while (token);
  return out;
}

/** The VPC of an instance: how the controller finds its VPC from a node when --vpc-id is not given. */
export async function vpcOfInstance(ec2: EC2Client, instanceId: string): Promise<string> {
  const out = await ec2.send(new DescribeInstancesCommand({ InstanceIds: [instanceId] }));
  const vpc = out.Reservations?.[0]?.Instances?.[0]?.VpcId;
  if (!vpc) throw new Error(`instance ${instanceId} has no VPC; pass --vpc-id`);
  return vpc;
}
