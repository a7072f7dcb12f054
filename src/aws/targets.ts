import {
  DeregisterTargetsCommand,
  DescribeTargetHealthCommand,
  type ElasticLoadBalancingV2Client,
  RegisterTargetsCommand,
} from "@aws-sdk/client-elastic-load-balancing-v2";
import type { Target } from "../model/types.ts";
import { batches, planSharedTargets, planTargets, type SharedTargetChanges } from "../plan/targets.ts";

export interface TargetHealth extends Target {
  state: string;
  reason?: string;
}

/**
 * Where the targets this cluster registered into shared (multi-cluster) target groups are kept, so a
 * restarted controller still knows which targets are its own. Implemented in src/kube.
 */
export interface TargetRecord {
  /** The targets recorded for the group, or undefined when nothing was recorded yet. */
  read(arn: string): Promise<Target[] | undefined>;
  /**
   * Records `targets` in place of `base` (what was read): what was added and removed since `base` is
   * applied to the entry as stored, so a concurrent writer's changes are kept.
   */
  write(arn: string, targets: Target[], base: Target[] | undefined): Promise<void>;
}

export interface SyncOptions {
  /** The group was just created: it has no targets, nothing to read. */
  empty?: boolean;
  /**
   * The record to keep, for a group shared with other clusters (only targets recorded there are
   * deregistered). Asked when the sync starts, not when it is queued: the Service may have changed.
   */
  record?: () => TargetRecord | undefined;
}

export interface SyncResult {
  registered: number;
  deregistered: number;
  calls: number;
}

/**
 * The targets registered in each target group, as last read or written by this process. A group is
 * described once (DescribeTargetHealth) and then kept current by our own Register/Deregister calls,
 * so an endpoint change costs exactly the mutating calls it needs. `forget` forces a fresh read.
 */
export class TargetRegistry {
  readonly #elbv2: ElasticLoadBalancingV2Client;
  readonly #known = new Map<string, Target[]>();

  constructor(elbv2: ElasticLoadBalancingV2Client) {
    this.#elbv2 = elbv2;
  }

  readonly #running = new Map<string, Promise<unknown>>();

  /** Brings one group's targets in line; syncs of the same group run one after another. */
  sync(arn: string, desired: Target[], opts: SyncOptions = {}): Promise<SyncResult> {
    const previous = this.#running.get(arn) ?? Promise.resolve();
    const run = previous.catch(() => {}).then(() => this.#sync(arn, desired, opts));
    this.#running.set(arn, run);
    const done = () => {
      if (this.#running.get(arn) === run) this.#running.delete(arn);
    };
    run.then(done, done);
    return run;
  }

  async #sync(arn: string, desired: Target[], opts: SyncOptions): Promise<SyncResult> {
    let calls = 0;
    let actual = opts.empty ? [] : this.#known.get(arn);
    if (!actual) {
      actual = (await this.describe(arn))
        .filter((t) => t.state !== "draining")
        .map(({ id, port }) => ({ id, port }));
      calls++;
    }
    const record = opts.record?.();
    const recorded = record ? await record.read(arn) : undefined;
    const changes: SharedTargetChanges = record
      ? planSharedTargets(desired, actual, recorded)
      : planTargets(desired, actual);
    const { register, deregister } = changes;
    if (record && changes.recordBefore) await record.write(arn, changes.recordBefore, recorded);
    // Register first, so traffic always has somewhere to go while old targets drain.
    for (const batch of batches(register)) {
      await this.#elbv2.send(
        new RegisterTargetsCommand({
          TargetGroupArn: arn,
          Targets: batch.map((t) => ({ Id: t.id, Port: t.port })),
        }),
      );
      calls++;
    }
    for (const batch of batches(deregister)) {
      await this.#elbv2.send(
        new DeregisterTargetsCommand({
          TargetGroupArn: arn,
          Targets: batch.map((t) => ({ Id: t.id, Port: t.port })),
        }),
      );
      calls++;
    }
    if (record && changes.recordAfter)
      await record.write(arn, changes.recordAfter, changes.recordBefore ?? recorded);
    // What the group holds now: foreign targets of a shared group stay in it.
    const gone = new Set(deregister.map(targetKey));
    const now = new Map(
      [...actual, ...register].map(({ id, port }) => [targetKey({ id, port }), { id, port }]),
    );
    this.#known.set(
      arn,
      [...now.values()].filter((t) => !gone.has(targetKey(t))),
    );
    return { registered: register.length, deregistered: deregister.length, calls };
  }

  async describe(arn: string): Promise<TargetHealth[]> {
    const out = await this.#elbv2.send(new DescribeTargetHealthCommand({ TargetGroupArn: arn }));
    return (out.TargetHealthDescriptions ?? []).map((d) => ({
      id: d.Target?.Id ?? "",
      port: d.Target?.Port ?? 0,
      state: d.TargetHealth?.State ?? "unknown",
      ...(d.TargetHealth?.Reason ? { reason: d.TargetHealth.Reason } : {}),
    }));
  }

  forget(arn: string): void {
    this.#known.delete(arn);
  }

  invalidateAll(): void {
    this.#known.clear();
  }
}

const targetKey = (t: Target) => `${t.id}:${t.port}`;
