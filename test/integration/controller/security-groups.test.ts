import assert from "node:assert/strict";
import { beforeEach, describe, it } from "node:test";
import {
  AuthorizeSecurityGroupIngressCommand,
  CreateNetworkInterfaceCommand,
  CreateSecurityGroupCommand,
  DescribeInstancesCommand,
  DescribeSecurityGroupRulesCommand,
  DescribeSecurityGroupsCommand,
  RunInstancesCommand,
  type SecurityGroupRule,
} from "@aws-sdk/client-ec2";
import {
  CreateLoadBalancerCommand,
  DescribeLoadBalancersCommand,
  DescribeTargetHealthCommand,
} from "@aws-sdk/client-elastic-load-balancing-v2";
import { mergePatch } from "../../../src/kube/client.ts";
import { providerID } from "../../../src/sandbox/seed-aws.ts";
import { awsTestEnv } from "../../support/aws.ts";
import {
  annotate,
  isMutatingCall,
  nlbService,
  ownedByCluster,
  setEndpoints,
  settle,
  type TestCluster,
  useTestCluster,
  waitFor,
} from "../../support/cluster.ts";

awsTestEnv();
const NS = "default";
const P = "service.beta.kubernetes.io/aws-load-balancer-";

describe("security groups", () => {
  const cluster = useTestCluster();
  let c: TestCluster;
  beforeEach(() => {
    c = cluster();
  });

  const rulesOf = async (groupId: string): Promise<SecurityGroupRule[]> =>
    (
      (
        await c.ec2.send(
          new DescribeSecurityGroupRulesCommand({ Filters: [{ Name: "group-id", Values: [groupId] }] }),
        )
      ).SecurityGroupRules ?? []
    ).filter((r) => !r.IsEgress);
  const shape = (r: SecurityGroupRule) =>
    `${r.IpProtocol}:${r.FromPort}-${r.ToPort}<-${r.CidrIpv4 ?? r.CidrIpv6 ?? r.PrefixListId ?? r.ReferencedGroupInfo?.GroupId}`;
  const managedGroups = async () =>
    (
      await c.ec2.send(
        new DescribeSecurityGroupsCommand({
          Filters: [{ Name: "tag:elbv2.k8s.aws/cluster", Values: [c.clusterName] }],
        }),
      )
    ).SecurityGroups ?? [];
  const nlb = async () => {
    const lb = (await ownedByCluster(c.elbv2, c.clusterName)).loadBalancers[0];
    if (!lb) return undefined;
    return (await c.elbv2.send(new DescribeLoadBalancersCommand({ LoadBalancerArns: [lb.arn] })))
      .LoadBalancers?.[0];
  };
  const nodeGroupOf = async (instanceId: string) => {
    const out = await c.ec2.send(new DescribeInstancesCommand({ InstanceIds: [instanceId] }));
    const groups = out.Reservations?.[0]?.Instances?.[0]?.SecurityGroups ?? [];
    assert.equal(groups.length, 1, "the seeded nodes have one security group");
    return groups[0]!.GroupId!;
  };
  const nodePortOf = async (name: string) =>
    (await c.kube.core.readNamespacedService({ name, namespace: NS })).spec!.ports![0]!.nodePort!;
  /** A new worker in the first subnet with these security groups, as a node group would add one. */
  const runInstance = async (groups: string[]) => {
    const image = (await c.ec2.send(new DescribeInstancesCommand({ InstanceIds: [c.vpc.instanceIds[0]!] })))
      .Reservations![0]!.Instances![0]!.ImageId!;
    const out = await c.ec2.send(
      new RunInstancesCommand({
        ImageId: image,
        MinCount: 1,
        MaxCount: 1,
        SubnetId: c.vpc.subnets[0]!.subnetId,
        SecurityGroupIds: groups,
      }),
    );
    return out.Instances![0]!;
  };
  /** Its Node, Ready, as kubelet would register it. */
  const addReadyNode = async (name: string, instanceId: string) => {
    await c.kube.core.createNode({
      body: { metadata: { name }, spec: { providerID: providerID(c.vpc.subnets[0]!.zone, instanceId) } },
    });
    await c.kube.core.patchNodeStatus(
      { name, body: { status: { conditions: [{ type: "Ready", status: "True" }] } } },
      mergePatch,
    );
  };
  const reasons = async () =>
    (await c.kube.core.listNamespacedEvent({ namespace: NS })).items.map((e) => e.reason);

  it("gives the NLB a managed frontend group and opens the nodePort on the nodes' group from it only", async () => {
    const nodeGroup = await nodeGroupOf(c.vpc.instanceIds[0]!);
    // A rule somebody else made on the nodes' group, for the same port: never revoked.
    await c.ec2.send(
      new AuthorizeSecurityGroupIngressCommand({
        GroupId: nodeGroup,
        IpPermissions: [
          { IpProtocol: "tcp", FromPort: 22, ToPort: 22, IpRanges: [{ CidrIp: "10.9.0.0/16" }] },
        ],
      }),
    );
    await c.kube.core.createNamespacedService({ namespace: NS, body: nlbService("web") });
    const m = await c.startController();
    const lb = await waitFor("NLB", nlb);
    await settle(m);
    const [frontend] = await managedGroups();
    assert.ok(frontend?.GroupId, "a managed security group exists");
    assert.match(frontend.GroupName!, /^k8s-default-web-[0-9a-f]{10}$/);
    const tags = Object.fromEntries((frontend.Tags ?? []).map((t) => [t.Key, t.Value]));
    assert.equal(tags["service.k8s.aws/stack"], "default/web");
    assert.equal(tags["service.k8s.aws/resource"], "ManagedLBSecurityGroup");
    assert.deepEqual(lb.SecurityGroups, [frontend.GroupId], "the NLB was created with it");
    assert.deepEqual((await rulesOf(frontend.GroupId)).map(shape), ["tcp:80-80<-0.0.0.0/0"]);

    const nodePort = await nodePortOf("web");
    const nodeRules = await rulesOf(nodeGroup);
    assert.deepEqual(
      nodeRules.map(shape).sort(),
      [`tcp:${nodePort}-${nodePort}<-${frontend.GroupId}`, "tcp:22-22<-10.9.0.0/16"].sort(),
    );
    const ours = nodeRules.find((r) => r.ReferencedGroupInfo?.GroupId === frontend.GroupId)!;
    assert.ok(ours.Tags?.some((t) => t.Key === "elbv2.k8s.aws/cluster" && t.Value === c.clusterName));

    // Source ranges: the spec wins over the annotation; new rules go in before old ones go.
    c.proxy.resetCalls();
    await annotate(c, "web", { "service.beta.kubernetes.io/load-balancer-source-ranges": "192.168.0.0/16" });
    await c.kube.core.patchNamespacedService(
      {
        name: "web",
        namespace: NS,
        body: { spec: { loadBalancerSourceRanges: ["10.1.0.0/16", "10.2.0.0/16"] } },
      },
      mergePatch,
    );
    await waitFor("source ranges applied", async () => {
      const now = (await rulesOf(frontend.GroupId!)).map(shape).sort();
      return now.join() === ["tcp:80-80<-10.1.0.0/16", "tcp:80-80<-10.2.0.0/16"].join() ? now : undefined;
    });
    await settle(m);
    const ops = c.proxy.calls.filter((x) => isMutatingCall(x.operation)).map((x) => x.operation);
    assert.ok(
      ops.indexOf("AuthorizeSecurityGroupIngress") < ops.indexOf("RevokeSecurityGroupIngress"),
      ops.join(),
    );
    assert.ok(
      !ops.some((op) => /LoadBalancer|TargetGroup|Listener/.test(op)),
      `no ELB change: ${ops.join()}`,
    );

    // Path MTU discovery: ICMP fragmentation-needed from the same ranges.
    await annotate(c, "web", { [`${P}enable-icmp-for-path-mtu-discovery`]: "on" });
    await waitFor("ICMP rules", async () => {
      const now = (await rulesOf(frontend.GroupId!)).map(shape).filter((r) => r.startsWith("icmp"));
      return now.sort().join() === ["icmp:3-4<-10.1.0.0/16", "icmp:3-4<-10.2.0.0/16"].join()
        ? now
        : undefined;
    });

    // Deleting the Service takes our rule and group away, and nothing else.
    await c.kube.core.deleteNamespacedService({ name: "web", namespace: NS });
    await waitFor("Service gone", async () => {
      try {
        await c.kube.core.readNamespacedService({ name: "web", namespace: NS });
        return undefined;
      } catch {
        return true;
      }
    });
    assert.deepEqual(await managedGroups(), []);
    assert.deepEqual((await rulesOf(nodeGroup)).map(shape), ["tcp:22-22<-10.9.0.0/16"]);
  });

  it("uses the groups a Service names, moves the NLB to them and deletes the managed group", async () => {
    const { GroupId: given } = await c.ec2.send(
      new CreateSecurityGroupCommand({ GroupName: "clients", Description: "mine", VpcId: c.vpc.vpcId }),
    );
    await c.kube.core.createNamespacedService({ namespace: NS, body: nlbService("web") });
    const m = await c.startController();
    const first = await waitFor("NLB", nlb);
    await settle(m);
    const nodeGroup = await nodeGroupOf(c.vpc.instanceIds[0]!);
    assert.equal((await rulesOf(nodeGroup)).length, 1);

    // A group that does not exist: FailedBuildModel naming it, and the NLB keeps its group.
    await annotate(c, "web", { [`${P}security-groups`]: "sg-0123456789abcdef0" });
    await waitFor("FailedBuildModel event", async () =>
      (await c.kube.core.listNamespacedEvent({ namespace: NS })).items.some(
        (e) => e.reason === "FailedBuildModel" && e.message?.includes("sg-0123456789abcdef0"),
      )
        ? true
        : undefined,
    );
    assert.deepEqual((await nlb())?.SecurityGroups, first.SecurityGroups, "unchanged");
    const condition = await waitFor("Reconciled=False", async () =>
      (await c.kube.core.readNamespacedService({ name: "web", namespace: NS })).status?.conditions?.find(
        (x) => x.type === "aws-nlb-controller/Reconciled" && x.status === "False",
      ),
    );
    assert.equal(condition.reason, "FailedBuildModel");
    assert.match(condition.message, /sg-0123456789abcdef0/);

    await annotate(c, "web", { [`${P}security-groups`]: "clients" });
    await waitFor("NLB on the given group", async () => {
      const lb = await nlb();
      return lb?.SecurityGroups?.join() === given ? lb : undefined;
    });
    await settle(m);
    assert.equal((await nlb())?.LoadBalancerArn, first.LoadBalancerArn, "same NLB");
    assert.deepEqual(await managedGroups(), [], "the managed group is deleted");
    assert.deepEqual(
      await rulesOf(nodeGroup),
      [],
      "backend rules are not managed by default with given groups",
    );
    assert.deepEqual(await rulesOf(given!), [], "a given group is never changed");

    await annotate(c, "web", { [`${P}manage-backend-security-group-rules`]: "true" });
    const nodePort = await nodePortOf("web");
    await waitFor("backend rule from the given group", async () =>
      (await rulesOf(nodeGroup)).map(shape).join() === `tcp:${nodePort}-${nodePort}<-${given}`
        ? true
        : undefined,
    );
  });

  it("picks the node group tagged for the cluster and adds rules for a new node group without a stack reconcile", async () => {
    await c.kube.core.createNamespacedService({
      namespace: NS,
      body: nlbService("web", { spec: { externalTrafficPolicy: "Local" } }),
    });
    const m = await c.startController();
    await waitFor("NLB", nlb);
    await settle(m);
    const [frontend] = await managedGroups();
    const svc = await c.kube.core.readNamespacedService({ name: "web", namespace: NS });
    const nodePort = svc.spec!.ports![0]!.nodePort!;
    const health = svc.spec!.healthCheckNodePort!;

    // A new node group: its instances carry two groups, one of them tagged for this cluster.
    const group = async (name: string, tags: Record<string, string>) =>
      (
        await c.ec2.send(
          new CreateSecurityGroupCommand({
            GroupName: name,
            Description: name,
            VpcId: c.vpc.vpcId,
            ...(Object.keys(tags).length > 0
              ? {
                  TagSpecifications: [
                    {
                      ResourceType: "security-group" as const,
                      Tags: Object.entries(tags).map(([Key, Value]) => ({ Key, Value })),
                    },
                  ],
                }
              : {}),
          }),
        )
      ).GroupId!;
    const tagged = await group("nodes-b", { [`kubernetes.io/cluster/${c.clusterName}`]: "owned" });
    const other = await group("ssh", {});
    const instance = await runInstance([tagged, other]);
    c.proxy.resetCalls();
    await addReadyNode("node-b", instance.InstanceId!);
    await waitFor("rules on the tagged group", async () => {
      const got = (await rulesOf(tagged)).map(shape).sort();
      const [low, high] = [Math.min(nodePort, health), Math.max(nodePort, health)];
      // Adjacent ports share one rule.
      const want =
        high === low + 1
          ? [`tcp:${low}-${high}<-${frontend!.GroupId}`]
          : [`tcp:${low}-${low}<-${frontend!.GroupId}`, `tcp:${high}-${high}<-${frontend!.GroupId}`].sort();
      return got.join() === want.join() ? got : undefined;
    });
    await settle(m);
    assert.deepEqual(await rulesOf(other), [], "the untagged group is left alone");
    const ops = c.proxy.calls.map((x) => x.operation);
    assert.ok(!ops.includes("DescribeLoadBalancers"), `the target loop did it: ${ops.join()}`);
    assert.ok(ops.indexOf("AuthorizeSecurityGroupIngress") < ops.indexOf("RegisterTargets"), ops.join());
  });

  it("a backend rule AWS refuses never holds up registering the new target", async () => {
    await c.kube.core.createNamespacedService({ namespace: NS, body: nlbService("web") });
    const m = await c.startController();
    await waitFor("NLB", nlb);
    await settle(m);
    // A new node on a group whose rules are full.
    const { GroupId: full } = await c.ec2.send(
      new CreateSecurityGroupCommand({ GroupName: "full", Description: "full", VpcId: c.vpc.vpcId }),
    );
    const instance = await runInstance([full!]);
    c.proxy.setFaults([
      {
        match: { operation: "AuthorizeSecurityGroupIngress" },
        errorRate: 1,
        errorCode: "RulesPerSecurityGroupLimitExceeded",
      },
    ]);
    await addReadyNode("node-full", instance.InstanceId!);
    const event = await waitFor("FailedBackendSecurityGroupRules", async () =>
      (await c.kube.core.listNamespacedEvent({ namespace: NS })).items.find(
        (e) => e.reason === "FailedBackendSecurityGroupRules",
      ),
    );
    assert.match(event.message ?? "", /raise the EC2 quota/);
    const tg = (await ownedByCluster(c.elbv2, c.clusterName)).targetGroups[0]!;
    await waitFor("the new node registered anyway", async () => {
      const health = await c.elbv2.send(new DescribeTargetHealthCommand({ TargetGroupArn: tg.arn }));
      return health.TargetHealthDescriptions?.some((d) => d.Target?.Id === instance.InstanceId)
        ? true
        : undefined;
    });
    c.proxy.setFaults([]);
  });

  it("ip targets: the pods' network interfaces get the rule on the target port", async () => {
    const subnet = c.vpc.subnets[0]!;
    const { GroupId: podGroup } = await c.ec2.send(
      new CreateSecurityGroupCommand({ GroupName: "pods", Description: "pods", VpcId: c.vpc.vpcId }),
    );
    const addresses: string[] = [];
    for (const last of [101, 102]) {
      const address = subnet.cidr.replace(/\.0\/\d+$/, `.${last}`);
      await c.ec2.send(
        new CreateNetworkInterfaceCommand({
          SubnetId: subnet.subnetId,
          PrivateIpAddress: address,
          Groups: [podGroup!],
        }),
      );
      addresses.push(address);
    }
    await c.kube.core.createNamespacedService({
      namespace: NS,
      body: nlbService("api", { annotations: { [`${P}nlb-target-type`]: "ip" } }),
    });
    await setEndpoints(c, NS, "api", addresses);
    const m = await c.startController();
    await waitFor("NLB", nlb);
    await settle(m);
    const [frontend] = await managedGroups();
    assert.deepEqual((await rulesOf(podGroup!)).map(shape), [`tcp:8080-8080<-${frontend!.GroupId}`]);

    // An address no interface holds, of a pod on a node that is no EC2 instance (an EKS hybrid node
    // has no providerID): a Warning, and the rest still works.
    await c.kube.core.createNode({ body: { metadata: { name: "hybrid-1" } } });
    const stray = { address: "10.99.0.7", node: "hybrid-1" };
    await setEndpoints(c, NS, "api", [...addresses, stray]);
    await waitFor("BackendSecurityGroupUnresolved event", async () =>
      (await reasons()).includes("BackendSecurityGroupUnresolved") ? true : undefined,
    );

    // Only unresolvable targets left, and a full reconcile: the rule in place is kept, not revoked,
    // since a target whose interface cannot be looked up may still be behind it.
    await setEndpoints(c, NS, "api", [stray]);
    await annotate(c, "api", { [`${P}additional-resource-tags`]: "team=payments" });
    await waitFor("tag applied", async () =>
      (await ownedByCluster(c.elbv2, c.clusterName)).loadBalancers[0]?.tags.team === "payments"
        ? true
        : undefined,
    );
    await settle(m);
    assert.deepEqual((await rulesOf(podGroup!)).map(shape), [`tcp:8080-8080<-${frontend!.GroupId}`]);
  });

  it("ip targets on a prefix-delegated address fall back to their node's group", async () => {
    await c.kube.core.createNamespacedService({
      namespace: NS,
      body: nlbService("api", { annotations: { [`${P}nlb-target-type`]: "ip" } }),
    });
    // 10.0.0.200 is on no interface AWS lists by address (it stands for an IP inside a delegated
    // /28 prefix); the endpoint says which node runs the pod.
    await c.kube.discovery.createNamespacedEndpointSlice({
      namespace: NS,
      body: {
        metadata: { name: "api-x", labels: { "kubernetes.io/service-name": "api" } },
        addressType: "IPv4",
        endpoints: [
          { addresses: ["10.0.0.200"], conditions: { ready: true }, nodeName: "ip-10-0-0-10.ec2.internal" },
        ],
        ports: [{ name: "http", port: 8080, protocol: "TCP" }],
      },
    });
    const m = await c.startController();
    await waitFor("NLB", nlb);
    await settle(m);
    const [frontend] = await managedGroups();
    assert.deepEqual((await rulesOf(c.vpc.nodeSecurityGroupId)).map(shape), [
      `tcp:8080-8080<-${frontend!.GroupId}`,
    ]);
    assert.ok(!(await reasons()).includes("BackendSecurityGroupUnresolved"));
  });

  it("two Services sharing a given group share one rule; deleting one hands it to the other", async () => {
    const subnet = c.vpc.subnets[0]!;
    const group = async (name: string) =>
      (
        await c.ec2.send(
          new CreateSecurityGroupCommand({ GroupName: name, Description: name, VpcId: c.vpc.vpcId }),
        )
      ).GroupId!;
    const shared = await group("shared-clients");
    const pods = await group("pods");
    const address = subnet.cidr.replace(/\.0\/\d+$/, ".120");
    await c.ec2.send(
      new CreateNetworkInterfaceCommand({
        SubnetId: subnet.subnetId,
        PrivateIpAddress: address,
        Groups: [pods],
      }),
    );
    const annotations = {
      [`${P}nlb-target-type`]: "ip",
      [`${P}security-groups`]: "shared-clients",
      [`${P}manage-backend-security-group-rules`]: "true",
    };
    for (const name of ["one", "two"]) {
      await c.kube.core.createNamespacedService({ namespace: NS, body: nlbService(name, { annotations }) });
      await setEndpoints(c, NS, name, [address]);
    }
    const m = await c.startController();
    const rule = await waitFor("one rule for both", async () => {
      const rules = await rulesOf(pods);
      return rules.length === 1 && shape(rules[0]!) === `tcp:8080-8080<-${shared}` ? rules[0] : undefined;
    });
    await settle(m);
    assert.equal((await rulesOf(pods)).length, 1);
    const owner = rule.Tags?.find((t) => t.Key === "service.k8s.aws/stack")?.Value;
    const other = owner === "default/one" ? "two" : "one";
    await c.kube.core.deleteNamespacedService({ name: owner!.slice("default/".length), namespace: NS });
    await waitFor("the other Service owns the rule", async () => {
      const rules = await rulesOf(pods);
      const stack = rules[0]?.Tags?.find((t) => t.Key === "service.k8s.aws/stack")?.Value;
      return rules.length === 1 && stack === `default/${other}` ? true : undefined;
    });
    await c.kube.core.deleteNamespacedService({ name: other, namespace: NS });
    await waitFor("rule revoked with the last Service", async () =>
      (await rulesOf(pods)).length === 0 ? true : undefined,
    );
  });

  it("a group AWS still holds in use is retried, the finalizer kept until it is gone", async () => {
    await c.kube.core.createNamespacedService({ namespace: NS, body: nlbService("web") });
    const m = await c.startController();
    await waitFor("NLB", nlb);
    await settle(m);
    // As AWS answers while the deleted NLB's interfaces still hold the group.
    c.proxy.setFaults([
      { match: { operation: "DeleteSecurityGroup" }, errorRate: 1, errorCode: "DependencyViolation" },
    ]);
    await c.kube.core.deleteNamespacedService({ name: "web", namespace: NS });
    await waitFor("SecurityGroupDeletionPending event", async () =>
      (await reasons()).includes("SecurityGroupDeletionPending") ? true : undefined,
    );
    const svc = await c.kube.core.readNamespacedService({ name: "web", namespace: NS });
    assert.ok(svc.metadata?.finalizers?.includes("service.k8s.aws/resources"), "the finalizer stays");
    assert.equal((await managedGroups()).length, 1);

    c.proxy.setFaults([]);
    await waitFor(
      "Service gone",
      async () => {
        try {
          await c.kube.core.readNamespacedService({ name: "web", namespace: NS });
          return undefined;
        } catch {
          return true;
        }
      },
      60_000,
    );
    assert.deepEqual(await managedGroups(), []);
    assert.deepEqual(await rulesOf(c.vpc.nodeSecurityGroupId), []);
  });

  it("inbound-sg-rules-on-private-link-traffic off is set right after the NLB is created", async () => {
    await c.kube.core.createNamespacedService({
      namespace: NS,
      body: nlbService("web", { annotations: { [`${P}inbound-sg-rules-on-private-link-traffic`]: "off" } }),
    });
    c.proxy.resetCalls();
    const m = await c.startController();
    const lb = await waitFor("NLB", nlb);
    await settle(m);
    const ops = c.proxy.calls.filter((x) => isMutatingCall(x.operation)).map((x) => x.operation);
    assert.ok(ops.indexOf("CreateLoadBalancer") < ops.indexOf("SetSecurityGroups"), ops.join());
    const set = c.proxy.calls.find((x) => x.operation === "SetSecurityGroups")!;
    assert.equal(set.params?.EnforceSecurityGroupInboundRulesOnPrivateLinkTraffic, "off");
    assert.equal(set.params?.LoadBalancerArn, lb.LoadBalancerArn);
    assert.equal(set.params?.["SecurityGroups.member.1"], lb.SecurityGroups?.[0]);
  });

  it("adopts the frontend group the AWS Load Balancer Controller made for the Service", async () => {
    // LBC v2.6+ gives an NLB a frontend group with the same tags under its own name.
    const tags = {
      "elbv2.k8s.aws/cluster": c.clusterName,
      "service.k8s.aws/stack": "default/web",
      "service.k8s.aws/resource": "ManagedLBSecurityGroup",
    };
    const { GroupId: lbcGroup } = await c.ec2.send(
      new CreateSecurityGroupCommand({
        GroupName: "k8s-default-web-lbcmade01",
        Description: "[k8s] Managed SecurityGroup for LoadBalancer",
        VpcId: c.vpc.vpcId,
        TagSpecifications: [
          {
            ResourceType: "security-group",
            Tags: Object.entries(tags).map(([Key, Value]) => ({ Key, Value })),
          },
        ],
      }),
    );
    await c.ec2.send(
      new AuthorizeSecurityGroupIngressCommand({
        GroupId: lbcGroup,
        IpPermissions: [{ IpProtocol: "tcp", FromPort: 80, ToPort: 80, IpRanges: [{ CidrIp: "0.0.0.0/0" }] }],
      }),
    );
    // And its shared backend group, which the nodes' group lets in.
    const { GroupId: lbcBackend } = await c.ec2.send(
      new CreateSecurityGroupCommand({
        GroupName: `k8s-traffic-${c.clusterName}`.slice(0, 60),
        Description: "[k8s] Shared Backend SecurityGroup for LoadBalancer",
        VpcId: c.vpc.vpcId,
        TagSpecifications: [
          {
            ResourceType: "security-group",
            Tags: [
              { Key: "elbv2.k8s.aws/cluster", Value: c.clusterName },
              { Key: "elbv2.k8s.aws/resource", Value: "backend-sg" },
            ],
          },
        ],
      }),
    );
    await c.ec2.send(
      new AuthorizeSecurityGroupIngressCommand({
        GroupId: c.vpc.nodeSecurityGroupId,
        IpPermissions: [
          { IpProtocol: "tcp", FromPort: 30000, ToPort: 32767, UserIdGroupPairs: [{ GroupId: lbcBackend! }] },
        ],
      }),
    );
    await c.kube.core.createNamespacedService({ namespace: NS, body: nlbService("web") });
    const { generatedLoadBalancerName } = await import("../../../src/model/naming.ts");
    const lbTags = { ...tags, "service.k8s.aws/resource": "LoadBalancer" };
    await c.elbv2.send(
      new CreateLoadBalancerCommand({
        Name: generatedLoadBalancerName(
          c.clusterName,
          { metadata: { name: "web", namespace: NS }, spec: {} },
          "internal",
        ),
        Type: "network",
        Scheme: "internal",
        Subnets: c.vpc.subnetIds,
        SecurityGroups: [lbcGroup!, lbcBackend!],
        Tags: Object.entries(lbTags).map(([Key, Value]) => ({ Key, Value })),
      }),
    );
    c.proxy.resetCalls();
    const m = await c.startController();
    await waitFor(
      "hostname",
      async () =>
        (await c.kube.core.readNamespacedService({ name: "web", namespace: NS })).status?.loadBalancer
          ?.ingress?.[0]?.hostname,
    );
    await settle(m);
    const ops = c.proxy.calls.filter((x) => isMutatingCall(x.operation)).map((x) => x.operation);
    assert.ok(!ops.includes("CreateSecurityGroup"), ops.join());
    assert.ok(!ops.includes("DeleteSecurityGroup"), ops.join());
    // The nodes' group lets the frontend group in before the NLB drops LBC's backend group.
    assert.ok(ops.indexOf("AuthorizeSecurityGroupIngress") < ops.indexOf("SetSecurityGroups"), ops.join());
    assert.deepEqual((await nlb())?.SecurityGroups, [lbcGroup]);
    // The listener rule LBC made (untagged) is left as it is; the node group gets the backend rule,
    // and LBC's own rule and group stay: they are not this controller's.
    assert.deepEqual((await rulesOf(lbcGroup!)).map(shape), ["tcp:80-80<-0.0.0.0/0"]);
    const nodePort = await nodePortOf("web");
    assert.deepEqual(
      (await rulesOf(c.vpc.nodeSecurityGroupId)).map(shape).sort(),
      [`tcp:${nodePort}-${nodePort}<-${lbcGroup}`, `tcp:30000-32767<-${lbcBackend}`].sort(),
    );
  });

  it("leaves an NLB made without security groups as it is, and says why", async () => {
    // An NLB of this Service made before security groups existed (by LBC or an older controller).
    const svc = await c.kube.core.createNamespacedService({ namespace: NS, body: nlbService("web") });
    const { generatedLoadBalancerName } = await import("../../../src/model/naming.ts");
    const name = generatedLoadBalancerName(
      c.clusterName,
      { metadata: { name: "web", namespace: NS }, spec: {} },
      "internal",
    );
    assert.ok(svc.metadata?.name);
    const tags = {
      "elbv2.k8s.aws/cluster": c.clusterName,
      "service.k8s.aws/stack": "default/web",
      "service.k8s.aws/resource": "LoadBalancer",
    };
    const made = await c.elbv2.send(
      new CreateLoadBalancerCommand({
        Name: name,
        Type: "network",
        Scheme: "internal",
        Subnets: c.vpc.subnetIds,
        Tags: Object.entries(tags).map(([Key, Value]) => ({ Key, Value })),
      }),
    );
    const m = await c.startController();
    await waitFor("SecurityGroupsUnavailable event", async () =>
      (await reasons()).includes("SecurityGroupsUnavailable") ? true : undefined,
    );
    await settle(m);
    const lb = await nlb();
    assert.equal(lb?.LoadBalancerArn, made.LoadBalancers![0]!.LoadBalancerArn, "adopted, not replaced");
    assert.deepEqual(lb?.SecurityGroups ?? [], []);
    assert.deepEqual(await managedGroups(), [], "no group made that nothing could use");
    assert.ok(!c.proxy.calls.some((x) => /SecurityGroup/.test(x.operation) && isMutatingCall(x.operation)));

    // A restart trusts the applied stack (applied without groups) and describes nothing again.
    c.proxy.resetCalls();
    await c.startController();
    await settle(c.controller());
    const ops = new Set(c.proxy.calls.map((x) => x.operation));
    assert.ok(!ops.has("DescribeListeners"), `fast path on restart: ${[...ops].join()}`);
    assert.ok(![...ops].some((op) => isMutatingCall(op)), [...ops].join());
  });
});
