// Endpoints the way a cluster makes them: Pods bound to Nodes whose status is written as a kubelet
// would (podIP, Ready), and EndpointSlices written by the EndpointSlice controller. On the real
// control plane that is kube-controller-manager; on the emulator, which has none, this file writes
// the slice the controller would write.

import type { V1Pod, V1Service } from "@kubernetes/client-node";
import { type KubeApis, mergePatch } from "../../src/kube/client.ts";
import type { TestCluster } from "./cluster.ts";

/** A pod IP, optionally with the Node the pod runs on (default: the cluster's Nodes in turn). */
export type EndpointSpec = string | { address: string; node?: string };

const OWNER_LABEL = "nlb-test/endpoints-of";
const CONCURRENCY = 16;

/**
 * Makes the ready endpoints of `service` exactly `endpoints`: creates a Pod for each new address
 * (labelled with the Service's selector, bound to a Node, status Running and Ready), deletes the
 * Pods of addresses no longer listed, and resolves once the Service's EndpointSlices show that set.
 * A Service without a selector gets a hand-written slice instead (as its owner would write it).
 */
export async function setEndpoints(
  c: TestCluster,
  namespace: string,
  service: string,
  endpoints: EndpointSpec[],
): Promise<void> {
  const svc = await c.kube.core.readNamespacedService({ name: service, namespace });
  const wanted = endpoints.map((e, i) => {
    const spec = typeof e === "string" ? { address: e } : e;
    return { address: spec.address, node: spec.node ?? c.nodeNames[i % c.nodeNames.length] ?? "" };
  });
  const selector = svc.spec?.selector;
  if (!selector || Object.keys(selector).length === 0) {
    await writeSlice(
      c.kube,
      svc,
      wanted.map((w) => ({ ...w, pod: undefined })),
    );
    return;
  }
  const existing = (
    await c.kube.core.listNamespacedPod({ namespace, labelSelector: `${OWNER_LABEL}=${service}` })
  ).items;
  const byAddress = new Map(existing.map((p) => [p.status?.podIP ?? "", p]));
  const keep = new Set(wanted.map((w) => w.address));
  const added = wanted.filter((w) => !byAddress.has(w.address));
  const removed = existing.filter((p) => !keep.has(p.status?.podIP ?? ""));
  // New pods first, as a rolling update surges before it removes.
  await inParallel(added, (w) => runPod(c.kube, svc, w.address, w.node));
  await inParallel(removed, (p) =>
    c.kube.core.deleteNamespacedPod({ name: p.metadata?.name ?? "", namespace, gracePeriodSeconds: 0 }),
  );
  if (c.backend === "emulator") {
    const pods = (
      await c.kube.core.listNamespacedPod({ namespace, labelSelector: `${OWNER_LABEL}=${service}` })
    ).items;
    await writeSlice(
      c.kube,
      svc,
      pods.map((p) => ({ address: p.status?.podIP ?? "", node: p.spec?.nodeName ?? "", pod: p })),
    );
    return;
  }
  await untilSlicesShow(c.kube, namespace, service, keep);
}

/** Creates the Pod of one endpoint and writes its status as the kubelet on `node` would. */
async function runPod(kube: KubeApis, svc: V1Service, address: string, node: string): Promise<void> {
  const namespace = svc.metadata?.namespace ?? "default";
  const service = svc.metadata?.name ?? "";
  const name = `${service}-${address.replace(/[.:]/g, "-")}`;
  const ports = (svc.spec?.ports ?? []).map((p) => ({
    ...(typeof p.targetPort === "string" ? { name: p.targetPort } : {}),
    containerPort: typeof p.targetPort === "number" ? p.targetPort : p.port,
    protocol: p.protocol ?? "TCP",
  }));
  await kube.core.createNamespacedPod({
    namespace,
    body: {
      metadata: { name, labels: { ...svc.spec?.selector, [OWNER_LABEL]: service } },
      spec: {
        nodeName: node,
        containers: [{ name: "app", image: "registry.k8s.io/pause:3.10", ports: uniquePorts(ports) }],
      },
    },
  });
  const now = new Date().toISOString();
  const condition = (type: string) => ({ type, status: "True", lastTransitionTime: now });
  await kube.core.patchNamespacedPodStatus(
    {
      name,
      namespace,
      body: {
        status: {
          phase: "Running",
          podIP: address,
          podIPs: [{ ip: address }],
          startTime: now,
          conditions: ["PodScheduled", "Initialized", "ContainersReady", "Ready"].map(condition),
        },
      },
    },
    mergePatch,
  );
}

/** A container may not list the same port and protocol twice (a TCP_UDP Service names the port twice). */
function uniquePorts<T extends { containerPort: number; protocol: string }>(ports: T[]): T[] {
  const seen = new Set<string>();
  return ports.filter((p) => {
    const key = `${p.containerPort}/${p.protocol}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

async function untilSlicesShow(
  kube: KubeApis,
  namespace: string,
  service: string,
  addresses: Set<string>,
): Promise<void> {
  const deadline = Date.now() + 30_000;
  for (;;) {
    const slices = (
      await kube.discovery.listNamespacedEndpointSlice({
        namespace,
        labelSelector: `kubernetes.io/service-name=${service}`,
      })
    ).items;
    const ready = new Set(
      slices.flatMap((s) =>
        (s.endpoints ?? []).filter((e) => e.conditions?.ready !== false).flatMap((e) => e.addresses),
      ),
    );
    if (ready.size === addresses.size && [...addresses].every((a) => ready.has(a))) return;
    if (Date.now() > deadline) {
      throw new Error(
        `the EndpointSlice controller did not publish ${addresses.size} endpoints of ${namespace}/${service} within 30 s (it shows ${ready.size})`,
      );
    }
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** The one slice the EndpointSlice controller would write for these endpoints (all ready). */
async function writeSlice(
  kube: KubeApis,
  svc: V1Service,
  endpoints: { address: string; node: string; pod: V1Pod | undefined }[],
): Promise<void> {
  const namespace = svc.metadata?.namespace ?? "default";
  const service = svc.metadata?.name ?? "";
  const name = `${service}-endpoints`;
  const body = {
    metadata: {
      name,
      namespace,
      labels: {
        "kubernetes.io/service-name": service,
        ...(endpoints.some((e) => e.pod)
          ? { "endpointslice.kubernetes.io/managed-by": "endpointslice-controller.k8s.io" }
          : {}),
      },
    },
    addressType: "IPv4",
    endpoints: endpoints.map((e) => ({
      addresses: [e.address],
      conditions: { ready: true, serving: true, terminating: false },
      ...(e.node ? { nodeName: e.node } : {}),
      ...(e.pod
        ? { targetRef: { kind: "Pod", name: e.pod.metadata?.name, namespace, uid: e.pod.metadata?.uid } }
        : {}),
    })),
    ports: (svc.spec?.ports ?? []).map((p) => ({
      name: p.name ?? "",
      port: typeof p.targetPort === "number" ? p.targetPort : p.port,
      protocol: p.protocol ?? "TCP",
    })),
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

async function inParallel<T>(items: T[], fn: (item: T) => Promise<unknown>): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const item = items[next++] as T;
      await fn(item);
    }
  };
  await Promise.all(Array.from({ length: Math.min(CONCURRENCY, items.length) }, worker));
}
