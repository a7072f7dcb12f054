/**
 * `npm run bench:scale`: the controller as a user runs it (`nlb-controller run`, its own process)
 * against the real control plane (etcd, kube-apiserver, kube-controller-manager) filled with Nodes,
 * ordinary Pods, Services and the EndpointSlices the EndpointSlice controller makes of them, and moto.
 * Reports the controller's peak RSS (VmHWM, from the OS), CPU seconds, time from start to every NLB
 * Service's status, and the latency from a new pod's EndpointSlice entry to its target registered.
 *
 * Sizes: BENCH_NODES (100), BENCH_PODS (5000), BENCH_SVCS (200), BENCH_NLBS (20, ip mode).
 * BENCH_CLI: the CLI to run (default dist/cli.js), to compare builds.
 */
import { spawn } from "node:child_process";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import {
  DescribeTagsCommand,
  DescribeTargetGroupsCommand,
  DescribeTargetHealthCommand,
} from "@aws-sdk/client-elastic-load-balancing-v2";
import type { V1Pod } from "@kubernetes/client-node";
import { makeClients } from "../src/aws/clients.ts";
import { loadKubeConfig, makeKubeApis, mergePatch } from "../src/kube/client.ts";
import { startMoto } from "../src/sandbox/moto.ts";
import { seedVpc } from "../src/sandbox/seed-aws.ts";
import { startControlPlane } from "../test/support/control-plane.ts";

const NODES = Number(process.env.BENCH_NODES ?? 100);
const PODS = Number(process.env.BENCH_PODS ?? 5000);
const SVCS = Number(process.env.BENCH_SVCS ?? 200);
const NLBS = Number(process.env.BENCH_NLBS ?? 20);
const CLI = process.env.BENCH_CLI ?? "dist/cli.js";
const NS = "default";
const P = "service.beta.kubernetes.io/aws-load-balancer-";
const say = (s: string) => process.stdout.write(`${s}\n`);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

process.env.AWS_REGION ??= "us-west-2";
process.env.AWS_ACCESS_KEY_ID ??= "bench";
process.env.AWS_SECRET_ACCESS_KEY ??= "bench";

async function inParallel<T>(items: T[], n: number, fn: (item: T) => Promise<unknown>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: n }, async () => {
      while (next < items.length) await fn(items[next++] as T);
    }),
  );
}

const podIp = (i: number) => `10.${64 + (i >> 16)}.${(i >> 8) & 255}.${i & 255 || 1}`;

/** An ordinary pod: one container, a dozen env vars, probes and resources. */
function pod(i: number): V1Pod {
  return {
    metadata: { name: `app-${i}`, labels: { app: `svc-${i % SVCS}`, tier: "web", release: "bench" } },
    spec: {
      nodeName: `node-${i % NODES}`,
      containers: [
        {
          name: "app",
          image: "registry.example.com/team/app:1.2.3",
          ports: [{ name: "http", containerPort: 8080 }],
          env: Array.from({ length: 12 }, (_, k) => ({ name: `SETTING_${k}`, value: `value-${k}-${i}` })),
          readinessProbe: { httpGet: { path: "/ready", port: 8080 }, periodSeconds: 5 },
          livenessProbe: { httpGet: { path: "/live", port: 8080 }, periodSeconds: 10 },
          resources: { requests: { cpu: "100m", memory: "128Mi" }, limits: { memory: "256Mi" } },
        },
      ],
    },
  };
}

async function runPod(kube: ReturnType<typeof makeKubeApis>, i: number): Promise<void> {
  await kube.core.createNamespacedPod({ namespace: NS, body: pod(i) });
  const now = new Date().toISOString();
  await kube.core.patchNamespacedPodStatus(
    {
      name: `app-${i}`,
      namespace: NS,
      body: {
        status: {
          phase: "Running",
          podIP: podIp(i),
          podIPs: [{ ip: podIp(i) }],
          conditions: ["PodScheduled", "Initialized", "ContainersReady", "Ready"].map((type) => ({
            type,
            status: "True",
            lastTransitionTime: now,
          })),
        },
      },
    },
    mergePatch,
  );
}

function memoryOf(pid: number): { hwm: number; rss: number } | undefined {
  try {
    const status = readFileSync(`/proc/${pid}/status`, "utf8");
    const kb = (key: string) => Number(status.match(new RegExp(`${key}:\\s+(\\d+)`))?.[1] ?? 0);
    return { hwm: kb("VmHWM") / 1024, rss: kb("VmRSS") / 1024 };
  } catch {
    return undefined;
  }
}

function cpuSeconds(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1]?.split(" ") ?? [];
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

const cp = await startControlPlane();
const moto = await startMoto();
let controller: ReturnType<typeof spawn> | undefined;
let sampler: NodeJS.Timeout | undefined;
try {
  const kube = makeKubeApis(loadKubeConfig(cp.adminKubeconfig));
  const aws = makeClients({ endpoint: moto.url, region: process.env.AWS_REGION });
  const vpc = await seedVpc(aws.ec2, {
    zones: ["us-west-2a", "us-west-2b"],
    clusterName: "bench",
    role: "internal-elb",
    instances: 0,
  });
  let t = performance.now();
  await inParallel([...Array(NODES).keys()], 16, (i) =>
    kube.core.createNode({
      body: {
        metadata: { name: `node-${i}`, labels: { "topology.kubernetes.io/zone": "us-west-2a" } },
        spec: { providerID: `aws:///us-west-2a/i-${String(i).padStart(17, "0")}` },
      },
    }),
  );
  await inParallel([...Array(SVCS).keys()], 16, (i) =>
    kube.core.createNamespacedService({
      namespace: NS,
      body: {
        metadata: {
          name: `svc-${i}`,
          ...(i < NLBS
            ? {
                annotations: {
                  [`${P}type`]: "external",
                  [`${P}nlb-target-type`]: "ip",
                  [`${P}manage-backend-security-group-rules`]: "false",
                },
              }
            : {}),
        },
        spec: {
          type: i < NLBS ? "LoadBalancer" : "ClusterIP",
          selector: { app: `svc-${i}` },
          ports: [{ name: "http", port: 80, targetPort: 8080 }],
        },
      },
    }),
  );
  await inParallel([...Array(PODS).keys()], 32, (i) => runPod(kube, i));
  say(
    `filled: ${NODES} Nodes, ${SVCS} Services, ${PODS} Pods in ${((performance.now() - t) / 1000).toFixed(0)} s`,
  );
  for (;;) {
    let endpoints = 0;
    let token: string | undefined;
    do {
      const page = await kube.discovery.listNamespacedEndpointSlice({
        namespace: NS,
        limit: 500,
        _continue: token,
      });
      for (const s of page.items) endpoints += s.endpoints?.length ?? 0;
      token = page.metadata?._continue;
    } while (token);
    if (endpoints >= PODS) break;
    await sleep(2000);
  }
  say(`EndpointSlices published in ${((performance.now() - t) / 1000).toFixed(0)} s`);

  t = performance.now();
  controller = spawn(
    process.execPath,
    [
      CLI,
      "run",
      "--cluster-name=bench",
      `--kubeconfig=${cp.adminKubeconfig}`,
      `--aws-endpoint-url=${moto.url}`,
      `--vpc-id=${vpc.vpcId}`,
      "--metrics-bind-address=0",
      "--health-probe-bind-address=0",
      "--log-level=error",
      // moto has no rate limits; the budget is measured by `npm run bench` against AWS's buckets.
      `--aws-api-budget=${process.env.BENCH_AWS_API_BUDGET ?? "100"}`,
    ],
    { stdio: ["ignore", "ignore", "inherit"] },
  );
  const pid = controller.pid ?? 0;
  let peak = { hwm: 0, rss: 0 };
  sampler = setInterval(() => {
    const m = memoryOf(pid);
    if (m) peak = { hwm: Math.max(peak.hwm, m.hwm), rss: m.rss };
  }, 100);
  for (;;) {
    const services = (await kube.core.listNamespacedService({ namespace: NS })).items;
    const ready = services.filter((s) => s.status?.loadBalancer?.ingress?.[0]?.hostname).length;
    if (ready >= NLBS) break;
    if (controller.exitCode !== null) throw new Error(`the controller exited with ${controller.exitCode}`);
    await sleep(200);
  }
  const convergedS = (performance.now() - t) / 1000;
  say(`every NLB Service has its status ${convergedS.toFixed(1)} s after start`);

  // Latency: a new pod of NLB Service 0, from its endpoint in a slice to its target registered.
  const groups = (await aws.elbv2.send(new DescribeTargetGroupsCommand({}))).TargetGroups ?? [];
  const arns = groups.map((g) => g.TargetGroupArn ?? "");
  let target = "";
  for (let k = 0; k < arns.length && !target; k += 20) {
    const tags = await aws.elbv2.send(new DescribeTagsCommand({ ResourceArns: arns.slice(k, k + 20) }));
    target =
      tags.TagDescriptions?.find((d) =>
        d.Tags?.some((x) => x.Key === "service.k8s.aws/stack" && x.Value === `${NS}/svc-0`),
      )?.ResourceArn ?? "";
  }
  // From the pod's Ready status written to: its endpoint in a slice (kube-controller-manager's
  // share), and its target registered (the controller's share is the difference).
  const latencies: number[] = [];
  const sliceLatencies: number[] = [];
  for (let k = 0; k < 10; k++) {
    const i = PODS + k * SVCS; // a pod of svc-0
    await runPod(kube, i);
    const ready = performance.now();
    const ip = podIp(i);
    let sliced = 0;
    for (const deadline = ready + 30_000; ; ) {
      if (performance.now() > deadline) throw new Error(`pod ${ip} not registered within 30 s`);
      if (!sliced) {
        const slices = await kube.discovery.listNamespacedEndpointSlice({
          namespace: NS,
          labelSelector: "kubernetes.io/service-name=svc-0",
        });
        if (slices.items.some((s) => s.endpoints?.some((e) => e.addresses.includes(ip))))
          sliced = performance.now();
      }
      const health = await aws.elbv2.send(new DescribeTargetHealthCommand({ TargetGroupArn: target }));
      if (health.TargetHealthDescriptions?.some((d) => d.Target?.Id === ip)) {
        const registered = performance.now();
        sliceLatencies.push((sliced || registered) - ready);
        latencies.push(registered - ready);
        break;
      }
      await sleep(5);
    }
    await sleep(1000); // quiet between changes
  }
  sliceLatencies.sort((a, b) => a - b);
  latencies.sort((a, b) => a - b);
  clearInterval(sampler);
  const cpu = cpuSeconds(pid);
  const result = {
    at: new Date().toISOString(),
    cli: CLI,
    node: process.version,
    sizes: { nodes: NODES, pods: PODS, services: SVCS, nlbServices: NLBS },
    peakRssMiB: Math.round(peak.hwm),
    rssAtEndMiB: Math.round(peak.rss),
    cpuSeconds: cpu,
    startToEveryNlbStatusS: Number(convergedS.toFixed(1)),
    readyToSliceMs: {
      p50: Math.round(sliceLatencies[Math.floor(sliceLatencies.length / 2)] ?? 0),
      max: Math.round(sliceLatencies.at(-1) ?? 0),
    },
    readyToRegisteredMs: {
      p50: Math.round(latencies[Math.floor(latencies.length / 2)] ?? 0),
      max: Math.round(latencies.at(-1) ?? 0),
      note: "polled every few ms from this process, so an upper bound; slice to registered is the difference",
    },
  };
  mkdirSync("bench/results", { recursive: true });
  writeFileSync(
    `bench/results/scale-${result.at.replace(/[:.]/g, "-")}.json`,
    `${JSON.stringify(result, null, 2)}\n`,
  );
  say(JSON.stringify(result, null, 2));
} finally {
  clearInterval(sampler);
  controller?.kill("SIGTERM");
  await moto.stop();
  await cp.stop();
}
