import {
  DeregisterTargetsCommand,
  DescribeTargetHealthCommand,
  type ElasticLoadBalancingV2Client,
  RegisterTargetsCommand,
} from "@aws-sdk/client-elastic-load-balancing-v2";
import type { Target } from "../model/types.ts";
import { batches, planTargets } from "../plan/targets.ts";

export interface TargetHealth extends Target {
  state: string;
  reason?: string;
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

  async sync(arn: string, desired: Target[], opts: { fresh?: boolean } = {}): Promise<SyncResult> {
    let calls = 0;
    let actual = opts.fresh ? [] : this.#known.get(arn);
    if (!actual) {
      actual = (await this.describe(arn))
        .filter((t) => t.state !== "draining")
        .map(({ id, port }) => ({ id, port }));
      calls++;
    }
    const { register, deregister } = planTargets(desired, actual);
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
    this.#known.set(
      arn,
      desired.map(({ id, port }) => ({ id, port })),
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
