// Which Kubernetes API the controller suites talk to, and how each test gets a clean one.
//
// - real (the default, what CI runs): kube-apiserver + etcd + kube-controller-manager built from the
//   Go module proxy (control-plane.ts), one per test process, emptied between tests. The controller
//   runs as a ServiceAccount bound to the RBAC the Helm chart renders.
// - emulator (KUBE_BACKEND=emulator): the project's API emulator, a fresh one per test.
// - external (KUBECONFIG set): a disposable cluster of yours (kind); it is emptied between tests
//   like the real one: every Node and every object in the namespaces the tests use is deleted.

import { existsSync, readdirSync, readFileSync, rmSync, statSync } from "node:fs";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { type KubernetesObject, KubernetesObjectApi } from "@kubernetes/client-node";
import { jsonPatch, type KubeApis, loadKubeConfig, makeKubeApis } from "../../src/kube/client.ts";
import {
  CONTROL_PLANE_DIR_PREFIX,
  type ControlPlane,
  OWNER_FILE,
  startControlPlane,
} from "./control-plane.ts";
import { type Manifest, renderChart } from "./helm.ts";

export type KubeBackendKind = "real" | "emulator" | "external";

const BACKENDS = ["real", "emulator"] as const;

/** KUBECONFIG wins (an existing cluster); otherwise KUBE_BACKEND, default real. */
export function kubeBackendKind(env: NodeJS.ProcessEnv = process.env): KubeBackendKind {
  if (env.KUBECONFIG) return "external";
  const wanted = env.KUBE_BACKEND ?? "real";
  if (!(BACKENDS as readonly string[]).includes(wanted)) {
    throw new Error(`KUBE_BACKEND=${wanted}: allowed values are ${BACKENDS.join(", ")} (or set KUBECONFIG)`);
  }
  return wanted as KubeBackendKind;
}

/** For a suite that only makes sense on a real API server: the reason it skips, or undefined. */
export function realServerOnly(what: string): string | undefined {
  return kubeBackendKind() === "emulator"
    ? `${what}: needs the real control plane (KUBE_BACKEND=emulator)`
    : undefined;
}

let shared: Promise<ControlPlane> | undefined;

/** The control plane of this test process, started on first use and stopped when the process exits. */
export function sharedControlPlane(): Promise<ControlPlane> {
  shared ??= startSharedControlPlane();
  return shared;
}

async function startSharedControlPlane(): Promise<ControlPlane> {
  sweepStaleControlPlanes();
  const cp = await startControlPlane({
    log: process.env.TEST_CONTROL_PLANE_LOG ? (line) => process.stderr.write(`${line}\n`) : undefined,
  });
  // The processes die with us (their watchdog sees to that, even after a SIGKILL); the data directory is ours to remove.
  process.once("exit", () => rmSync(cp.dir, { recursive: true, force: true }));
  return cp;
}

const STALE_UNOWNED_MS = 10 * 60_000;

/** Data directories left by a test process that was SIGKILLed (its exit hook never ran). */
function sweepStaleControlPlanes(): void {
  for (const root of ["/dev/shm", process.env.TMPDIR ?? "/tmp"]) {
    if (!existsSync(root)) continue;
    for (const name of readdirSync(root)) {
      if (!name.startsWith(CONTROL_PLANE_DIR_PREFIX)) continue;
      const dir = join(root, name);
      try {
        const owner = join(dir, OWNER_FILE);
        if (existsSync(owner)) {
          const pid = Number(readFileSync(owner, "utf8"));
          if (pid > 0 && isAlive(pid)) continue;
        } else if (Date.now() - statSync(dir).mtimeMs < STALE_UNOWNED_MS) {
          continue; // being made right now, by a run from before owner files were written first
        }
        rmSync(dir, { recursive: true, force: true });
      } catch {}
    }
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
}

export const CHART_RELEASE = "nlb";
export const CHART_NAMESPACE = "kube-system";
/** The chart's default leader-election Lease (`leaderElection.id`). */
export const LEADER_LEASE = "aws-nlb-controller-leader";

/** The chart's RBAC objects (ServiceAccount, roles, bindings) for `values`, as `helm template` renders them. */
export async function chartRbac(values: Record<string, unknown> = {}): Promise<Manifest[]> {
  const manifests = await renderChart(
    { clusterName: "test", ...values },
    { release: CHART_RELEASE, namespace: CHART_NAMESPACE },
  );
  return manifests.filter((m) =>
    ["ServiceAccount", "ClusterRole", "ClusterRoleBinding", "Role", "RoleBinding"].includes(m.kind),
  );
}

export interface ControllerIdentity {
  /** Name of the chart's ServiceAccount (in CHART_NAMESPACE). */
  name: string;
  token: string;
}

const identities = new Map<string, Promise<ControllerIdentity>>();

/**
 * The chart's ServiceAccount, bound to exactly the RBAC the chart renders with `values`, and a
 * token for it from the TokenRequest API (what `kubectl create token` does). Made once per set of
 * values and control plane.
 */
export function controllerToken(
  cp: ControlPlane,
  values: Record<string, unknown> = {},
): Promise<ControllerIdentity> {
  const key = JSON.stringify(values);
  let found = identities.get(key);
  if (!found) {
    found = applyChartIdentity(cp, values, identities.size);
    identities.set(key, found);
  }
  return found;
}

async function applyChartIdentity(
  cp: ControlPlane,
  values: Record<string, unknown>,
  n: number,
): Promise<ControllerIdentity> {
  // Each set of values gets its own names, so two sets in one process never widen each other's grants.
  const fullnameOverride = n === 0 ? "aws-nlb-controller" : `aws-nlb-controller-${n}`;
  const manifests = await chartRbac({ fullnameOverride, ...values });
  const kc = loadKubeConfig(cp.adminKubeconfig);
  const objects = KubernetesObjectApi.makeApiClient(kc);
  for (const m of manifests) await objects.create(m as KubernetesObject);
  const account = manifests.find((m) => m.kind === "ServiceAccount");
  if (!account) throw new Error("the chart rendered no ServiceAccount");
  const name = account.metadata.name;
  const kube = makeKubeApis(kc);
  const answer = await kube.core.createNamespacedServiceAccountToken({
    name,
    namespace: account.metadata.namespace ?? CHART_NAMESPACE,
    body: { spec: { expirationSeconds: 24 * 3600, audiences: [] } },
  });
  const token = answer.status?.token;
  if (!token) throw new Error("TokenRequest returned no token");
  return { name, token };
}

/** The label a test puts on a namespace it makes, so that the next test deletes it (and no other). */
export const TEST_NAMESPACE_LABEL = "nlb-test/disposable";

/**
 * Deletes what a previous test left: every Node, and every Service (its finalizers stripped),
 * Pod, EndpointSlice, ConfigMap, Lease and Event in `default`; namespaces the tests made (labelled
 * TEST_NAMESPACE_LABEL) are deleted whole, any other is left alone. Resolves once all of it is gone.
 */
export async function emptyCluster(kube: KubeApis): Promise<void> {
  const { core, discovery, coordination } = kube;
  const doomed = (await core.listNamespace({ labelSelector: TEST_NAMESPACE_LABEL })).items.map(
    (n) => n.metadata?.name ?? "",
  );
  for (const namespace of ["default", ...doomed]) {
    for (const svc of (await core.listNamespacedService({ namespace })).items) {
      const name = svc.metadata?.name ?? "";
      if (namespace === "default" && name === "kubernetes") continue;
      if (svc.metadata?.finalizers?.length) {
        await core
          .patchNamespacedService(
            {
              name,
              namespace,
              body: [{ op: "replace", path: "/metadata/finalizers", value: [] }],
            },
            jsonPatch,
          )
          .catch(ignoreNotFound);
      }
      await core.deleteNamespacedService({ name, namespace }).catch(ignoreNotFound);
    }
  }
  await Promise.all([
    core.deleteCollectionNamespacedPod({ namespace: "default", gracePeriodSeconds: 0 }),
    discovery.deleteCollectionNamespacedEndpointSlice({ namespace: "default" }),
    core.deleteCollectionNamespacedConfigMap({
      namespace: "default",
      fieldSelector: "metadata.name!=kube-root-ca.crt",
    }),
    coordination.deleteCollectionNamespacedLease({ namespace: "default" }),
    coordination
      .deleteNamespacedLease({ name: LEADER_LEASE, namespace: CHART_NAMESPACE })
      .catch(ignoreNotFound),
    core.deleteCollectionNamespacedEvent({ namespace: "default" }),
    core.deleteCollectionNode({}),
    ...doomed.map((name) => core.deleteNamespace({ name }).catch(ignoreNotFound)),
  ]);
  const deadline = Date.now() + 60_000;
  for (;;) {
    const left = await leftovers(kube, doomed);
    if (left.length === 0) return;
    if (Date.now() > deadline)
      throw new Error(`the cluster did not empty within 60 s: ${left.join(", ")} left`);
    await sleep(100);
  }
}

async function leftovers(kube: KubeApis, doomed: string[]): Promise<string[]> {
  const { core, discovery } = kube;
  const left: string[] = [];
  const count = (what: string, n: number) => n > 0 && left.push(`${n} ${what}`);
  const services = (await core.listNamespacedService({ namespace: "default" })).items;
  count("Services", services.filter((s) => s.metadata?.name !== "kubernetes").length);
  count("Pods", (await core.listNamespacedPod({ namespace: "default" })).items.length);
  count(
    "EndpointSlices",
    (await discovery.listNamespacedEndpointSlice({ namespace: "default" })).items.length,
  );
  count("Nodes", (await core.listNode()).items.length);
  const namespaces = new Set((await core.listNamespace()).items.map((n) => n.metadata?.name));
  count("namespaces", doomed.filter((n) => namespaces.has(n)).length);
  return left;
}

function ignoreNotFound(error: unknown): void {
  if ((error as { code?: number }).code !== 404) throw error;
}
