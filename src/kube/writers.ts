import type { CoreV1Event } from "@kubernetes/client-node";
import { FINALIZER } from "../model/tags.ts";
import type { Condition, LoadBalancerIngress, Service } from "../model/types.ts";
import { type KubeApis, mergePatch, statusCodeOf, strategicMergePatch } from "./client.ts";

const COMPONENT = "aws-nlb-controller";

/** Writes to Services: finalizer, status and events. No decisions: callers say what to write. */
export class ServiceWriter {
  readonly #apis: KubeApis;
  readonly #recent = new Map<string, number>();
  readonly #eventDedupMs: number;

  constructor(apis: KubeApis, opts: { eventDedupMs?: number } = {}) {
    this.#apis = apis;
    this.#eventDedupMs = opts.eventDedupMs ?? 5 * 60_000;
  }

  /** Adds our finalizer; the resourceVersion makes it fail (409) instead of clobbering a concurrent edit. */
  async addFinalizer(svc: Service): Promise<void> {
    await this.#patchFinalizers(svc, [...(svc.metadata.finalizers ?? []), FINALIZER]);
  }

  async removeFinalizer(svc: Service): Promise<void> {
    await ignoreGone(
      this.#patchFinalizers(
        svc,
        (svc.metadata.finalizers ?? []).filter((f) => f !== FINALIZER),
      ),
    );
  }

  async setIngress(svc: Service, ingress: LoadBalancerIngress[]): Promise<void> {
    await this.#patchStatus(svc, { loadBalancer: { ingress } });
  }

  /** Sets one condition in status.conditions, keeping the others and the transition time if unchanged. */
  async setCondition(svc: Service, condition: Condition): Promise<void> {
    const others = (svc.status?.conditions ?? []).filter((c) => c.type !== condition.type);
    const previous = svc.status?.conditions?.find((c) => c.type === condition.type);
    const kept =
      previous?.status === condition.status
        ? { ...condition, lastTransitionTime: previous.lastTransitionTime }
        : condition;
    await this.#patchStatus(svc, { conditions: [...others, kept] });
  }

  /** Removes what this controller wrote into the status: the ingress and its condition. */
  async clearStatus(svc: Service, conditionType: string): Promise<void> {
    const others = (svc.status?.conditions ?? []).filter((c) => c.type !== conditionType);
    await this.#patchStatus(svc, {
      loadBalancer: { ingress: null },
      conditions: others.length > 0 ? others : null,
    });
  }

  /** Sets one condition on a Pod (a readiness gate), merged by type like kubelet's own conditions. */
  async setPodCondition(
    namespace: string,
    name: string,
    condition: { type: string; status: string; reason: string; message: string },
  ): Promise<void> {
    const conditions = [{ ...condition, lastProbeTime: null, lastTransitionTime: new Date().toISOString() }];
    await ignoreGone(
      this.#apis.core.patchNamespacedPodStatus(
        { name, namespace, body: { status: { conditions } } },
        strategicMergePatch,
      ),
    );
  }

  #patchFinalizers(svc: Service, finalizers: string[]): Promise<unknown> {
    return this.#apis.core.patchNamespacedService(
      {
        name: svc.metadata.name,
        namespace: svc.metadata.namespace ?? "default",
        body: { metadata: { finalizers, resourceVersion: svc.metadata.resourceVersion } },
      },
      mergePatch,
    );
  }

  /** A merge patch of status; a Service deleted meanwhile needs no status. */
  async #patchStatus(svc: Service, status: Record<string, unknown>): Promise<void> {
    await ignoreGone(
      this.#apis.core.patchNamespacedServiceStatus(
        { name: svc.metadata.name, namespace: svc.metadata.namespace ?? "default", body: { status } },
        mergePatch,
      ),
    );
  }

  /** Records an event; the same reason and message for the same object is written once per dedup window. */
  async event(svc: Service, type: "Normal" | "Warning", reason: string, message: string): Promise<void> {
    const namespace = svc.metadata.namespace ?? "default";
    const dedupKey = `${svc.metadata.uid}|${reason}|${message}`;
    const now = Date.now();
    const last = this.#recent.get(dedupKey);
    if (last !== undefined && now - last < this.#eventDedupMs) return;
    this.#recent.set(dedupKey, now);
    if (this.#recent.size > 10_000) this.#prune(now);
    const time = new Date(now);
    const body: CoreV1Event = {
      metadata: { generateName: `${svc.metadata.name}.`, namespace },
      involvedObject: {
        kind: "Service",
        apiVersion: "v1",
        name: svc.metadata.name,
        namespace,
        uid: svc.metadata.uid,
        resourceVersion: svc.metadata.resourceVersion,
      },
      type,
      reason,
      message: message.slice(0, 1024),
      source: { component: COMPONENT },
      reportingComponent: COMPONENT,
      firstTimestamp: time,
      lastTimestamp: time,
      count: 1,
    };
    await this.#apis.core.createNamespacedEvent({ namespace, body });
  }

  #prune(now: number): void {
    for (const [k, t] of this.#recent) if (now - t >= this.#eventDedupMs) this.#recent.delete(k);
  }
}

async function ignoreGone(write: Promise<unknown>): Promise<void> {
  try {
    await write;
  } catch (err) {
    if (statusCodeOf(err) !== 404) throw err;
  }
}
