// The controller's client-side share of the account's AWS API budget: token buckets per category
// (AWS's own, scaled by a fraction, since other clusters share the account) that every call waits
// on before it is sent, slowed down when AWS throttles anyway. Written here because the SDK's
// adaptive retry only reacts to throttling after it happened, per client, and knows no categories.
import { type ApiLimit, type AwsService, matchesCall } from "./limits.ts";

/** An explicit rate for some calls, in LBC's --aws-api-throttle form `service:operationRegex=rate:burst`. */
export interface ThrottleOverride {
  service: AwsService;
  operation: RegExp;
  refillPerSecond: number;
  burst: number;
}

/** How long a bucket stays slowed after AWS throttled a call it let through, and by how much. */
const SLOWDOWN_MS = 30_000;
const SLOWDOWN_FACTOR = 0.5;

/**
 * A token bucket that reserves: a call takes a token now, even one not there yet, and is told how
 * long to wait for it, so concurrent callers queue in order without a timer loop.
 */
export class TokenBucket {
  readonly burst: number;
  readonly #rate: number;
  readonly #clock: () => number;
  #tokens: number;
  #at: number;
  #slowUntil = 0;

  constructor(burst: number, refillPerSecond: number, clock: () => number) {
    this.burst = burst;
    this.#rate = refillPerSecond;
    this.#clock = clock;
    this.#tokens = burst;
    this.#at = clock();
  }

  /** Refill per second now (lower for a while after a throttle). */
  get rate(): number {
    return this.#clock() < this.#slowUntil ? this.#rate * SLOWDOWN_FACTOR : this.#rate;
  }

  /** Takes a token; returns the milliseconds to wait before using it (0 when one was there). */
  take(): number {
    const now = this.#clock();
    this.#tokens = Math.min(this.burst, this.#tokens + ((now - this.#at) / 1000) * this.rate);
    this.#at = now;
    this.#tokens -= 1;
    return this.#tokens >= 0 ? 0 : Math.ceil((-this.#tokens / this.rate) * 1000);
  }

  /** AWS throttled a call anyway: someone else spends the same budget, so go slower for a while. */
  slowDown(): void {
    this.#slowUntil = this.#clock() + SLOWDOWN_MS;
  }
}

interface Bucket {
  name: string;
  match: (service: AwsService, operation: string) => boolean;
  scope: "category" | "shared";
  bucket: TokenBucket;
}

export class ApiBudget {
  readonly #buckets: Bucket[];

  /**
   * `fraction` of each of AWS's `limits` (burst and refill), after `overrides`, which are taken as
   * given and come first (a call draws from the first matching category bucket only).
   */
  constructor(
    limits: readonly ApiLimit[],
    fraction: number,
    overrides: readonly ThrottleOverride[] = [],
    options: { clock?: () => number; timeScale?: number } = {},
  ) {
    const clock = options.clock ?? (() => performance.now());
    // Refills only: a benchmark's fault proxy compresses AWS's time, not the size of its buckets.
    const scale = options.timeScale ?? 1;
    this.#buckets = [
      ...overrides.map((o) => ({
        name: `${o.service}:${o.operation.source.replace(/^\^\(\?:(.*)\)\$$/, "$1")}`,
        match: (service: AwsService, operation: string) =>
          service === o.service && o.operation.test(operation),
        scope: "category" as const,
        bucket: new TokenBucket(o.burst, o.refillPerSecond * scale, clock),
      })),
      ...limits.map((l) => ({
        name: l.name,
        match: (service: AwsService, operation: string) => matchesCall(l.match, service, operation),
        scope: l.scope,
        bucket: new TokenBucket(Math.max(1, l.burst * fraction), l.refillPerSecond * fraction * scale, clock),
      })),
    ];
  }

  /** The buckets a call draws from: its first category bucket and every shared one. */
  bucketsOf(service: AwsService, operation: string): { name: string; bucket: TokenBucket }[] {
    const category = this.#buckets.find((b) => b.scope === "category" && b.match(service, operation));
    const shared = this.#buckets.filter((b) => b.scope === "shared" && b.match(service, operation));
    return [...(category ? [category] : []), ...shared];
  }

  /** Reserves the call's tokens; returns how many milliseconds it must wait first. */
  reserve(service: AwsService, operation: string): number {
    return Math.max(0, ...this.bucketsOf(service, operation).map((b) => b.bucket.take()));
  }

  throttled(service: AwsService, operation: string): void {
    for (const b of this.bucketsOf(service, operation)) b.bucket.slowDown();
  }
}

const SERVICE_IDS: Record<string, AwsService> = {
  elbv2: "elbv2",
  "elastic load balancing v2": "elbv2",
  elasticloadbalancing: "elbv2",
  ec2: "ec2",
};

/**
 * Parses `--aws-api-throttle`: comma-separated `service:operationRegex=rate:burst`, service `elbv2`
 * or `ec2` (LBC's `Elastic Load Balancing v2` and `EC2` too). Returns a problem as text, or the overrides.
 */
export function parseThrottleOverrides(value: string): ThrottleOverride[] | string {
  const out: ThrottleOverride[] = [];
  if (value.trim() === "") return out;
  for (const entry of value.split(",")) {
    const m = /^\s*([^:]+):(.+)=(\d+(?:\.\d+)?):(\d+)\s*$/.exec(entry);
    const service = m ? SERVICE_IDS[(m[1] ?? "").trim().toLowerCase()] : undefined;
    if (!m || !service)
      return `"${entry.trim()}" is not service:operationRegex=rate:burst with service elbv2 or ec2`;
    let operation: RegExp;
    try {
      operation = new RegExp(`^(?:${m[2]})$`);
    } catch {
      return `"${m[2]}" in "${entry.trim()}" is not a regular expression`;
    }
    const refillPerSecond = Number(m[3]);
    const burst = Number(m[4]);
    if (refillPerSecond <= 0 || burst < 1)
      return `"${entry.trim()}": rate must be above 0 and burst at least 1`;
    out.push({ service, operation, refillPerSecond, burst });
  }
  return out;
}
