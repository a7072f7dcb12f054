import { type KubeConfig, Watch } from "@kubernetes/client-node";
import type { Logger } from "pino";
import type { ObjectMeta } from "../model/types.ts";
import { statusCodeOf } from "./client.ts";

export interface KubeObject {
  metadata: ObjectMeta;
}

/** One page of a LIST: `continue` is set while more pages follow (a server may ignore the limit). */
export interface ListPage<T> {
  items: T[];
  resourceVersion: string;
  continue?: string;
}

/** `limit` 0 asks for everything in one answer. */
export type ListFn<T> = (page: { limit: number; continue?: string }) => Promise<ListPage<T>>;

/** client-node's parameters for one page. */
export function listParams(page: { limit: number; continue?: string }): {
  limit?: number;
  _continue?: string;
} {
  return {
    ...(page.limit > 0 ? { limit: page.limit } : {}),
    ...(page.continue ? { _continue: page.continue } : {}),
  };
}

/** A client-node list as one page of our plain types. */
export function pageOf<T>(list: {
  items: unknown[];
  metadata?: { resourceVersion?: string; _continue?: string };
}): ListPage<T> {
  return {
    items: list.items as T[],
    resourceVersion: list.metadata?.resourceVersion ?? "",
    ...(list.metadata?._continue ? { continue: list.metadata._continue } : {}),
  };
}

/** Objects per LIST page: the raw page, not the cache, is what peaks at start-up. */
export const LIST_PAGE_SIZE = 500;

export interface InformerHandlers<T> {
  onAdd?: (obj: T) => void;
  onUpdate?: (obj: T, old: T) => void;
  onDelete?: (obj: T) => void;
}

export const keyOf = (meta: ObjectMeta): string =>
  meta.namespace ? `${meta.namespace}/${meta.name}` : meta.name;

/**
 * List then watch one resource, keeping an exact cache. Supervised: any list or watch error restarts it
 * with jittered exponential backoff; a 410 Gone re-lists; a watch that stays silent past the inactivity
 * timeout is dropped and resumed from the last resourceVersion. Handlers only enqueue; a throwing
 * handler is logged, never allowed to stop the informer.
 */
export class Informer<T extends KubeObject> {
  readonly #cache = new Map<string, T>();
  /** An optional secondary index: index value -> keys of the objects that have it. */
  #indexOf: ((obj: T) => string | undefined) | undefined;
  readonly #index = new Map<string, Set<string>>();
  /** values() as an array, kept until the cache changes, so readers share one copy. */
  #all: T[] | undefined;
  readonly #handlers: InformerHandlers<T>[] = [];
  readonly #watch: Watch;
  #resourceVersion = "";
  #abort: AbortController | undefined;
  #stopped = false;
  #synced = false;
  #failures = 0;
  #timer: NodeJS.Timeout | undefined;
  #syncWaiters: (() => void)[] = [];

  readonly name: string;
  readonly path: string;
  readonly list: ListFn<T>;
  readonly log: Logger;
  readonly transform: (obj: T) => T;

  constructor(
    name: string,
    config: KubeConfig,
    path: string,
    list: ListFn<T>,
    log: Logger,
    transform?: (obj: T) => T,
  ) {
    this.name = name;
    this.path = path;
    this.list = list;
    this.log = log;
    this.transform = transform ?? ((o) => o);
    this.#watch = new Watch(config);
  }

  on(handlers: InformerHandlers<T>): void {
    this.#handlers.push(handlers);
  }

  get(key: string): T | undefined {
    return this.#cache.get(key);
  }

  values(): IterableIterator<T> {
    return this.#cache.values();
  }

  /** Every cached object, as one array shared by all readers until the cache changes. Do not mutate. */
  all(): readonly T[] {
    this.#all ??= [...this.#cache.values()];
    return this.#all;
  }

  /** Indexes the cache by `indexOf` (call before start); `byIndex` then finds objects by that value. */
  indexBy(indexOf: (obj: T) => string | undefined): void {
    if (this.#cache.size > 0 || this.#synced) throw new Error(`informer ${this.name}: indexBy after start`);
    this.#indexOf = indexOf;
  }

  byIndex(value: string): T[] {
    // An unindexed informer would answer "none", which a reconcile would act on: fail loudly instead.
    if (!this.#indexOf) throw new Error(`informer ${this.name} has no index`);
    const keys = this.#index.get(value);
    if (!keys) return [];
    return [...keys].flatMap((k) => this.#cache.get(k) ?? []);
  }

  #put(key: string, obj: T): T | undefined {
    const old = this.#cache.get(key);
    this.#cache.set(key, obj);
    this.#all = undefined;
    if (this.#indexOf) {
      const before = old ? this.#indexOf(old) : undefined;
      const after = this.#indexOf(obj);
      if (before !== after) this.#unindex(before, key);
      if (after !== undefined) {
        const keys = this.#index.get(after) ?? new Set<string>();
        keys.add(key);
        this.#index.set(after, keys);
      }
    }
    return old;
  }

  #remove(key: string): void {
    const old = this.#cache.get(key);
    if (!old) return;
    this.#cache.delete(key);
    this.#all = undefined;
    if (this.#indexOf) this.#unindex(this.#indexOf(old), key);
  }

  #unindex(value: string | undefined, key: string): void {
    if (value === undefined) return;
    const keys = this.#index.get(value);
    keys?.delete(key);
    if (keys?.size === 0) this.#index.delete(value);
  }

  get size(): number {
    return this.#cache.size;
  }

  get synced(): boolean {
    return this.#synced;
  }

  waitForSync(): Promise<void> {
    if (this.#synced) return Promise.resolve();
    return new Promise((resolve) => this.#syncWaiters.push(resolve));
  }

  start(): void {
    this.#stopped = false;
    void this.#relist();
  }

  stop(): void {
    this.#stopped = true;
    if (this.#timer) clearTimeout(this.#timer);
    this.#abort?.abort();
  }

  /** `unpaged` after a continue token expired: a list that outlives the token would never finish. */
  async #relist(unpaged = false): Promise<void> {
    if (this.#stopped) return;
    try {
      const { fresh, resourceVersion } = await this.#listAll(unpaged);
      for (const [key, old] of this.#cache) {
        if (!fresh.has(key)) {
          this.#remove(key);
          this.#emit("delete", old);
        }
      }
      for (const [key, obj] of fresh) {
        const old = this.#put(key, obj);
        if (!old) this.#emit("add", obj);
        else if (old.metadata.resourceVersion !== obj.metadata.resourceVersion)
          this.#emit("update", obj, old);
      }
      this.#resourceVersion = resourceVersion;
      this.#markSynced();
      await this.#startWatch();
    } catch (err) {
      if (statusCodeOf(err) === 410 && !unpaged && !this.#stopped) {
        // A continue token outlived etcd's compaction: list again at once, in one answer this time
        // (as client-go's pager does), since pages that slow would expire again.
        this.log.info({ informer: this.name }, "list continue token expired (410), listing again unpaged");
        void this.#relist(true);
        return;
      }
      this.#retry(err, true);
    }
  }

  /**
   * Pages through the LIST, slimming each object as its page arrives, so that only one page of full
   * objects is alive at a time. Every page is of the first page's snapshot (resourceVersion).
   */
  async #listAll(unpaged: boolean): Promise<{ fresh: Map<string, T>; resourceVersion: string }> {
    const fresh = new Map<string, T>();
    let token: string | undefined;
    let resourceVersion = "";
    do {
      if (this.#stopped) throw new Error("informer stopped");
      const limit = unpaged ? 0 : LIST_PAGE_SIZE;
      ({ token, resourceVersion } = await this.#listPage(fresh, limit, token));
    } while (token);
    return { fresh, resourceVersion };
  }

  /** One page into `fresh`; only its token and version outlive it, so the raw page can go. */
  async #listPage(
    fresh: Map<string, T>,
    limit: number,
    token: string | undefined,
  ): Promise<{ token: string | undefined; resourceVersion: string }> {
    const page = await this.list({ limit, ...(token ? { continue: token } : {}) });
    for (const raw of page.items) {
      const obj = this.transform(raw);
      fresh.set(keyOf(obj.metadata), obj);
    }
    return { token: page.continue || undefined, resourceVersion: page.resourceVersion };
  }

  async #startWatch(): Promise<void> {
    if (this.#stopped) return;
    let gone = false;
    const abort = await this.#watch.watch(
      this.path,
      { resourceVersion: this.#resourceVersion, allowWatchBookmarks: true },
      (type, raw) => {
        if (type === "ERROR") {
          if (raw?.code === 410) gone = true;
          return;
        }
        this.#failures = 0;
        const version = raw?.metadata?.resourceVersion;
        if (type === "BOOKMARK") {
          if (version) this.#resourceVersion = version;
          return;
        }
        const obj = this.transform(raw as T);
        const key = keyOf(obj.metadata);
        if (version) this.#resourceVersion = version;
        if (type === "DELETED") {
          this.#remove(key);
          this.#emit("delete", obj);
          return;
        }
        const old = this.#put(key, obj);
        if (old) this.#emit("update", obj, old);
        else this.#emit("add", obj);
      },
      (err) => {
        if (this.#stopped) return;
        if (gone || statusCodeOf(err) === 410) {
          this.log.info({ informer: this.name }, "watch expired (410 Gone), re-listing");
          void this.#relist();
        } else if (err && isIdleTimeout(err)) {
          // A quiet watch: resume from the last resourceVersion at once, nothing failed.
          this.log.debug({ informer: this.name }, "watch idle, resuming");
          void this.#startWatch().catch((e) => this.#retry(e, false));
        } else if (err) {
          this.#retry(err, false);
        } else {
          void this.#startWatch().catch((e) => this.#retry(e, false));
        }
      },
    );
    this.#abort = abort;
    if (this.#stopped) abort.abort();
  }

  #retry(err: unknown, relist: boolean): void {
    if (this.#stopped) return;
    this.#failures++;
    const base = Math.min(30_000, 200 * 2 ** Math.min(this.#failures, 8));
    const delay = base / 2 + Math.random() * (base / 2);
    this.log.warn({ informer: this.name, err: String(err), retryInMs: Math.round(delay) }, "informer error");
    this.#timer = setTimeout(() => {
      void (relist ? this.#relist() : this.#startWatch().catch((e) => this.#retry(e, true)));
    }, delay);
  }

  #markSynced(): void {
    if (this.#synced) return;
    this.#synced = true;
    for (const w of this.#syncWaiters.splice(0)) w();
  }

  #emit(kind: "add" | "update" | "delete", obj: T, old?: T): void {
    for (const h of this.#handlers) {
      try {
        if (kind === "add") h.onAdd?.(obj);
        else if (kind === "update") h.onUpdate?.(obj, old as T);
        else h.onDelete?.(obj);
      } catch (err) {
        this.log.error({ informer: this.name, err: String(err) }, "event handler threw");
      }
    }
  }
}

const isIdleTimeout = (err: unknown): boolean =>
  err instanceof Error && (err.name === "TimeoutError" || err.name === "AbortError");
