/**
 * One controller under test: a Kubernetes API (the real control plane, the emulator, or a cluster
 * of yours via KUBECONFIG: see kube-backend.ts), an AWS endpoint behind the fault proxy (which
 * records every call), a seeded VPC with worker Nodes, and the Manager itself with a short batch
 * window. On the real control plane the controller runs as the chart's ServiceAccount, under the
 * RBAC the chart renders, and reaches the API through a proxy that can inject faults.
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
import type { Faults } from "../../src/sandbox/apiserver/faults.ts";
import { type ApiServer, startApiServer } from "../../src/sandbox/apiserver/index.ts";
import { createNodes } from "../../src/sandbox/demo.ts";
import { ec2Client, elbv2Client, resetAws, type SeededVpc, seedVpc } from "./aws.ts";
import { type FaultProxy, startFaultProxy } from "./fault-proxy.ts";
import {
  CHART_NAMESPACE,
  controllerToken,
  emptyCluster,
  type KubeBackendKind,
  kubeBackendKind,
  sharedControlPlane,
} from "./kube-backend.ts";
import { type KubeFaultProxy, startKubeFaultProxy } from "./kube-fault-proxy.ts";

export interface TestCluster {
  backend: KubeBackendKind;
  /** The emulator; undefined on the real control plane or a cluster of yours. */
  api: ApiServer | undefined;
  /** Admin access, for the test's own reads and writes. */
  kube: KubeApis;
  /** The admin kubeconfig (what a user running `plan --diff` or kubectl has). */
  kubeconfig: string;
  /** What the controller runs with: the chart's ServiceAccount on the real control plane, else admin. */
  controllerKubeconfig: string;
  /** Faults on the controller's way to the API; undefined on a cluster of yours. */
  kubeFaults: Faults | undefined;
  /** The proxy the controller reaches the real API through, with its request log. */
  kubeProxy: KubeFaultProxy | undefined;
  proxy: FaultProxy;
  elbv2: ElasticLoadBalancingV2Client;
  ec2: EC2Client;
  vpc: SeededVpc;
  clusterName: string;
  /** Names of the worker Nodes, in the order of vpc.instances. */
  nodeNames: string[];
  /** Starts (or restarts) a controller; the previous one, if any, is stopped first. */
  startController(flags?: Record<string, string | boolean>): Promise<Manager>;
  controller(): Manager;
  close(): Promise<void>;
}

export interface TestClusterOptions {
  nodes?: number;
  /** Chart values the controller's RBAC is rendered with (real control plane), e.g. `{rbac: {multiClusterTargetGroups: true}}`. */
  chartValues?: Record<string, unknown>;
}

let counter = 0;

interface KubeSide {
  api: ApiServer | undefined;
  kubeconfig: string;
  controllerKubeconfig: string;
  kubeProxy: KubeFaultProxy | undefined;
  kubeFaults: Faults | undefined;
}

async function startKubeSide(
  backend: KubeBackendKind,
  dir: string,
  opts: TestClusterOptions,
): Promise<KubeSide> {
  if (backend === "emulator") {
    const api = await startApiServer({ host: "127.0.0.1", port: 0 });
    const kubeconfig = join(dir, "kubeconfig");
    await api.writeKubeconfig(kubeconfig);
    return {
      api,
      kubeconfig,
      controllerKubeconfig: kubeconfig,
      kubeProxy: undefined,
      kubeFaults: api.faults,
    };
  }
  if (backend === "external") {
    const kubeconfig = process.env.KUBECONFIG as string;
    await emptyCluster(makeKubeApis(loadKubeConfig(kubeconfig)));
    return {
      api: undefined,
      kubeconfig,
      controllerKubeconfig: kubeconfig,
      kubeProxy: undefined,
      kubeFaults: undefined,
    };
  }
  const cp = await sharedControlPlane();
  await emptyCluster(makeKubeApis(loadKubeConfig(cp.adminKubeconfig)));
  const kubeProxy = await startKubeFaultProxy(cp);
  const { name, token } = await controllerToken(cp, opts.chartValues);
  const controllerKubeconfig = await cp.writeKubeconfig(`${name}-via-proxy`, token, kubeProxy.url);
  return {
    api: undefined,
    kubeconfig: cp.adminKubeconfig,
    controllerKubeconfig,
    kubeProxy,
    kubeFaults: kubeProxy.faults,
  };
}

export async function startTestCluster(opts: TestClusterOptions = {}): Promise<TestCluster> {
  await resetAws();
  const backend = kubeBackendKind();
  const clusterName = `it-${process.pid}-${++counter}`;
  const dir = mkdtempSync(join(tmpdir(), "nlb-it-"));
  const side = await startKubeSide(backend, dir, opts);
  const kube = makeKubeApis(loadKubeConfig(side.kubeconfig));
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
  const nodeNames = await createNodes(kube.core, vpc.instances);

  let manager: Manager | undefined;
  const cluster: TestCluster = {
    backend,
    ...side,
    kube,
    proxy,
    elbv2,
    ec2,
    vpc,
    clusterName,
    nodeNames,
    async startController(flags = {}) {
      await manager?.stop();
      const config = resolveConfig({
        clusterName,
        kubeconfig: side.controllerKubeconfig,
        awsEndpointUrl: proxy.url,
        vpcId: vpc.vpcId,
        metricsBindAddress: "0",
        healthProbeBindAddress: "0",
        targetBatchWindow: "100ms",
        concurrency: "4",
        // The suites are not about the client-side budget (budget.test.ts is): moto has no limits.
        awsApiBudget: "100",
        leaderElectionNamespace: CHART_NAMESPACE,
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
      await side.kubeProxy?.close();
      await side.api?.close();
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

export { type EndpointSpec, setEndpoints } from "./endpoints.ts";

/** Registers a fresh TestCluster around every test of the enclosing describe; the getter returns it. */
export function useTestCluster(opts: TestClusterOptions = {}): () => TestCluster {
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
    kubeconfig: c.controllerKubeconfig,
    "aws-endpoint-url": c.proxy.url,
    "leader-election-namespace": CHART_NAMESPACE,
    "vpc-id": c.vpc.vpcId,
    "metrics-bind-address": "0",
    "health-probe-bind-address": "0",
    "log-level": "error",
    "aws-api-budget": "100",
    ...flags,
  };
  const args = Object.entries(all).flatMap(([flag, value]) => [`--${flag}`, value]);
  return spawn(process.execPath, [CLI, "run", ...args], { stdio: ["ignore", "ignore", "inherit"] });
}
