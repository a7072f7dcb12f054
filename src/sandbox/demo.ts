import type { CoreV1Api, DiscoveryV1Api } from "@kubernetes/client-node";
import { mergePatch } from "../kube/client.ts";
import type { SeededInstance } from "./seed-aws.ts";

export const DEMO_NAMESPACE = "demo";

/** Nodes for the seeded instances: Ready, with the providerID EKS would give them. Returns their names. */
export async function createNodes(core: CoreV1Api, instances: SeededInstance[]): Promise<string[]> {
  const names = instances.map((_, i) => `ip-10-0-${i}-10.ec2.internal`);
  for (const [i, inst] of instances.entries()) {
    await core.createNode({
      body: {
        metadata: {
          name: names[i],
          labels: { "topology.kubernetes.io/zone": inst.zone, "kubernetes.io/os": "linux" },
        },
        spec: { providerID: inst.providerID },
        status: {
          conditions: [
            {
              type: "Ready",
              status: "True",
              reason: "KubeletReady",
              message: "kubelet is posting ready status",
            },
          ],
          addresses: [{ type: "InternalIP", address: inst.privateIpAddress ?? `10.0.${i}.10` }],
        },
      },
    });
  }
  // The API ignores status on create, as kube-apiserver does; kubelet would set it through /status.
  for (const [i, inst] of instances.entries()) {
    await core.patchNodeStatus(
      {
        name: names[i] as string,
        body: {
          status: {
            conditions: [{ type: "Ready", status: "True", reason: "KubeletReady" }],
            addresses: [{ type: "InternalIP", address: inst.privateIpAddress ?? `10.0.${i}.10` }],
          },
        },
      },
      mergePatch,
    );
  }
  return names;
}

/** Two Services: `web` (instance targets, externalTrafficPolicy Local) and `api` (ip targets). */
export async function applyDemoServices(core: CoreV1Api, discovery: DiscoveryV1Api): Promise<void> {
  await core.createNamespace({ body: { metadata: { name: DEMO_NAMESPACE } } });
  await core.createNamespacedService({
    namespace: DEMO_NAMESPACE,
    body: {
      metadata: {
        name: "web",
        annotations: {
          "service.beta.kubernetes.io/aws-load-balancer-type": "external",
          "service.beta.kubernetes.io/aws-load-balancer-nlb-target-type": "instance",
        },
      },
      spec: {
        type: "LoadBalancer",
        externalTrafficPolicy: "Local",
        selector: { app: "web" },
        ports: [{ name: "http", port: 80, targetPort: 8080, protocol: "TCP" }],
      },
    },
  });
  await core.createNamespacedService({
    namespace: DEMO_NAMESPACE,
    body: {
      metadata: {
        name: "api",
        annotations: { "service.beta.kubernetes.io/aws-load-balancer-nlb-target-type": "ip" },
      },
      spec: {
        type: "LoadBalancer",
        loadBalancerClass: "service.k8s.aws/nlb",
        selector: { app: "api" },
        ports: [
          { name: "grpc", port: 9000, targetPort: 9000, protocol: "TCP" },
          { name: "dns", port: 53, targetPort: 5353, protocol: "UDP" },
        ],
      },
    },
  });
  await setApiEndpoints(discovery, ["10.0.0.21", "10.0.16.22"]);
}

/** Every pod IP the demo uses, before and after its endpoint change. */
export const DEMO_POD_IPS = ["10.0.0.21", "10.0.16.22", "10.0.32.23"];

/** Replaces the `api` Service's endpoints, as the EndpointSlice controller does on a rollout. */
export async function setApiEndpoints(discovery: DiscoveryV1Api, addresses: string[]): Promise<void> {
  const body = {
    metadata: {
      name: "api-abcde",
      namespace: DEMO_NAMESPACE,
      labels: { "kubernetes.io/service-name": "api" },
    },
    addressType: "IPv4",
    endpoints: addresses.map((a) => ({ addresses: [a], conditions: { ready: true } })),
    ports: [
      { name: "grpc", port: 9000, protocol: "TCP" },
      { name: "dns", port: 5353, protocol: "UDP" },
    ],
  };
  try {
    await discovery.replaceNamespacedEndpointSlice({
      name: body.metadata.name,
      namespace: DEMO_NAMESPACE,
      body,
    });
  } catch {
    await discovery.createNamespacedEndpointSlice({ namespace: DEMO_NAMESPACE, body });
  }
}
