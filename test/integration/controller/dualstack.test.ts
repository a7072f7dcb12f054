import assert from "node:assert/strict";
import { beforeEach, describe, it } from "node:test";
import { DescribeSecurityGroupRulesCommand } from "@aws-sdk/client-ec2";
import { DescribeLoadBalancersCommand } from "@aws-sdk/client-elastic-load-balancing-v2";
import { awsTestEnv } from "../../support/aws.ts";
import {
  annotate,
  nlbService,
  ownedByCluster,
  type TestCluster,
  useTestCluster,
  waitFor,
} from "../../support/cluster.ts";

awsTestEnv();
const NS = "default";
const KEY = "service.beta.kubernetes.io/aws-load-balancer-ip-address-type";

describe("ip-address-type", () => {
  const cluster = useTestCluster();
  let c: TestCluster;
  beforeEach(() => {
    c = cluster();
  });

  const typeOf = async () => {
    const lb = (await ownedByCluster(c.elbv2, c.clusterName)).loadBalancers[0];
    if (!lb) return undefined;
    const out = await c.elbv2.send(new DescribeLoadBalancersCommand({ LoadBalancerArns: [lb.arn] }));
    return { arn: lb.arn, type: out.LoadBalancers?.[0]?.IpAddressType };
  };

  it("creates a dualstack NLB and switches it back to ipv4 in place", async () => {
    await c.kube.core.createNamespacedService({
      namespace: NS,
      body: nlbService("web", { annotations: { [KEY]: "dualstack" } }),
    });
    await c.startController();
    const first = await waitFor("dualstack NLB", async () => {
      const t = await typeOf();
      return t?.type === "dualstack" ? t : undefined;
    });
    // The managed group lets IPv6 clients in too.
    const groupId = (await c.elbv2.send(new DescribeLoadBalancersCommand({ LoadBalancerArns: [first.arn] })))
      .LoadBalancers?.[0]?.SecurityGroups?.[0];
    assert.ok(groupId);
    const rules = (
      await c.ec2.send(
        new DescribeSecurityGroupRulesCommand({ Filters: [{ Name: "group-id", Values: [groupId] }] }),
      )
    ).SecurityGroupRules?.filter((r) => !r.IsEgress);
    assert.deepEqual(rules?.map((r) => r.CidrIpv4 ?? r.CidrIpv6).sort(), ["0.0.0.0/0", "::/0"]);

    c.proxy.resetCalls();
    await annotate(c, "web", { [KEY]: "ipv4" });
    const second = await waitFor("ipv4 NLB", async () => {
      const t = await typeOf();
      return t?.type === "ipv4" ? t : undefined;
    });
    assert.equal(second.arn, first.arn, "SetIpAddressType in place, no replacement");
    assert.ok(c.proxy.calls.some((x) => x.operation === "SetIpAddressType"));
    assert.ok(!c.proxy.calls.some((x) => x.operation === "DeleteLoadBalancer"));
  });
});
