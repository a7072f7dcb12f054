import PQueue from "p-queue";

export interface WorkQueueOptions {
  concurrency: number;
  baseBackoffMs?: number;
  maxBackoffMs?: number;
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
  #stopped = false;
  onError?: (key: string, err: unknown, retryInMs: number) => void;

  constructor(handler: (key: string) => Promise<void>, opts: WorkQueueOptions) {
    this.#handler = handler;
    this.#pq = new PQueue({ concurrency: opts.concurrency });
    this.#base = opts.baseBackoffMs ?? 1000;
    this.#max = opts.maxBackoffMs ?? 5 * 60_000;
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
      this.addAfter(key, delay);
      return;
    }
    this.#running.delete(key);
    if (this.#dirty.delete(key)) this.add(key);
  }
}
