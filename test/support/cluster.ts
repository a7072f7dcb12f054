/**
 * One controller under test: a Kubernetes API (the emulator, or a real cluster via KUBECONFIG), an AWS
 * endpoint behind the fault proxy (which records every call), a seeded VPC with worker Nodes, and the
 * Manager itself with a short batch window.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach } from "node:test";
import type { EC2Client } from "@aws-sdk/client-ec2";
import {
  DescribeLoadBalancersCommand,
  DescribeTagsCommand,
  DescribeTargetGroupsCommand,
  type ElasticLoadBalancingV2Client,
} from "@aws-sdk/client-elastic-load-balancing-v2";
import type { V1Service } from "@kubernetes/client-node";
import { resolveConfig } from "../../src/config.ts";
import { Manager } from "../../src/controller/manager.ts";
import { type KubeApis, loadKubeConfig, makeKubeApis, mergePatch } from "../../src/kube/client.ts";
import { makeLogger } from "../../src/observability/logger.ts";
import { type ApiServer, startApiServer } from "../../src/sandbox/apiserver/index.ts";
import { createNodes } from "../../src/sandbox/demo.ts";
import { ec2Client, elbv2Client, resetAws, type SeededVpc, seedVpc } from "./aws.ts";
import { type FaultProxy, startFaultProxy } from "./fault-proxy.ts";

export interface TestCluster {
  /** The emulator; undefined when the suite runs against a real cluster (KUBECONFIG). */
  api: ApiServer | undefined;
  kube: KubeApis;
  kubeconfig: string;
  proxy: FaultProxy;
  elbv2: ElasticLoadBalancingV2Client;
  ec2: EC2Client;
  vpc: SeededVpc;
  clusterName: string;
  /** Starts (or restarts) a controller; the previous one, if any, is stopped first. */
  startController(flags?: Record<string, string | boolean>): Promise<Manager>;
  controller(): Manager;
  close(): Promise<void>;
}

let counter = 0;

export async function startTestCluster(opts: { nodes?: number } = {}): Promise<TestCluster> {
  await resetAws();
  const clusterName = `it-${process.pid}-${++counter}`;
  const dir = mkdtempSync(join(tmpdir(), "nlb-it-"));
  const api = process.env.KUBECONFIG ? undefined : await startApiServer({ host: "127.0.0.1", port: 0 });
  const kubeconfig = process.env.KUBECONFIG ?? join(dir, "kubeconfig");
  await api?.writeKubeconfig(kubeconfig);
  const kube = makeKubeApis(loadKubeConfig(kubeconfig));
  const endpoint = process.env.AWS_ENDPOINT_URL;
  if (!endpoint)
    throw new Error("AWS_ENDPOINT_URL is not set: call awsTestEnv() at the top of the test file");
  const proxy = await startFaultProxy({ target: endpoint });
  const elbv2 = elbv2Client(endpoint);
  const ec2 = ec2Client(endpoint);
  const vpc = await seedVpc(ec2, {
    zones: ["us-west-2a", "us-west-2b"],
    clusterName,
    role: "internal-elb",
    instances: opts.nodes ?? 2,
  });
  await createNodes(kube.core, vpc.instances);

  let manager: Manager | undefined;
  const cluster: TestCluster = {
    api,
    kube,
    kubeconfig,
    proxy,
    elbv2,
    ec2,
    vpc,
    clusterName,
    async startController(flags = {}) {
      await manager?.stop();
      const config = resolveConfig({
        clusterName,
        kubeconfig,
        awsEndpointUrl: proxy.url,
        vpcId: vpc.vpcId,
        metricsBindAddress: "0",
        healthProbeBindAddress: "0",
        targetBatchWindow: "100ms",
        concurrency: "4",
        logLevel: process.env.TEST_LOG_LEVEL ?? "silent",
        ...flags,
      });
      manager = new Manager(config, makeLogger(config.logLevel));
      await manager.start();
      return manager;
    },
    controller() {
      if (!manager) throw new Error("no controller started");
      return manager;
    },
    async close() {
      await manager?.stop();
      await proxy.close();
      await api?.close();
      elbv2.destroy();
      ec2.destroy();
      rmSync(dir, { recursive: true, force: true });
    },
  };
  return cluster;
}

/** Polls until `check` returns a value (not undefined/false) or the timeout passes. */
export async function waitFor<T>(
  what: string,
  check: () => Promise<T | undefined | false> | T | undefined | false,
  timeoutMs = 30_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  for (;;) {
    try {
      const v = await check();
      if (v !== undefined && v !== false) return v;
    } catch (err) {
      lastError = err;
    }
    if (Date.now() > deadline)
      throw new Error(`timed out waiting for ${what}${lastError ? `: ${String(lastError)}` : ""}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** Waits for the controller to finish, including the informers seeing its own writes. */
export async function settle(manager: Manager): Promise<void> {
  for (let i = 0; i < 2; i++) {
    await new Promise((r) => setTimeout(r, 300));
    await manager.idle();
  }
}

export interface OwnedInventory {
  loadBalancers: {
    arn: string;
    name: string;
    scheme?: string;
    dnsName?: string;
    tags: Record<string, string>;
  }[];
  targetGroups: {
    arn: string;
    name: string;
    protocol?: string;
    port?: number;
    tags: Record<string, string>;
  }[];
}

/** Everything in the account tagged with this cluster, read straight from AWS (not through the controller). */
export async function ownedByCluster(
  elbv2: ElasticLoadBalancingV2Client,
  clusterName: string,
): Promise<OwnedInventory> {
  const lbs = (await elbv2.send(new DescribeLoadBalancersCommand({}))).LoadBalancers ?? [];
  const tgs = (await elbv2.send(new DescribeTargetGroupsCommand({}))).TargetGroups ?? [];
  const arns = [...lbs.map((l) => l.LoadBalancerArn!), ...tgs.map((t) => t.TargetGroupArn!)];
  const tags = new Map<string, Record<string, string>>();
  for (let i = 0; i < arns.length; i += 20) {
    const out = await elbv2.send(new DescribeTagsCommand({ ResourceArns: arns.slice(i, i + 20) }));
    for (const d of out.TagDescriptions ?? []) {
      tags.set(d.ResourceArn!, Object.fromEntries((d.Tags ?? []).map((t) => [t.Key!, t.Value ?? ""])));
    }
  }
  const ours = (arn: string) => tags.get(arn)?.["elbv2.k8s.aws/cluster"] === clusterName;
  return {
    loadBalancers: lbs
      .filter((l) => ours(l.LoadBalancerArn!))
      .map((l) => ({
        arn: l.LoadBalancerArn!,
        name: l.LoadBalancerName!,
        scheme: l.Scheme,
        dnsName: l.DNSName,
        tags: tags.get(l.LoadBalancerArn!)!,
      })),
    targetGroups: tgs
      .filter((t) => ours(t.TargetGroupArn!))
      .map((t) => ({
        arn: t.TargetGroupArn!,
        name: t.TargetGroupName!,
        protocol: t.Protocol,
        port: t.Port,
        tags: tags.get(t.TargetGroupArn!)!,
      })),
  };
}

export function nlbService(
  name: string,
  over: { annotations?: Record<string, string>; spec?: Partial<V1Service["spec"]> } = {},
): V1Service {
  return {
    metadata: {
      name,
      annotations: {
        "service.beta.kubernetes.io/aws-load-balancer-type": "external",
        "service.beta.kubernetes.io/aws-load-balancer-nlb-target-type": "instance",
        ...over.annotations,
      },
    },
    spec: {
      type: "LoadBalancer",
      selector: { app: name },
      ports: [{ name: "http", port: 80, targetPort: 8080, protocol: "TCP" }],
      ...over.spec,
    },
  };
}

export async function setEndpoints(
  kube: KubeApis,
  namespace: string,
  service: string,
  addresses: string[],
  port = 8080,
): Promise<void> {
  const name = `${service}-slice`;
  const body = {
    metadata: { name, namespace, labels: { "kubernetes.io/service-name": service } },
    addressType: "IPv4",
    endpoints: addresses.map((a) => ({ addresses: [a], conditions: { ready: true } })),
    ports: [{ name: "http", port, protocol: "TCP" }],
  };
  try {
    const current = await kube.discovery.readNamespacedEndpointSlice({ name, namespace });
    await kube.discovery.replaceNamespacedEndpointSlice({
      name,
      namespace,
      body: { ...body, metadata: { ...body.metadata, resourceVersion: current.metadata?.resourceVersion } },
    });
  } catch (err) {
    if ((err as { code?: number }).code !== 404) throw err;
    await kube.discovery.createNamespacedEndpointSlice({ namespace, body });
  }
}

/** Registers a fresh TestCluster around every test of the enclosing describe; the getter returns it. */
export function useTestCluster(opts: { nodes?: number } = {}): () => TestCluster {
  let cluster: TestCluster | undefined;
  beforeEach(async () => {
    cluster = await startTestCluster(opts);
  });
  afterEach(async () => {
    await cluster?.close();
    cluster = undefined;
  });
  return () => {
    if (!cluster) throw new Error("useTestCluster(): no cluster outside a test");
    return cluster;
  };
}

export const isMutatingCall = (operation: string): boolean => !/^(Describe|Get|List)/.test(operation);

/** Merges annotations into a Service, as `kubectl annotate` does. */
export async function annotate(
  c: TestCluster,
  name: string,
  annotations: Record<string, string>,
  namespace = "default",
) {
  await c.kube.core.patchNamespacedService(
    { name, namespace, body: { metadata: { annotations } } },
    mergePatch,
  );
}

const CLI = join(import.meta.dirname, "../../src/cli.ts");

/** Starts `nlb-controller run` as its own process against the cluster; flags override the defaults. */
export function spawnController(c: TestCluster, flags: Record<string, string> = {}): ChildProcess {
  const all: Record<string, string> = {
    "cluster-name": c.clusterName,
    kubeconfig: c.kubeconfig,
    "aws-endpoint-url": c.proxy.url,
    "vpc-id": c.vpc.vpcId,
    "metrics-bind-address": "0",
    "health-probe-bind-address": "0",
    "log-level": "error",
    ...flags,
  };
  const args = Object.entries(all).flatMap(([flag, value]) => [`--${flag}`, value]);
  return spawn(process.execPath, [CLI, "run", ...args], { stdio: ["ignore", "ignore", "inherit"] });
}
