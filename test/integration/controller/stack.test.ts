import assert from "node:assert/strict";
import { beforeEach, describe, it } from "node:test";
import {
  CreateLoadBalancerCommand,
  CreateTargetGroupCommand,
  DescribeListenersCommand,
  DescribeLoadBalancersCommand,
  DescribeTargetGroupsCommand,
  DescribeTargetHealthCommand,
  ModifyTargetGroupCommand,
} from "@aws-sdk/client-elastic-load-balancing-v2";
import { mergePatch } from "../../../src/kube/client.ts";
import { build } from "../../../src/model/build.ts";
import type { EndpointSlice, Node, Service } from "../../../src/model/types.ts";
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

describe("stack loop", () => {
  const cluster = useTestCluster();
  let c: TestCluster;
  beforeEach(() => {
    c = cluster();
  });

  const hostnameOf = (name: string) =>
    waitFor(`status hostname of ${name}`, async () => {
      const svc = await c.kube.core.readNamespacedService({ name, namespace: NS });
      return svc.status?.loadBalancer?.ingress?.[0]?.hostname;
    });

  it("converges an instance Service and an ip Service to what plan() says", async () => {
    await c.kube.core.createNamespacedService({
      namespace: NS,
      body: nlbService("web", { spec: { externalTrafficPolicy: "Local" } }),
    });
    await c.kube.core.createNamespacedService({
      namespace: NS,
      body: nlbService("api", {
        annotations: { "service.beta.kubernetes.io/aws-load-balancer-nlb-target-type": "ip" },
      }),
    });
    await setEndpoints(c, NS, "api", ["10.0.0.5", "10.0.0.6"]);
    const m = await c.startController();
    const webHost = await hostnameOf("web");
    await hostnameOf("api");
    await settle(m);

    for (const name of ["web", "api"]) {
      const svc = (await c.kube.core.readNamespacedService({ name, namespace: NS })) as unknown as Service;
      assert.ok(svc.metadata.finalizers?.includes("service.k8s.aws/resources"), `${name} has the finalizer`);
      const slices = (await c.kube.discovery.listNamespacedEndpointSlice({ namespace: NS }))
        .items as unknown as EndpointSlice[];
      const nodes = (await c.kube.core.listNode()).items as unknown as Node[];
      const desired = build(
        svc,
        slices.filter((s) => s.metadata.labels?.["kubernetes.io/service-name"] === name),
        nodes,
        {
          clusterName: c.clusterName,
          loadBalancerClass: "service.k8s.aws/nlb",
          defaultTargetType: "instance",
          defaultScheme: "internal",
        },
      );
      assert.ok(desired.ok);
      const lb = (
        await c.elbv2.send(new DescribeLoadBalancersCommand({ Names: [desired.stack.loadBalancer.name] }))
      ).LoadBalancers?.[0];
      assert.ok(lb, `NLB ${desired.stack.loadBalancer.name} exists`);
      assert.equal(lb.Scheme, "internal");
      assert.equal(lb.Type, "network");
      assert.equal(svc.status?.loadBalancer?.ingress?.[0]?.hostname, lb.DNSName?.toLowerCase());
      const tgs =
        (await c.elbv2.send(new DescribeTargetGroupsCommand({ LoadBalancerArn: lb.LoadBalancerArn })))
          .TargetGroups ?? [];
      assert.equal(tgs.length, desired.stack.targetGroups.length);
      for (const want of desired.stack.targetGroups) {
        const tg = tgs.find((t) => t.TargetGroupName === want.name);
        assert.ok(tg, `target group ${want.name}`);
        assert.equal(tg.Protocol, want.protocol);
        assert.equal(tg.Port, want.port);
        assert.equal(tg.TargetType, want.targetType);
        assert.equal(tg.HealthCheckProtocol, want.healthCheck.protocol);
        assert.equal(tg.HealthCheckPort, String(want.healthCheck.port));
        const health =
          (await c.elbv2.send(new DescribeTargetHealthCommand({ TargetGroupArn: tg.TargetGroupArn })))
            .TargetHealthDescriptions ?? [];
        assert.deepEqual(
          health.map((h) => `${h.Target?.Id}:${h.Target?.Port}`).sort(),
          want.targets.map((t) => `${t.id}:${t.port}`).sort(),
        );
      }
      const listeners =
        (await c.elbv2.send(new DescribeListenersCommand({ LoadBalancerArn: lb.LoadBalancerArn })))
          .Listeners ?? [];
      assert.deepEqual(
        listeners.map((l) => `${l.Protocol}:${l.Port}`),
        desired.stack.listeners.map((l) => `${l.protocol}:${l.port}`),
      );
    }
    const web = (await c.kube.core.readNamespacedService({
      name: "web",
      namespace: NS,
    })) as unknown as Service;
    assert.equal(webHost, web.status?.loadBalancer?.ingress?.[0]?.hostname);

    // Steady state: nothing to change costs no AWS call at all.
    c.proxy.resetCalls();
    await new Promise((r) => setTimeout(r, 1000));
    assert.equal(c.proxy.calls.length, 0, "an idle controller makes no AWS calls");
  });

  it("flips externalTrafficPolicy by modifying the health check in place", async () => {
    await c.kube.core.createNamespacedService({ namespace: NS, body: nlbService("web") });
    const m = await c.startController();
    await hostnameOf("web");
    await settle(m);
    const before = (await ownedByCluster(c.elbv2, c.clusterName)).targetGroups;
    assert.equal(before.length, 1);
    let tg = (await c.elbv2.send(new DescribeTargetGroupsCommand({ TargetGroupArns: [before[0]!.arn] })))
      .TargetGroups![0]!;
    assert.equal(tg.HealthCheckProtocol, "TCP");

    c.proxy.resetCalls();
    await c.kube.core.patchNamespacedService(
      { name: "web", namespace: NS, body: { spec: { externalTrafficPolicy: "Local" } } },
      mergePatch,
    );
    const svc = await c.kube.core.readNamespacedService({ name: "web", namespace: NS });
    const hcPort = svc.spec?.healthCheckNodePort;
    assert.ok(hcPort, "the API allocated a healthCheckNodePort");
    tg = await waitFor("HTTP health check", async () => {
      const t = (await c.elbv2.send(new DescribeTargetGroupsCommand({ TargetGroupArns: [before[0]!.arn] })))
        .TargetGroups![0]!;
      return t.HealthCheckProtocol === "HTTP" ? t : undefined;
    });
    assert.equal(tg.HealthCheckPort, String(hcPort));
    assert.equal(tg.HealthCheckPath, "/healthz");
    assert.equal(tg.HealthCheckIntervalSeconds, 10);
    assert.equal(tg.HealthCheckTimeoutSeconds, 6);
    assert.equal(tg.HealthyThresholdCount, 2);
    assert.equal(tg.UnhealthyThresholdCount, 2);
    await settle(m);
    const after = (await ownedByCluster(c.elbv2, c.clusterName)).targetGroups;
    assert.deepEqual(
      after.map((t) => t.arn),
      [before[0]!.arn],
      "same target group ARN",
    );
    const mutations = c.proxy.calls.filter((x) => isMutatingCall(x.operation)).map((x) => x.operation);
    assert.deepEqual(
      mutations,
      ["AuthorizeSecurityGroupIngress", "ModifyTargetGroup"],
      "the nodes' security group opens the new health-check port first, then the health check changes; no target churn",
    );
  });

  it("modifies attributes in place on an annotation change, and replaces the NLB on a scheme change with an event", async () => {
    await c.kube.core.createNamespacedService({ namespace: NS, body: nlbService("web") });
    const m = await c.startController();
    await hostnameOf("web");
    await settle(m);
    const first = await ownedByCluster(c.elbv2, c.clusterName);

    c.proxy.resetCalls();
    await annotate(c, "web", {
      "service.beta.kubernetes.io/aws-load-balancer-target-group-attributes":
        "deregistration_delay.timeout_seconds=30",
    });
    await waitFor("attribute modified", () =>
      c.proxy.calls.some((x) => x.operation === "ModifyTargetGroupAttributes"),
    );
    await settle(m);
    const mid = await ownedByCluster(c.elbv2, c.clusterName);
    assert.deepEqual(
      mid.loadBalancers.map((l) => l.arn),
      first.loadBalancers.map((l) => l.arn),
    );
    assert.deepEqual(
      mid.targetGroups.map((t) => t.arn),
      first.targetGroups.map((t) => t.arn),
    );
    assert.deepEqual(
      c.proxy.calls.filter((x) => isMutatingCall(x.operation)).map((x) => x.operation),
      ["ModifyTargetGroupAttributes"],
    );

    await annotate(c, "web", { "service.beta.kubernetes.io/aws-load-balancer-scheme": "internet-facing" });
    // internet-facing needs subnets tagged kubernetes.io/role/elb: with none, it fails and says so, NLB untouched.
    const events = await waitFor("ReplacementRequired or failure event", async () => {
      const ev = (await c.kube.core.listNamespacedEvent({ namespace: NS })).items;
      return ev.some((e) => e.reason === "FailedBuildModel") ? ev : undefined;
    });
    const failure = events.find((e) => e.reason === "FailedBuildModel");
    assert.match(failure?.message ?? "", /kubernetes\.io\/role\/elb/);
    const still = await ownedByCluster(c.elbv2, c.clusterName);
    assert.deepEqual(
      still.loadBalancers.map((l) => l.arn),
      first.loadBalancers.map((l) => l.arn),
      "the working NLB is kept",
    );

    // Tag the subnets for public NLBs: the replacement goes through.
    const { CreateTagsCommand } = await import("@aws-sdk/client-ec2");
    await c.ec2.send(
      new CreateTagsCommand({
        Resources: c.vpc.subnetIds,
        Tags: [{ Key: "kubernetes.io/role/elb", Value: "1" }],
      }),
    );
    m.stackQueue.add("default/web");
    const replaced = await waitFor(
      "internet-facing NLB",
      async () => {
        const o = await ownedByCluster(c.elbv2, c.clusterName);
        return o.loadBalancers.length === 1 && o.loadBalancers[0]?.scheme === "internet-facing"
          ? o
          : undefined;
      },
      60_000,
    );
    assert.notEqual(replaced.loadBalancers[0]?.arn, first.loadBalancers[0]?.arn);
    const ev = (await c.kube.core.listNamespacedEvent({ namespace: NS })).items;
    const replacement = ev.find((e) => e.reason === "ReplacementRequired");
    assert.ok(replacement, "a ReplacementRequired event");
    assert.equal(replacement.type, "Warning");
    assert.match(replacement.message ?? "", /scheme/);
    const host = await waitFor("new hostname", async () => {
      const svc = await c.kube.core.readNamespacedService({ name: "web", namespace: NS });
      const h = svc.status?.loadBalancer?.ingress?.[0]?.hostname;
      return h === replaced.loadBalancers[0]?.dnsName?.toLowerCase() ? h : undefined;
    });
    assert.ok(host);
  });

  it("deletes every tagged resource when the Service goes, then the finalizer", async () => {
    await c.kube.core.createNamespacedService({
      namespace: NS,
      body: nlbService("web", {
        spec: {
          ports: [
            { name: "a", port: 80, protocol: "TCP" },
            { name: "b", port: 443, protocol: "TCP" },
          ],
        },
      }),
    });
    const m = await c.startController();
    await hostnameOf("web");
    await settle(m);
    const made = await ownedByCluster(c.elbv2, c.clusterName);
    assert.equal(made.loadBalancers.length, 1);
    assert.equal(made.targetGroups.length, 2);
    await c.kube.core.deleteNamespacedService({ name: "web", namespace: NS });
    await waitFor(
      "Service gone",
      async () => {
        try {
          await c.kube.core.readNamespacedService({ name: "web", namespace: NS });
          return false;
        } catch {
          return true;
        }
      },
      90_000,
    );
    const left = await ownedByCluster(c.elbv2, c.clusterName);
    assert.deepEqual(left, { loadBalancers: [], targetGroups: [] });
  });

  it("never touches a foreign NLB or target group, and a restarted controller adopts without creating", async () => {
    const foreignLb = (
      await c.elbv2.send(
        new CreateLoadBalancerCommand({
          Name: "someone-elses",
          Type: "network",
          Scheme: "internal",
          Subnets: c.vpc.subnetIds,
          Tags: [
            { Key: "elbv2.k8s.aws/cluster", Value: "another-cluster" },
            { Key: "service.k8s.aws/stack", Value: "default/web" },
          ],
        }),
      )
    ).LoadBalancers![0]!;
    const foreignTg = (
      await c.elbv2.send(
        new CreateTargetGroupCommand({
          Name: "foreign-tg",
          Protocol: "TCP",
          Port: 80,
          VpcId: c.vpc.vpcId,
          TargetType: "ip",
          Tags: [{ Key: "service.k8s.aws/stack", Value: "default/web" }],
        }),
      )
    ).TargetGroups![0]!;
    await c.kube.core.createNamespacedService({ namespace: NS, body: nlbService("web") });
    let m = await c.startController();
    await hostnameOf("web");
    await settle(m);
    const first = await ownedByCluster(c.elbv2, c.clusterName);

    c.proxy.resetCalls();
    m = await c.startController();
    await settle(m);
    const creates = c.proxy.calls.filter((x) => /^Create|^Register|^Delete|^Modify/.test(x.operation));
    assert.deepEqual(creates, [], "a restart adopts: nothing created, modified or deleted");
    const ops = new Set(c.proxy.calls.map((x) => x.operation));
    assert.ok(!ops.has("DescribeListeners"), "an unchanged stack is not described again on restart");
    assert.ok(ops.has("DescribeTargetHealth"), "its targets are checked");
    assert.deepEqual(await ownedByCluster(c.elbv2, c.clusterName), first);

    await c.kube.core.deleteNamespacedService({ name: "web", namespace: NS });
    await waitFor(
      "stack deleted",
      async () => (await ownedByCluster(c.elbv2, c.clusterName)).loadBalancers.length === 0,
      60_000,
    );
    await settle(m);
    const lbs = (
      await c.elbv2.send(new DescribeLoadBalancersCommand({ LoadBalancerArns: [foreignLb.LoadBalancerArn!] }))
    ).LoadBalancers;
    assert.equal(lbs?.length, 1, "the foreign NLB is still there");
    const tgs = (
      await c.elbv2.send(new DescribeTargetGroupsCommand({ TargetGroupArns: [foreignTg.TargetGroupArn!] }))
    ).TargetGroups;
    assert.equal(tgs?.length, 1, "the foreign target group is still there");
    // Reading the foreign resources' tags is how ownership is decided; no write may name them.
    for (const call of c.proxy.calls.filter((x) => isMutatingCall(x.operation))) {
      const body = JSON.stringify(call);
      assert.ok(!body.includes("someone-elses"), `no write names the foreign NLB: ${call.operation}`);
      assert.ok(
        !body.includes(foreignTg.TargetGroupArn!),
        `no write names the foreign target group: ${call.operation}`,
      );
    }
  });

  it("repairs drift made by hand in AWS at the sync period", async () => {
    await c.kube.core.createNamespacedService({ namespace: NS, body: nlbService("web") });
    const m = await c.startController();
    await hostnameOf("web");
    await settle(m);
    const tg = (await ownedByCluster(c.elbv2, c.clusterName)).targetGroups[0]!;
    await c.elbv2.send(
      new ModifyTargetGroupCommand({ TargetGroupArn: tg.arn, HealthCheckIntervalSeconds: 30 }),
    );
    await m.resync();
    await waitFor("health check repaired", async () => {
      const t = (await c.elbv2.send(new DescribeTargetGroupsCommand({ TargetGroupArns: [tg.arn] })))
        .TargetGroups![0]!;
      return t.HealthCheckIntervalSeconds === 10;
    });
  });

  it("releases a Service that stops being selected: stack deleted, status cleared, finalizer removed", async () => {
    await c.kube.core.createNamespacedService({ namespace: NS, body: nlbService("web") });
    const m = await c.startController();
    await hostnameOf("web");
    await settle(m);
    await annotate(c, "web", { "service.beta.kubernetes.io/aws-load-balancer-type": "nlb" });
    const svc = await waitFor("finalizer removed", async () => {
      const s = await c.kube.core.readNamespacedService({ name: "web", namespace: NS });
      return s.metadata?.finalizers?.includes("service.k8s.aws/resources") ? undefined : s;
    });
    assert.equal(svc.status?.loadBalancer?.ingress?.length ?? 0, 0, "status cleared");
    assert.ok(
      !svc.status?.conditions?.some((x) => x.type === "aws-nlb-controller/Reconciled"),
      "condition removed",
    );
    assert.deepEqual(await ownedByCluster(c.elbv2, c.clusterName), { loadBalancers: [], targetGroups: [] });
  });
});
