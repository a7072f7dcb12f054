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

  constructor(apis: KubeApis, opts: LeaderElectionOptions, log: Logger) {
    this.#apis = apis;
    this.#opts = { leaseDurationSeconds: 15, renewIntervalMs: 2000, ...opts };
    this.#log = log;
  }

  get leading(): boolean {
    return this.#leading;
  }

  /** Resolves once this process leads; calls onLost if it stops leading later. */
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
              this.#log.info({ lease: this.#opts.name, identity: this.#opts.identity }, "became leader");
              resolve();
            }
          }
        } catch (err) {
          this.#log.warn({ err: String(err) }, "leader election: lease update failed");
        }
        if (this.#leading && Date.now() - this.#lastRenew > this.#opts.leaseDurationSeconds * 1000) {
          this.#leading = false;
          this.#log.error("lost leadership");
          onLost();
          return;
        }
        this.#timer = setTimeout(tick, this.#opts.renewIntervalMs);
      };
      void tick();
    });
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    if (this.#timer) clearTimeout(this.#timer);
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
    const lease = await this.#read();
    if (!lease) {
      await this.#apis.coordination.createNamespacedLease({
        namespace,
        body: {
          metadata: { name, namespace },
          spec: {
            holderIdentity: identity,
            leaseDurationSeconds,
            acquireTime: now,
            renewTime: now,
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
      renewTime: now,
      ...(taking ? { acquireTime: now, leaseTransitions: (spec.leaseTransitions ?? 0) + 1 } : {}),
    };
    // replace carries the resourceVersion we read: a concurrent candidate gets 409 and stays standby.
    await this.#apis.coordination.replaceNamespacedLease({ name, namespace, body: lease });
    return true;
  }
}
