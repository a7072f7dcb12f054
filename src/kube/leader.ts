import { type V1Lease, V1MicroTime } from "@kubernetes/client-node";
import type { Logger } from "pino";
import type { KubeApis } from "./client.ts";
import { kubeStatusOf, statusCodeOf } from "./client.ts";

export interface LeaderElectionOptions {
  namespace: string;
  name: string;
  identity: string;
  /** How long a standby waits, after it last saw the lease change, before it takes it. */
  leaseDurationSeconds?: number;
  /** How long the leader keeps leading without a successful renewal; shorter than the lease. */
  renewDeadlineMs?: number;
  /** Time between attempts to take or renew the lease. */
  retryPeriodMs?: number;
  /** Milliseconds since the epoch; injected by tests. */
  clock?: () => number;
}

type Outcome = "leading" | "standby" | "taken";

/**
 * Lease-based leader election on coordination.k8s.io/v1, with client-go's safety rules; written here
 * because client-node ships none. A standby takes the lease only once it has seen the lease unchanged
 * for a whole lease duration on its own clock (so clock skew between nodes does not matter). The
 * leader stops leading when a renewal has not succeeded within the renew deadline, measured by a
 * timer of its own so that a hung request cannot keep it leading, or as soon as it sees another
 * holder: it has stopped before any standby may start.
 */
export class LeaderElector {
  readonly #apis: KubeApis;
  readonly #opts: Required<LeaderElectionOptions>;
  readonly #log: Logger;
  #timer: NodeJS.Timeout | undefined;
  #deadline: NodeJS.Timeout | undefined;
  #leading = false;
  #stopped = false;
  #attempt: Promise<void> | undefined;
  /** The lease as last read and when this process first saw it so (its own clock). */
  #observed: { record: string; at: number } | undefined;
  #onLost: () => void = () => {};
  #becameLeader: () => void = () => {};

  constructor(apis: KubeApis, opts: LeaderElectionOptions, log: Logger) {
    this.#apis = apis;
    this.#opts = {
      leaseDurationSeconds: 15,
      renewDeadlineMs: 10_000,
      retryPeriodMs: 2000,
      clock: Date.now,
      ...opts,
    };
    this.#log = log;
  }

  get leading(): boolean {
    return this.#leading;
  }

  /** Resolves once this process leads; calls onLost if it stops leading later. Never resolves once stopped. */
  run(onLost: () => void): Promise<void> {
    this.#onLost = onLost;
    return new Promise((resolve) => {
      this.#becameLeader = resolve;
      this.#attempt = this.#tick();
    });
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    clearTimeout(this.#timer);
    clearTimeout(this.#deadline);
    // An attempt in flight may still take the lease: wait for it (not forever), so that it is released.
    await withTimeout(this.#attempt ?? Promise.resolve(), this.#opts.retryPeriodMs).catch(() => {});
    if (!this.#leading) return;
    this.#leading = false;
    // Release the lease so a standby takes over at once instead of waiting for it to expire.
    try {
      await withTimeout(this.#release(), this.#opts.retryPeriodMs);
    } catch (err) {
      this.#log.warn({ err: describe(err) }, "leader election: lease not released, it expires by itself");
    }
  }

  async #tick(): Promise<void> {
    if (this.#stopped) return;
    const started = this.#opts.clock();
    let outcome: Outcome = "standby";
    try {
      outcome = await withTimeout(this.#tryAcquireOrRenew(started), this.#opts.renewDeadlineMs);
    } catch (err) {
      this.#log.warn({ err: describe(err) }, "leader election: lease update failed");
    }
    if (outcome === "leading") {
      // Taken while stop() waited for this attempt: stop() releases it, nobody may lead on it.
      const first = !this.#leading;
      this.#leading = true;
      if (this.#stopped) return;
      this.#armDeadline(started);
      if (first) {
        this.#log.info({ lease: this.#opts.name, identity: this.#opts.identity }, "became leader");
        this.#becameLeader();
      }
    } else if (outcome === "taken") {
      this.#lose("the lease has another holder");
    }
    if (this.#stopped) return;
    this.#timer = setTimeout(() => {
      this.#attempt = this.#tick();
    }, this.#opts.retryPeriodMs);
  }

  /** Leading ends renewDeadline after the last successful renewal, whatever the requests do. */
  #armDeadline(renewedAt: number): void {
    clearTimeout(this.#deadline);
    const left = this.#opts.renewDeadlineMs - (this.#opts.clock() - renewedAt);
    this.#deadline = setTimeout(() => this.#lose("lease not renewed within the renew deadline"), left);
  }

  #lose(why: string): void {
    if (!this.#leading || this.#stopped) return;
    this.#leading = false;
    this.#stopped = true;
    clearTimeout(this.#timer);
    clearTimeout(this.#deadline);
    this.#log.error({ lease: this.#opts.name, why }, "lost leadership");
    this.#onLost();
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

  async #tryAcquireOrRenew(now: number): Promise<Outcome> {
    const { name, namespace, identity, leaseDurationSeconds } = this.#opts;
    const stamp = new V1MicroTime(now);
    const lease = await this.#read();
    if (!lease) {
      if (this.#leading) return "taken";
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
      return "leading";
    }
    const spec = lease.spec ?? {};
    const record = JSON.stringify([spec.holderIdentity, spec.renewTime, spec.leaseDurationSeconds]);
    if (record !== this.#observed?.record) this.#observed = { record, at: now };
    const holder = spec.holderIdentity;
    if (holder && holder !== identity) {
      if (this.#leading) return "taken";
      const duration = (spec.leaseDurationSeconds ?? leaseDurationSeconds) * 1000;
      if (this.#observed.at + duration > now) return "standby";
    }
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
    return "leading";
  }

  async #release(): Promise<void> {
    const lease = await this.#read();
    if (lease?.spec?.holderIdentity !== this.#opts.identity) return;
    lease.spec.holderIdentity = undefined;
    lease.spec.leaseDurationSeconds = 1;
    await this.#apis.coordination.replaceNamespacedLease({
      name: this.#opts.name,
      namespace: this.#opts.namespace,
      body: lease,
    });
  }
}

/** Rejects after `ms`; the request itself runs on, its answer ignored. */
function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

function describe(err: unknown): string {
  const status = kubeStatusOf(err);
  return status ? `${status.code} ${status.reason}: ${status.message}` : String(err);
}
