/**
 * `npm run bench`: the controller against the API emulator and moto behind the fault proxy, which
 * enforces AWS's per-account token buckets (time-compressed by BENCH_TIME_SCALE). Reports AWS calls
 * versus the minimum a change needs, convergence time versus what the rate limits allow, latency from
 * an endpoint change to the target registered, idle calls, and memory with thousands of Services.
 *
 * Sizes: BENCH_SERVICES (default 40 NLBs), BENCH_MEMORY_SERVICES (default 2000), BENCH_TIME_SCALE (default 10).
 */
import { spawn } from "node:child_process";
import { mkdirSync, writeFileSync } from "node:fs";
import { CreateNetworkInterfaceCommand, CreateSecurityGroupCommand } from "@aws-sdk/client-ec2";
import { makeClients } from "../src/aws/clients.ts";
import { resolveConfig } from "../src/config.ts";
import { Manager } from "../src/controller/manager.ts";
import { loadKubeConfig, makeKubeApis } from "../src/kube/client.ts";
import { makeLogger } from "../src/observability/logger.ts";
import { createNodes } from "../src/sandbox/demo.ts";
import { startMoto } from "../src/sandbox/moto.ts";
import { seedVpc } from "../src/sandbox/seed-aws.ts";
import { awsAccountLimits, startFaultProxy } from "../test/support/fault-proxy.ts";

const N = Number(process.env.BENCH_SERVICES ?? 40);
const MEMORY_N = Number(process.env.BENCH_MEMORY_SERVICES ?? 2000);
const SCALE = Number(process.env.BENCH_TIME_SCALE ?? 10);
const NS = "bench";

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const say = (s: string) => process.stdout.write(`${s}\n`);

process.env.AWS_REGION ??= "us-west-2";
process.env.AWS_ACCESS_KEY_ID ??= "bench";
process.env.AWS_SECRET_ACCESS_KEY ??= "bench";

const moto = await startMoto();
const proxy = await startFaultProxy({ target: moto.url, limits: awsAccountLimits, timeScale: SCALE });
// The API emulator runs in its own process, so the heap measured below is the controller's alone.
const kubeconfig = `/tmp/nlb-bench-${process.pid}.kubeconfig`;
const api = spawn(
  process.execPath,
  [
    "src/cli.ts",
    "sandbox",
    "--no-controller",
    "--no-demo",
    "--listen",
    "127.0.0.1:0",
    "--kubeconfig-out",
    kubeconfig,
  ],
  { stdio: ["ignore", "pipe", "inherit"] },
);
await new Promise<void>((resolve, reject) => {
  api.once("exit", (code) => reject(new Error(`API emulator exited with ${code}`)));
  api.stdout.on("data", (d: Buffer) => {
    if (d.toString().includes("Ctrl-C")) resolve();
  });
});
const kube = makeKubeApis(loadKubeConfig(kubeconfig));
const aws = makeClients({ endpoint: moto.url, region: process.env.AWS_REGION });
let manager: Manager | undefined;

try {
  const vpc = await seedVpc(aws.ec2, {
    zones: ["us-west-2a", "us-west-2b"],
    clusterName: "bench",
    role: "internal-elb",
    instances: 3,
  });
  await createNodes(kube.core, vpc.instances);
  await kube.core.createNamespace({ body: { metadata: { name: NS } } });
  // Pod IPs live on network interfaces with the pods' security group, as with security groups for
  // pods: backend rules need to find them. Made straight against moto, so they are not counted.
  const { GroupId: podGroup } = await aws.ec2.send(
    new CreateSecurityGroupCommand({ GroupName: "bench-pods", Description: "pods", VpcId: vpc.vpcId }),
  );
  const podSubnet = vpc.subnets[0]!;
  const podIp = (n: number) => `10.0.${Math.floor(n / 250) + 1}.${(n % 250) + 2}`;
  for (let n = 0; n < 3 * N + 10; n++) {
    await aws.ec2.send(
      new CreateNetworkInterfaceCommand({
        SubnetId: podSubnet.subnetId,
        PrivateIpAddress: podIp(n),
        Groups: [podGroup!],
      }),
    );
  }
  const config = {
    ...resolveConfig({
      clusterName: "bench",
      kubeconfig,
      awsEndpointUrl: proxy.url,
      vpcId: vpc.vpcId,
      metricsBindAddress: "0",
      healthProbeBindAddress: "0",
      concurrency: "4",
      logLevel: "silent",
    }),
    // The default budget (half of AWS's rates), in the proxy's compressed time.
    awsApiTimeScale: SCALE,
  };
  manager = new Manager(config, makeLogger("silent"));
  await manager.start();

  // 1. Create N ip-mode Services with 3 endpoints each.
  proxy.resetCalls();
  const t0 = performance.now();
  for (let i = 0; i < N; i++) {
    const name = `svc-${i}`;
    await kube.core.createNamespacedService({
      namespace: NS,
      body: {
        metadata: {
          name,
          annotations: {
            "service.beta.kubernetes.io/aws-load-balancer-type": "external",
            "service.beta.kubernetes.io/aws-load-balancer-nlb-target-type": "ip",
          },
        },
        spec: {
          type: "LoadBalancer",
          ports: [{ name: "http", port: 80, targetPort: 8080, protocol: "TCP" }],
        },
      },
    });
    await kube.discovery.createNamespacedEndpointSlice({
      namespace: NS,
      body: {
        metadata: { name: `${name}-x`, labels: { "kubernetes.io/service-name": name } },
        addressType: "IPv4",
        endpoints: [1, 2, 3].map((j) => ({
          addresses: [podIp(3 * i + j - 1)],
          conditions: { ready: true },
        })),
        ports: [{ name: "http", port: 8080, protocol: "TCP" }],
      },
    });
  }
  await waitAll(async () => {
    const list = await kube.core.listNamespacedService({ namespace: NS });
    return list.items.every((s) => s.status?.loadBalancer?.ingress?.length);
  });
  await settle(manager);
  const createSeconds = ((performance.now() - t0) / 1000) * SCALE;
  const createCalls = tally();
  // Minimum per 1-port Service: CreateTargetGroup, RegisterTargets, CreateLoadBalancer, CreateListener
  // (ELB), and CreateSecurityGroup, its listener rule, the pods' group backend rule (EC2).
  const minMutating = 7 * N;
  // CreateLoadBalancer's bucket (10 burst, 0.2/s) bounds how fast N NLBs can be made at all.
  const limitSeconds = Math.max(0, (N - 10) / 0.2);

  // 2. Endpoint change -> target registered latency, one Service at a time.
  const latencies: number[] = [];
  proxy.resetCalls();
  for (let k = 0; k < 10; k++) {
    const i = k % N;
    const name = `svc-${i}`;
    const before = proxy.calls.filter((c) => c.operation === "RegisterTargets").length;
    const start = performance.now();
    const slice = await kube.discovery.readNamespacedEndpointSlice({ name: `${name}-x`, namespace: NS });
    slice.endpoints = [
      ...(slice.endpoints ?? []),
      { addresses: [podIp(3 * N + k)], conditions: { ready: true } },
    ];
    await kube.discovery.replaceNamespacedEndpointSlice({ name: `${name}-x`, namespace: NS, body: slice });
    await waitAll(
      async () =>
        proxy.calls.filter((c) => c.operation === "RegisterTargets" && c.outcome === "ok").length > before,
      20,
    );
    latencies.push(performance.now() - start);
  }
  await settle(manager);
  const changeCalls = tally();

  // 3. Restart: a new process adopts every stack; what does it cost when nothing changed?
  await manager.stop();
  proxy.resetCalls();
  const r0 = performance.now();
  manager = new Manager(config, makeLogger("silent"));
  await manager.start();
  await settle(manager);
  const restartSeconds = ((performance.now() - r0) / 1000) * SCALE;
  const restartCalls = tally();

  // 4. Idle: nothing to change must cost nothing.
  proxy.resetCalls();
  await sleep(5000);
  const idleCalls = proxy.calls.length;

  // 5. Memory: thousands of Services and EndpointSlices of another class in the caches.
  global.gc?.();
  const heapBefore = process.memoryUsage().heapUsed;
  for (let i = 0; i < MEMORY_N; i++) {
    await kube.core.createNamespacedService({
      namespace: NS,
      body: {
        metadata: { name: `other-${i}` },
        spec: {
          type: "LoadBalancer",
          loadBalancerClass: "example.com/other",
          ports: [{ port: 80, protocol: "TCP" }],
        },
      },
    });
  }
  await sleep(1000);
  global.gc?.();
  const heapAfter = process.memoryUsage().heapUsed;

  latencies.sort((a, b) => a - b);
  const result = {
    services: N,
    timeScale: SCALE,
    create: {
      simulatedSeconds: round(createSeconds),
      rateLimitFloorSeconds: limitSeconds,
      mutatingCalls: createCalls.mutating,
      minimumMutatingCalls: minMutating,
      readCalls: createCalls.reads,
      throttled: createCalls.throttled,
      byOperation: createCalls.byOperation,
    },
    endpointChange: {
      changes: latencies.length,
      latencyMsP50: round(latencies[Math.floor(latencies.length / 2)] ?? 0),
      latencyMsMax: round(latencies.at(-1) ?? 0),
      mutatingCalls: changeCalls.mutating,
      readCalls: changeCalls.reads,
    },
    restart: {
      simulatedSeconds: round(restartSeconds),
      mutatingCalls: restartCalls.mutating,
      readCalls: restartCalls.reads,
      readCallsPerService: round(restartCalls.reads / N),
      byOperation: restartCalls.byOperation,
    },
    idle: { seconds: 5, calls: idleCalls },
    memory: {
      extraServices: MEMORY_N,
      heapDeltaMiB: round((heapAfter - heapBefore) / 2 ** 20),
      heapUsedMiB: round(heapAfter / 2 ** 20),
      rssMiB: round(process.memoryUsage().rss / 2 ** 20),
    },
  };
  mkdirSync("bench/results", { recursive: true });
  writeFileSync("bench/results/latest.json", `${JSON.stringify(result, null, 2)}\n`);
  say(JSON.stringify(result, null, 2));
} finally {
  await manager?.stop();
  await proxy.close();
  api.kill("SIGTERM");
  await moto.stop();
  aws.elbv2.destroy();
  aws.ec2.destroy();
}

function tally() {
  const byOperation: Record<string, number> = {};
  let mutating = 0;
  let reads = 0;
  let throttled = 0;
  for (const c of proxy.calls) {
    byOperation[c.operation] = (byOperation[c.operation] ?? 0) + 1;
    if (c.outcome === "throttled") throttled++;
    if (/^(Describe|Get|List)/.test(c.operation)) reads++;
    else mutating++;
  }
  proxy.resetCalls();
  return { byOperation, mutating, reads, throttled };
}

async function waitAll(check: () => Promise<boolean>, pollMs = 200): Promise<void> {
  const deadline = Date.now() + 30 * 60_000;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error("bench: timed out");
    await sleep(pollMs);
  }
}

async function settle(m: Manager): Promise<void> {
  await sleep(500);
  await m.idle();
}

function round(n: number): number {
  return Math.round(n * 10) / 10;
}
