import { READINESS_GATE_PREFIX } from "../model/readiness.ts";
import type { EndpointSlice, Node, ObjectMeta, Pod, Service } from "../model/types.ts";

/**
 * The informer caches keep only what build() and the loops read: at thousands of Services the cache,
 * not the work, is what costs memory.
 */
function slimMeta(m: ObjectMeta, withNamespace = true): ObjectMeta {
  return {
    name: m.name,
    ...(withNamespace && m.namespace ? { namespace: m.namespace } : {}),
    ...(m.uid ? { uid: m.uid } : {}),
    ...(m.resourceVersion ? { resourceVersion: m.resourceVersion } : {}),
    ...(m.generation !== undefined ? { generation: m.generation } : {}),
    ...(m.labels ? { labels: m.labels } : {}),
    ...(m.annotations ? { annotations: m.annotations } : {}),
    ...(m.finalizers?.length ? { finalizers: m.finalizers } : {}),
    ...(m.deletionTimestamp ? { deletionTimestamp: String(m.deletionTimestamp) } : {}),
  };
}

export function slimService(s: Service): Service {
  const { annotations, ...rest } = slimMeta(s.metadata);
  // kubectl's last-applied copy is the largest annotation and nothing reads it.
  const kept = annotations
    ? Object.entries(annotations).filter(([k]) => k !== "kubectl.kubernetes.io/last-applied-configuration")
    : [];
  const ingress = s.status?.loadBalancer?.ingress;
  const conditions = s.status?.conditions;
  return {
    metadata: { ...rest, ...(kept.length ? { annotations: Object.fromEntries(kept) } : {}) },
    spec: s.spec ?? {},
    status: {
      ...(ingress ? { loadBalancer: { ingress } } : {}),
      ...(conditions?.length ? { conditions } : {}),
    },
  };
}

export function slimEndpointSlice(s: EndpointSlice): EndpointSlice {
  return {
    metadata: slimMeta({ ...s.metadata, annotations: undefined }),
    addressType: s.addressType,
    endpoints: (s.endpoints ?? []).map((e) => ({
      addresses: e.addresses,
      ...(e.conditions ? { conditions: e.conditions } : {}),
      // Backend rules fall back to the node's security group through it (prefix delegation).
      ...(e.nodeName ? { nodeName: e.nodeName } : {}),
      // Readiness gates look the pod up through it.
      ...(e.targetRef?.kind === "Pod"
        ? { targetRef: { kind: "Pod", name: e.targetRef.name, namespace: e.targetRef.namespace } }
        : {}),
    })),
    ports: s.ports ?? [],
  };
}

export function slimNode(n: Node): Node {
  return {
    metadata: slimMeta({ ...n.metadata, annotations: undefined }, false),
    spec: { providerID: n.spec?.providerID, ...(n.spec?.taints ? { taints: n.spec.taints } : {}) },
    status: { conditions: (n.status?.conditions ?? []).map(({ type, status }) => ({ type, status })) },
  };
}

/** Pods are many: only our readiness gates, the pod IP and the conditions they depend on are kept. */
export function slimPod(p: Pod): Pod {
  const gates = (p.spec?.readinessGates ?? []).filter((g) =>
    g?.conditionType?.startsWith(READINESS_GATE_PREFIX),
  );
  const meta = {
    name: p.metadata.name,
    namespace: p.metadata.namespace,
    resourceVersion: p.metadata.resourceVersion,
  };
  if (gates.length === 0) return { metadata: meta };
  const conditions = (p.status?.conditions ?? [])
    .filter((c) => c.type === "ContainersReady" || c.type.startsWith(READINESS_GATE_PREFIX))
    .map(({ type, status, reason }) => ({ type, status, ...(reason ? { reason } : {}) }));
  return {
    metadata: meta,
    spec: { readinessGates: gates },
    status: { ...(p.status?.podIP ? { podIP: p.status.podIP } : {}), conditions },
  };
}
