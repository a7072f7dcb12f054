import type { V1Lease } from "@kubernetes/client-node";
import type { Logger } from "pino";
import type { KubeApis } from "./client.ts";
import { statusCodeOf } from "./client.ts";

export interface LeaderElectionOptions {
  namespace: string;
  name: string;
  identity: string;
  leaseDurationSeconds?: number;
  renewIntervalMs?: number;
}

/**
 * Lease-based leader election on coordination.k8s.io/v1. Written here because client-node ships none.
 * A candidate takes the lease when it is free or expired; the holder renews it every renewInterval and
 * gives up (onLost) as soon as a renewal fails past the lease duration, so two leaders never overlap
 * by more than one lease period.
 */
export class LeaderElector {
  readonly #apis: KubeApis;
  readonly #opts: Required<LeaderElectionOptions>;
  readonly #log: Logger;
  #timer: NodeJS.Timeout | undefined;
  #leading = false;
  #lastRenew = 0;
  #stopped = false;
  #attempt: Promise<void> | undefined;

  constructor(apis: KubeApis, opts: LeaderElectionOptions, log: Logger) {
    this.#apis = apis;
    this.#opts = { leaseDurationSeconds: 15, renewIntervalMs: 2000, ...opts };
    this.#log = log;
  }

  get leading(): boolean {
    return this.#leading;
  }

  /** Resolves once this process leads; calls onLost if it stops leading later. Never resolves once stopped. */
  run(onLost: () => void): Promise<void> {
    return new Promise((resolve) => {
      const tick = async () => {
        if (this.#stopped) return;
        try {
          const ok = await this.#tryAcquireOrRenew();
          if (ok) {
            this.#lastRenew = Date.now();
            if (!this.#leading) {
              this.#leading = true;
              // Taken while stop() waited for this attempt: stop() releases it, nobody may lead on it.
              if (this.#stopped) return;
              this.#log.info({ lease: this.#opts.name, identity: this.#opts.identity }, "became leader");
              resolve();
            }
          }
        } catch (err) {
          this.#log.warn({ err: String(err) }, "leader election: lease update failed");
        }
        if (this.#stopped) return;
        if (this.#leading && Date.now() - this.#lastRenew > this.#opts.leaseDurationSeconds * 1000) {
          this.#leading = false;
          this.#log.error("lost leadership");
          onLost();
          return;
        }
        this.#timer = setTimeout(() => {
          this.#attempt = tick();
        }, this.#opts.renewIntervalMs);
      };
      this.#attempt = tick();
    });
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    if (this.#timer) clearTimeout(this.#timer);
    // An attempt in flight may still take the lease: wait for it, so that a taken lease is released.
    await this.#attempt;
    if (!this.#leading) return;
    this.#leading = false;
    // Release the lease so a standby takes over at once instead of waiting for it to expire.
    try {
      const lease = await this.#read();
      if (lease?.spec?.holderIdentity === this.#opts.identity) {
        lease.spec.holderIdentity = undefined;
        lease.spec.leaseDurationSeconds = 1;
        await this.#apis.coordination.replaceNamespacedLease({
          name: this.#opts.name,
          namespace: this.#opts.namespace,
          body: lease,
        });
      }
    } catch {
      // best effort: the lease expires by itself
    }
  }

  async #read(): Promise<V1Lease | undefined> {
    try {
      return await this.#apis.coordination.readNamespacedLease({
        name: this.#opts.name,
        namespace: this.#opts.namespace,
      });
    } catch (err) {
      if (statusCodeOf(err) === 404) return undefined;
      throw err;
    }
  }

  async #tryAcquireOrRenew(): Promise<boolean> {
    const { name, namespace, identity, leaseDurationSeconds } = this.#opts;
    const now = new Date();
    const stamp = microTime(now);
    const lease = await this.#read();
    if (!lease) {
      await this.#apis.coordination.createNamespacedLease({
        namespace,
        body: {
          metadata: { name, namespace },
          spec: {
            holderIdentity: identity,
            leaseDurationSeconds,
            acquireTime: stamp,
            renewTime: stamp,
            leaseTransitions: 0,
          },
        },
      });
      return true;
    }
    const spec = lease.spec ?? {};
    const holder = spec.holderIdentity;
    const renewed = spec.renewTime ? new Date(spec.renewTime).getTime() : 0;
    const expired = renewed + (spec.leaseDurationSeconds ?? leaseDurationSeconds) * 1000 < now.getTime();
    if (holder && holder !== identity && !expired) return false;
    const taking = holder !== identity;
    lease.spec = {
      ...spec,
      holderIdentity: identity,
      leaseDurationSeconds,
      renewTime: stamp,
      ...(taking ? { acquireTime: stamp, leaseTransitions: (spec.leaseTransitions ?? 0) + 1 } : {}),
    };
    // replace carries the resourceVersion we read: a concurrent candidate gets 409 and stays standby.
    await this.#apis.coordination.replaceNamespacedLease({ name, namespace, body: lease });
    return true;
  }
}

/**
 * A Lease's times are MicroTime, which kube-apiserver parses with exactly six fractional digits: the
 * millisecond ISO string client-node makes of a Date is refused with a 400. Typed as Date because
 * client-node's model says so; its serializer passes a string through unchanged.
 */
function microTime(date: Date): Date {
  return date.toISOString().replace(/\.(\d{3})Z$/, ".$1000Z") as unknown as Date;
}
