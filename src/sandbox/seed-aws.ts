/**
 * Seeds an AWS account (moto, LocalStack or real) with what an EKS cluster brings along: a VPC, one
 * subnet per zone tagged for load balancer discovery, and worker instances. Used by the `sandbox`
 * command and by the tests.
 */
import {
  type _InstanceType,
  CreateNetworkInterfaceCommand,
  CreateSecurityGroupCommand,
  CreateSubnetCommand,
  CreateVpcCommand,
  DescribeImagesCommand,
  DescribeInstancesCommand,
  type EC2Client,
  RunInstancesCommand,
  type Tag,
} from "@aws-sdk/client-ec2";
import { blockContains, ipv4ToNumber, parseIpv4Cidr } from "../model/ipv4.ts";

export interface SeedVpcOptions {
  /** Availability zones, one subnet each, e.g. ["us-west-2a", "us-west-2b"]. */
  zones: readonly string[];
  clusterName: string;
  /** Subnet role tag: `kubernetes.io/role/internal-elb` (internal NLBs) or `kubernetes.io/role/elb` (internet-facing). */
  role: "internal-elb" | "elb";
  /** Worker instances to start, spread over the zones in turn. */
  instances: number;
  /** A /16 IPv4 block; subnets get consecutive /20s of it. Default 10.0.0.0/16. */
  vpcCidr?: string;
  /** AMI for the instances; default: the newest Amazon Linux image the endpoint lists. */
  imageId?: string;
  /** Default t3.micro. */
  instanceType?: _InstanceType;
  /** How long to wait for the instances to be running; default 5 minutes. */
  runningTimeoutMs?: number;
}

export interface SeededSubnet {
  subnetId: string;
  zone: string;
  cidr: string;
}

export interface SeededInstance {
  instanceId: string;
  zone: string;
  subnetId: string;
  privateIpAddress: string | undefined;
  /** The Node's `spec.providerID`: `aws:///<zone>/<instance id>`. */
  providerID: string;
}

export interface SeededVpc {
  vpcId: string;
  /** The workers' security group, tagged for the cluster as EKS tags its cluster security group. */
  nodeSecurityGroupId: string;
  subnets: SeededSubnet[];
  subnetIds: string[];
  instances: SeededInstance[];
  instanceIds: string[];
  providerIDs: string[];
}

const AMAZON_LINUX_IMAGE_NAMES = [
  "al2023-ami-2023.*-x86_64",
  "amzn2-ami-hvm-*-x86_64-gp2",
  "amzn2-ami-hvm-*-x86_64-ebs",
];

function tags(entries: Record<string, string>): Tag[] {
  return Object.entries(entries).map(([Key, Value]) => ({ Key, Value }));
}

/** The i-th /20 of a /16 block. */
export function subnetCidr(vpcCidr: string, index: number): string {
  const match = /^(\d+)\.(\d+)\.0\.0\/16$/.exec(vpcCidr);
  if (match === null) throw new Error(`vpcCidr must be a /16 block like 10.0.0.0/16, got ${vpcCidr}`);
  if (index < 0 || index > 15)
    throw new Error(`a /16 holds 16 /20 subnets; zone index ${index} is out of range`);
  return `${match[1]}.${match[2]}.${index * 16}.0/20`;
}

export function providerID(zone: string, instanceId: string): string {
  return `aws:///${zone}/${instanceId}`;
}

/** The newest x86_64 Amazon Linux image owned by Amazon, as the endpoint lists it. */
export async function findAmazonLinuxImage(ec2: EC2Client): Promise<string> {
  const { Images = [] } = await ec2.send(
    new DescribeImagesCommand({
      Owners: ["amazon"],
      Filters: [
        { Name: "name", Values: AMAZON_LINUX_IMAGE_NAMES },
        { Name: "architecture", Values: ["x86_64"] },
        { Name: "state", Values: ["available"] },
      ],
    }),
  );
  const newest = Images.filter((image) => image.ImageId !== undefined).sort((a, b) =>
    (b.CreationDate ?? "").localeCompare(a.CreationDate ?? ""),
  )[0];
  if (newest?.ImageId === undefined) {
    throw new Error("no Amazon Linux x86_64 image found at the EC2 endpoint; pass imageId to seedVpc");
  }
  return newest.ImageId;
}

export async function seedVpc(ec2: EC2Client, options: SeedVpcOptions): Promise<SeededVpc> {
  if (options.zones.length === 0) throw new Error("seedVpc needs at least one zone");
  const vpcCidr = options.vpcCidr ?? "10.0.0.0/16";
  const clusterTag = `kubernetes.io/cluster/${options.clusterName}`;

  const { Vpc } = await ec2.send(
    new CreateVpcCommand({
      CidrBlock: vpcCidr,
      TagSpecifications: [
        { ResourceType: "vpc", Tags: tags({ Name: options.clusterName, [clusterTag]: "shared" }) },
      ],
    }),
  );
  const vpcId = Vpc?.VpcId;
  if (vpcId === undefined) throw new Error("CreateVpc returned no VpcId");

  const subnets: SeededSubnet[] = [];
  for (const [index, zone] of options.zones.entries()) {
    const cidr = subnetCidr(vpcCidr, index);
    const { Subnet } = await ec2.send(
      new CreateSubnetCommand({
        VpcId: vpcId,
        AvailabilityZone: zone,
        CidrBlock: cidr,
        TagSpecifications: [
          {
            ResourceType: "subnet",
            Tags: tags({
              Name: `${options.clusterName}-${zone}`,
              [`kubernetes.io/role/${options.role}`]: "1",
              [clusterTag]: "shared",
            }),
          },
        ],
      }),
    );
    if (Subnet?.SubnetId === undefined) throw new Error(`CreateSubnet in ${zone} returned no SubnetId`);
    subnets.push({ subnetId: Subnet.SubnetId, zone, cidr });
  }

  const { GroupId: nodeSecurityGroupId } = await ec2.send(
    new CreateSecurityGroupCommand({
      GroupName: `${options.clusterName}-nodes`,
      Description: `Workers of ${options.clusterName}`,
      VpcId: vpcId,
      TagSpecifications: [{ ResourceType: "security-group", Tags: tags({ [clusterTag]: "owned" }) }],
    }),
  );
  if (nodeSecurityGroupId === undefined) throw new Error("CreateSecurityGroup returned no GroupId");

  const instances: SeededInstance[] = [];
  if (options.instances > 0) {
    const imageId = options.imageId ?? (await findAmazonLinuxImage(ec2));
    for (const [index, subnet] of subnets.entries()) {
      // Instances go round-robin over the zones: zone i gets every i-th instance.
      const count =
        Math.floor(options.instances / subnets.length) + (index < options.instances % subnets.length ? 1 : 0);
      if (count === 0) continue;
      const { Instances = [] } = await ec2.send(
        new RunInstancesCommand({
          ImageId: imageId,
          InstanceType: options.instanceType ?? "t3.micro",
          MinCount: count,
          MaxCount: count,
          SubnetId: subnet.subnetId,
          SecurityGroupIds: [nodeSecurityGroupId],
          TagSpecifications: [
            {
              ResourceType: "instance",
              Tags: tags({ Name: `${options.clusterName}-node`, [clusterTag]: "owned" }),
            },
          ],
        }),
      );
      for (const instance of Instances) {
        if (instance.InstanceId === undefined) continue;
        instances.push({
          instanceId: instance.InstanceId,
          zone: subnet.zone,
          subnetId: subnet.subnetId,
          privateIpAddress: instance.PrivateIpAddress,
          providerID: providerID(subnet.zone, instance.InstanceId),
        });
      }
    }
    await waitUntilRunning(
      ec2,
      instances.map((instance) => instance.instanceId),
      options.runningTimeoutMs ?? 300_000,
    );
  }

  return {
    vpcId,
    nodeSecurityGroupId,
    subnets,
    subnetIds: subnets.map((subnet) => subnet.subnetId),
    instances,
    instanceIds: instances.map((instance) => instance.instanceId),
    providerIDs: instances.map((instance) => instance.providerID),
  };
}

/** Target registration wants running instances; real EC2 takes a while to get there. */
async function waitUntilRunning(
  ec2: EC2Client,
  instanceIds: readonly string[],
  timeoutMs: number,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let pauseMs = 200;
  for (;;) {
    const described = await ec2
      .send(new DescribeInstancesCommand({ InstanceIds: [...instanceIds] }))
      .catch((error: unknown) => {
        // EC2 is eventually consistent: new instances can be unknown to Describe for a moment.
        if ((error as Error).name === "InvalidInstanceID.NotFound") return undefined;
        throw error;
      });
    const notRunning = (described?.Reservations ?? [])
      .flatMap((reservation) => reservation.Instances ?? [])
      .filter((instance) => instance.State?.Name !== "running");
    if (described !== undefined && notRunning.length === 0) return;
    if (Date.now() + pauseMs > deadline) {
      const states = notRunning
        .map((instance) => `${instance.InstanceId}=${instance.State?.Name}`)
        .join(", ");
      throw new Error(`instances not running after ${timeoutMs} ms: ${states}`);
    }
    await new Promise((resolve) => setTimeout(resolve, pauseMs));
    pauseMs = Math.min(pauseMs * 2, 5_000);
  }
}

/**
 * Network interfaces holding pod IPs, each in the subnet whose CIDR contains it, with the workers'
 * security group (as the VPC CNI gives pods their node's groups): backend rules find pods through them.
 */
export async function createPodInterfaces(
  ec2: EC2Client,
  vpc: SeededVpc,
  addresses: string[],
): Promise<void> {
  for (const address of addresses) {
    const subnet = vpc.subnets.find((s) => {
      const block = parseIpv4Cidr(s.cidr);
      const value = ipv4ToNumber(address);
      return block !== undefined && value !== undefined && blockContains(block, value);
    });
    if (!subnet) throw new Error(`no seeded subnet contains ${address}`);
    await ec2.send(
      new CreateNetworkInterfaceCommand({
        SubnetId: subnet.subnetId,
        PrivateIpAddress: address,
        Groups: [vpc.nodeSecurityGroupId],
        Description: "pod",
      }),
    );
  }
}
