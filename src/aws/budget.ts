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
 * A token bucket kept as the generic cell rate algorithm: one "theoretical arrival time" instead of a
 * token count. A call is booked at a send time (the latest that every bucket it draws from allows),
 * so concurrent callers queue in order without a timer loop, and a rate change only affects calls
 * booked after it.
 */
export class TokenBucket {
  readonly burst: number;
  readonly #rate: number;
  readonly #clock: () => number;
  /** When the bucket would be full again with nothing more booked; at most `now` when it is full. */
  #tat: number;
  #slowUntil = 0;

  constructor(burst: number, refillPerSecond: number, clock: () => number) {
    this.burst = burst;
    this.#rate = refillPerSecond;
    this.#clock = clock;
    this.#tat = clock();
  }

  /** Refill per second now (lower for a while after a throttle). */
  get rate(): number {
    return this.#clock() < this.#slowUntil ? this.#rate * SLOWDOWN_FACTOR : this.#rate;
  }

  get #interval(): number {
    return 1000 / this.rate;
  }

  /** The earliest time (clock) a call may be sent. */
  earliest(): number {
    return Math.max(this.#clock(), this.#tat - (this.burst - 1) * this.#interval);
  }

  /** Books a call sent at `at` (no earlier than earliest()). */
  book(at: number): void {
    this.#tat = Math.max(this.#tat, at) + this.#interval;
  }

  /** Books a call at its earliest time; returns the milliseconds to wait before sending it. */
  take(): number {
    const at = this.earliest();
    this.book(at);
    return Math.max(0, Math.ceil(at - this.#clock()));
  }

  /** AWS throttled a call anyway: someone else spends the same budget, so empty it and go slower for a while. */
  slowDown(): void {
    const now = this.#clock();
    this.#slowUntil = now + SLOWDOWN_MS;
    this.#tat = Math.max(this.#tat, now + this.burst * this.#interval);
  }
}

interface Bucket {
  name: string;
  match: (service: AwsService, operation: string) => boolean;
  scope: "category" | "shared";
  bucket: TokenBucket;
}

export class BudgetStoppedError extends Error {
  override name = "BudgetStoppedError";
  constructor() {
    super("the controller is stopping: AWS call not sent");
  }
}

/** setTimeout's limit; no budget the flags allow waits that long. */
const MAX_WAIT_MS = 2 ** 31 - 1;

export class ApiBudget {
  readonly #buckets: Bucket[];
  readonly #clock: () => number;
  readonly #waiters = new Set<() => void>();
  #stopped = false;

  /**
   * `fraction` of each of AWS's `limits` (burst and refill), after `overrides`, which come first (a
   * call draws from the first matching category bucket only). An override replaces its call's
   * category bucket; the account-wide ELB bucket still applies to it.
   */
  constructor(
    limits: readonly ApiLimit[],
    fraction: number,
    overrides: readonly ThrottleOverride[] = [],
    options: { clock?: () => number; timeScale?: number } = {},
  ) {
    const clock = options.clock ?? (() => performance.now());
    this.#clock = clock;
    // Refills only: a benchmark's fault proxy compresses AWS's time, not the size of its buckets.
    const scale = options.timeScale ?? 1;
    this.#buckets = [
      ...overrides.map((o) => ({
        name: `${o.service}:${o.operation.source}`,
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

  /** Books the call in each of its buckets at one send time; returns how many milliseconds it must wait. */
  reserve(service: AwsService, operation: string): number {
    const buckets = this.bucketsOf(service, operation).map((b) => b.bucket);
    const now = this.#clock();
    const at = Math.max(now, ...buckets.map((b) => b.earliest()));
    for (const b of buckets) b.book(at);
    return Math.min(MAX_WAIT_MS, Math.ceil(at - now));
  }

  /** Waits `ms`, unless stop() comes first: then rejects, so nothing waiting is sent after a stop. */
  wait(ms: number): Promise<void> {
    if (this.#stopped) return Promise.reject(new BudgetStoppedError());
    return new Promise((resolve, reject) => {
      const waiter = () => {
        clearTimeout(timer);
        reject(new BudgetStoppedError());
      };
      const timer = setTimeout(() => {
        this.#waiters.delete(waiter);
        resolve();
      }, ms);
      this.#waiters.add(waiter);
    });
  }

  /** The controller is stopping: every call still waiting for its tokens fails instead of being sent. */
  stop(): void {
    this.#stopped = true;
    for (const w of this.#waiters) w();
    this.#waiters.clear();
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
      // Unanchored, as LBC matches it: `Describe` covers every Describe* call.
      operation = new RegExp(m[2] ?? "");
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
