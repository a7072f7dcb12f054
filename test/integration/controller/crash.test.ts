import assert from "node:assert/strict";
import type { ChildProcess } from "node:child_process";
import { afterEach, beforeEach, describe, it } from "node:test";
import { DescribeSecurityGroupsCommand } from "@aws-sdk/client-ec2";
import {
  DescribeListenersCommand,
  DescribeLoadBalancersCommand,
  DescribeTargetGroupsCommand,
} from "@aws-sdk/client-elastic-load-balancing-v2";
import { awsTestEnv } from "../../support/aws.ts";
import {
  isMutatingCall,
  nlbService,
  ownedByCluster,
  setEndpoints,
  spawnController,
  startTestCluster,
  type TestCluster,
  waitFor,
} from "../../support/cluster.ts";

awsTestEnv();
const NS = "default";

describe("a controller killed at any instant converges on restart", () => {
  let c: TestCluster;
  let children: ChildProcess[] = [];
  beforeEach(async () => {
    c = await startTestCluster();
  });
  afterEach(async () => {
    for (const child of children) child.kill("SIGKILL");
    children = [];
    await c.close();
  });

  function runController(): ChildProcess {
    const child = spawnController(c, { "target-batch-window": "50ms" });
    children.push(child);
    return child;
  }

  for (const killAt of [1, 2, 3, 4, 5, 6, 7, 8]) {
    it(`SIGKILL after ${killAt} mutating call(s): no duplicates, no leaks, full convergence`, async () => {
      await c.kube.core.createNamespacedService({
        namespace: NS,
        body: nlbService("api", {
          annotations: { "service.beta.kubernetes.io/aws-load-balancer-nlb-target-type": "ip" },
          spec: {
            ports: [
              { name: "http", port: 80, targetPort: 8080, protocol: "TCP" },
              { name: "dns", port: 53, targetPort: 5353, protocol: "UDP" },
            ],
          },
        }),
      });
      await setEndpoints(c, NS, "api", ["10.0.0.7", "10.0.0.8"]);
      c.proxy.resetCalls();
      const first = runController();
      await waitFor(
        `${killAt} mutating calls`,
        () => c.proxy.calls.filter((x) => isMutatingCall(x.operation)).length >= killAt,
        30_000,
      );
      first.kill("SIGKILL");
      await new Promise((r) => first.once("exit", r));

      const second = runController();
      const svc = await waitFor("status hostname", async () => {
        const s = await c.kube.core.readNamespacedService({ name: "api", namespace: NS });
        return s.status?.loadBalancer?.ingress?.[0]?.hostname ? s : undefined;
      });
      const owned = await waitFor("converged stack", async () => {
        const o = await ownedByCluster(c.elbv2, c.clusterName);
        return o.loadBalancers.length === 1 && o.targetGroups.length === 2 ? o : undefined;
      });
      const lb = owned.loadBalancers[0]!;
      await waitFor("two listeners", async () => {
        const ls =
          (await c.elbv2.send(new DescribeListenersCommand({ LoadBalancerArn: lb.arn }))).Listeners ?? [];
        return ls.length === 2;
      });
      second.kill("SIGTERM");
      await new Promise((r) => second.once("exit", r));

      assert.equal(svc.status?.loadBalancer?.ingress?.[0]?.hostname, lb.dnsName?.toLowerCase());
      assert.ok(svc.metadata?.finalizers?.includes("service.k8s.aws/resources"));
      // Nothing in the account lacks the ownership tags: no leak from the killed run.
      const all = {
        lbs: (await c.elbv2.send(new DescribeLoadBalancersCommand({}))).LoadBalancers ?? [],
        tgs: (await c.elbv2.send(new DescribeTargetGroupsCommand({}))).TargetGroups ?? [],
      };
      assert.equal(all.lbs.length, 1, "exactly one NLB in the account");
      assert.equal(all.tgs.length, 2, "exactly two target groups in the account");
      for (const tg of owned.targetGroups) assert.equal(tg.tags["service.k8s.aws/stack"], "default/api");
      const groups = (await c.ec2.send(new DescribeSecurityGroupsCommand({}))).SecurityGroups ?? [];
      const managed = groups.filter((g) => g.GroupName?.startsWith("k8s-"));
      assert.equal(managed.length, 1, "exactly one managed security group in the account");
      assert.deepEqual(
        (await c.elbv2.send(new DescribeLoadBalancersCommand({ LoadBalancerArns: [lb.arn] })))
          .LoadBalancers?.[0]?.SecurityGroups,
        [managed[0]!.GroupId],
        "the NLB has it",
      );
    });
  }
});
