import PQueue from "p-queue";

/** Coalescing state is swept of quiet keys once it holds this many. */
const WINDOW_SWEEP_AT = 1000;

export interface WorkQueueOptions {
  concurrency: number;
  baseBackoffMs?: number;
  maxBackoffMs?: number;
  /** Milliseconds on a monotonic clock; injected by tests. */
  clock?: () => number;
}

/**
 * Keys to reconcile. A key is queued once however many times it is added; the same key never runs
 * twice at once (an add during its run re-queues it after); failures retry with per-key exponential
 * backoff, capped and jittered; concurrency is bounded by p-queue.
 */
export class WorkQueue {
  readonly #pq: PQueue;
  readonly #handler: (key: string) => Promise<void>;
  readonly #queued = new Set<string>();
  readonly #running = new Set<string>();
  readonly #dirty = new Set<string>();
  readonly #failures = new Map<string, number>();
  readonly #timers = new Map<string, NodeJS.Timeout>();
  readonly #base: number;
  readonly #max: number;
  readonly #clock: () => number;
  /** Keys added with addCoalesced: their window, and when their last run ended. */
  readonly #windows = new Map<string, { ms: number; lastEnd?: number; trailing?: boolean }>();
  #stopped = false;
  onError?: (key: string, err: unknown, retryInMs: number) => void;

  constructor(handler: (key: string) => Promise<void>, opts: WorkQueueOptions) {
    this.#handler = handler;
    this.#pq = new PQueue({ concurrency: opts.concurrency });
    this.#base = opts.baseBackoffMs ?? 1000;
    this.#max = opts.maxBackoffMs ?? 5 * 60_000;
    this.#clock = opts.clock ?? (() => performance.now());
  }

  add(key: string): void {
    if (this.#stopped) return;
    if (this.#running.has(key)) {
      this.#dirty.add(key);
      return;
    }
    if (this.#queued.has(key)) return;
    this.#queued.add(key);
    void this.#pq.add(() => this.#run(key));
  }

  /** Adds the key after a delay; a later addAfter for a key already waiting keeps the earlier time. */
  addAfter(key: string, ms: number): void {
    if (this.#stopped || this.#timers.has(key)) return;
    const timer = setTimeout(() => {
      this.#timers.delete(key);
      this.add(key);
    }, ms);
    timer.unref();
    this.#timers.set(key, timer);
  }

  /**
   * Leading edge, then coalescing: a key that is quiet (not waiting, queued or running, and its last
   * run ended at least `windowMs` ago) runs at once; what arrives while it runs or within `windowMs`
   * after it ends is gathered into one run at the end of that window.
   */
  addCoalesced(key: string, windowMs: number): void {
    if (this.#stopped || this.#timers.has(key) || this.#queued.has(key)) return;
    if (this.#windows.size > WINDOW_SWEEP_AT) this.#sweepWindows();
    const w = this.#windows.get(key) ?? { ms: windowMs };
    w.ms = windowMs;
    this.#windows.set(key, w);
    if (this.#running.has(key)) {
      w.trailing = true;
      return;
    }
    const since = w.lastEnd === undefined ? Number.POSITIVE_INFINITY : this.#clock() - w.lastEnd;
    // Even the leading edge waits for the current task to end: an informer firing handlers while it
    // applies a re-list must have applied all of it before a sync reads the cache.
    this.addAfter(key, since >= windowMs ? 0 : windowMs - since);
  }

  /** Forgets a key's coalescing state (its object is gone); a run in progress keeps its trailing run. */
  forget(key: string): void {
    if (!this.#running.has(key)) this.#windows.delete(key);
  }

  /** Drops the state of keys whose window has passed with nothing pending. */
  #sweepWindows(): void {
    const now = this.#clock();
    for (const [key, w] of this.#windows) {
      if (w.trailing || this.#running.has(key) || this.#timers.has(key)) continue;
      if (w.lastEnd === undefined || now - w.lastEnd >= w.ms) this.#windows.delete(key);
    }
  }

  get pending(): number {
    return this.#queued.size + this.#running.size + this.#timers.size;
  }

  /** Resolves when nothing is queued, running or waiting (retries included). */
  async drained(pollMs = 20): Promise<void> {
    while (this.pending > 0) await new Promise((r) => setTimeout(r, pollMs));
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    for (const t of this.#timers.values()) clearTimeout(t);
    this.#timers.clear();
    this.#pq.clear();
    await this.#pq.onIdle();
  }

  async #run(key: string): Promise<void> {
    this.#queued.delete(key);
    this.#running.add(key);
    try {
      await this.#handler(key);
      this.#failures.delete(key);
    } catch (err) {
      const n = (this.#failures.get(key) ?? 0) + 1;
      this.#failures.set(key, n);
      const backoff = Math.min(this.#max, this.#base * 2 ** (n - 1));
      const delay = Math.round(backoff / 2 + Math.random() * (backoff / 2));
      this.onError?.(key, err, delay);
      this.#running.delete(key);
      this.#dirty.delete(key);
      // The retry covers whatever arrived during the run.
      const w = this.#windows.get(key);
      if (w) {
        w.trailing = false;
        w.lastEnd = this.#clock();
      }
      this.addAfter(key, delay);
      return;
    }
    this.#running.delete(key);
    const w = this.#windows.get(key);
    if (w) {
      w.lastEnd = this.#clock();
      if (w.trailing) {
        w.trailing = false;
        this.#dirty.delete(key); // one run covers both
        this.addAfter(key, w.ms);
      }
    }
    if (this.#dirty.delete(key)) this.add(key);
  }
}
