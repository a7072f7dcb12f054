import type { TargetRegistry } from "../aws/targets.ts";
import type { Informer } from "../kube/informer.ts";
import type { ServiceWriter } from "../kube/writers.ts";
import { gateConditions, hasGate } from "../model/readiness.ts";
import type { Pod } from "../model/types.ts";
import type { Logger } from "../observability/logger.ts";
import { describeError } from "./describe-error.ts";

const FIRST_POLL_MS = 2000;
const MAX_POLL_MS = 30_000;

interface Watched {
  name: string;
  timer: NodeJS.Timeout;
  delayMs: number;
}

/**
 * Sets `target-health.elbv2.k8s.aws/<target group>` on gated pods. After a target group's targets
 * change, its health is read with one DescribeTargetHealth, first a couple of seconds later, then
 * backing off, and only while some gated pod is not healthy yet: no polling once all are.
 */
export class GatePoller {
  readonly #targets: TargetRegistry;
  readonly #pods: Informer<Pod>;
  readonly #writer: ServiceWriter;
  readonly #log: Logger;
  readonly #watched = new Map<string, Watched>();
  #stopped = false;

  constructor(targets: TargetRegistry, pods: Informer<Pod>, writer: ServiceWriter, log: Logger) {
    this.#targets = targets;
    this.#pods = pods;
    this.#writer = writer;
    this.#log = log;
  }

  /** Called after a target group's targets were synced: starts polling if any pod waits on it. */
  targetsChanged(arn: string, targetGroupName: string): void {
    if (this.#stopped || !this.#gatedPods(targetGroupName).length) return;
    const current = this.#watched.get(arn);
    if (current) clearTimeout(current.timer);
    this.#schedule(arn, targetGroupName, FIRST_POLL_MS);
  }

  stop(): void {
    this.#stopped = true;
    for (const w of this.#watched.values()) clearTimeout(w.timer);
    this.#watched.clear();
  }

  #gatedPods(name: string): Pod[] {
    return [...this.#pods.values()].filter((p) => hasGate(p, name));
  }

  #schedule(arn: string, name: string, delayMs: number): void {
    const timer = setTimeout(() => void this.#poll(arn, name, delayMs), delayMs);
    timer.unref();
    this.#watched.set(arn, { name, timer, delayMs });
  }

  async #poll(arn: string, name: string, delayMs: number): Promise<void> {
    this.#watched.delete(arn);
    if (this.#stopped) return;
    try {
      const health = await this.#targets.describe(arn);
      const { updates, healthy } = gateConditions(this.#gatedPods(name), name, health);
      for (const u of updates) {
        const [namespace = "default", pod = ""] = u.pod.split("/");
        await this.#writer.setPodCondition(namespace, pod, {
          type: u.type,
          status: u.status,
          reason: u.reason,
          message: u.message,
        });
      }
      if (!healthy) this.#schedule(arn, name, Math.min(MAX_POLL_MS, delayMs * 2));
    } catch (err) {
      this.#log.warn({ targetGroup: name, err: describeError(err) }, "readiness gate poll failed");
      this.#schedule(arn, name, Math.min(MAX_POLL_MS, delayMs * 2));
    }
  }
}
