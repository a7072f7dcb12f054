// Fault injection for tests: failures, latency, conflicts, expired and dropped watches. Driven
// from JS (server.faults) or over HTTP under /__faults for a server in another process.
import { ApiError } from "./errors.ts";
import type { JsonObject } from "./json.ts";

/** Which requests a fault applies to; every given field must match. */
export interface RequestFilter {
  method?: string;
  /** Substring of, or pattern for, the URL path. */
  path?: string | RegExp;
  /** Only watch requests (true) or only non-watch requests (false). */
  watch?: boolean;
}

export interface RequestInfo {
  method: string;
  path: string;
  watch: boolean;
}

interface Armed {
  remaining: number;
  filter: RequestFilter;
}

export interface FailureOptions extends RequestFilter {
  /** HTTP status of the injected failure: 500 (default), 503, 504, 429, or 410 (an expired list continue token). */
  code?: number;
}

const failureReasons: Record<number, string> = {
  410: "Expired",
  429: "TooManyRequests",
  500: "InternalError",
  503: "ServiceUnavailable",
  504: "Timeout",
};

function matches(filter: RequestFilter, info: RequestInfo): boolean {
  if (filter.method && filter.method.toUpperCase() !== info.method) return false;
  if (filter.watch !== undefined && filter.watch !== info.watch) return false;
  if (filter.path instanceof RegExp) return filter.path.test(info.path);
  if (typeof filter.path === "string") return info.path.includes(filter.path);
  return true;
}

function take(list: Armed[], info: RequestInfo): Armed | undefined {
  const armed = list.find((a) => a.remaining > 0 && matches(a.filter, info));
  if (!armed) return undefined;
  armed.remaining -= 1;
  if (armed.remaining === 0) list.splice(list.indexOf(armed), 1);
  return armed;
}

export interface DropOptions {
  /** Destroy the connections instead of ending the responses cleanly. */
  abrupt?: boolean;
}

export class Faults {
  private failures: (Armed & { code: number })[] = [];
  private conflicts: Armed[] = [];
  private gone = 0;
  private latency = 0;
  private readonly dropper: (options: DropOptions) => number;

  constructor(dropper: (options: DropOptions) => number) {
    this.dropper = dropper;
  }

  /** The next `count` matching requests fail with a Status of `code` (default 500). */
  failNextRequests(count: number, options: FailureOptions = {}): void {
    const { code = 500, ...filter } = options;
    if (!failureReasons[code]) throw new Error(`unsupported failure code ${code}`);
    this.failures.push({ remaining: count, filter, code });
  }

  /** Every request waits this long before it is handled (0 turns it off). */
  setLatency(ms: number): void {
    this.latency = Math.max(0, ms);
  }

  get latencyMs(): number {
    return this.latency;
  }

  /** The next `count` watches answer with an in-stream 410 Expired, whatever their version. */
  expireNextWatches(count = 1): void {
    this.gone += count;
  }

  /** The next `count` matching writes (POST, PUT, PATCH, DELETE) fail with 409 Conflict. */
  conflictOnNextWrites(count = 1, filter: RequestFilter = {}): void {
    this.conflicts.push({ remaining: count, filter });
  }

  /** Closes every open watch now; returns how many were open. */
  dropWatches(options: DropOptions = {}): number {
    return this.dropper(options);
  }

  reset(): void {
    this.failures = [];
    this.conflicts = [];
    this.gone = 0;
    this.latency = 0;
  }

  state(): JsonObject {
    return {
      latencyMs: this.latency,
      pendingFailures: this.failures.reduce((n, f) => n + f.remaining, 0),
      pendingConflicts: this.conflicts.reduce((n, f) => n + f.remaining, 0),
      pendingExpiredWatches: this.gone,
    };
  }

  /** The injected failure for this request, if one is armed for it. */
  takeFailure(info: RequestInfo): ApiError | undefined {
    const armed = take(this.failures, info) as (Armed & { code: number }) | undefined;
    if (!armed) return undefined;
    const reason = failureReasons[armed.code] ?? "InternalError";
    const details = armed.code === 429 ? { retryAfterSeconds: 1 } : undefined;
    return new ApiError(armed.code, reason, `injected fault: ${reason}`, details);
  }

  takeConflict(info: RequestInfo): boolean {
    if (!["POST", "PUT", "PATCH", "DELETE"].includes(info.method)) return false;
    return take(this.conflicts, info) !== undefined;
  }

  takeExpiredWatch(): boolean {
    if (this.gone === 0) return false;
    this.gone -= 1;
    return true;
  }

  /** POST /__faults/<action>?params; GET /__faults returns the armed faults. */
  handleHttp(method: string, action: string, query: URLSearchParams): JsonObject {
    if (method === "GET" && action === "") return this.state();
    if (method !== "POST") throw new ApiError(405, "MethodNotAllowed", "use POST /__faults/<action>");
    const count = Number(query.get("count") ?? "1");
    const filter: RequestFilter = {};
    const m = query.get("method");
    const p = query.get("path");
    const w = query.get("watch");
    if (m) filter.method = m;
    if (p) filter.path = p;
    if (w !== null) filter.watch = w === "true" || w === "1";
    switch (action) {
      case "drop-watches":
        return { dropped: this.dropWatches({ abrupt: query.get("abrupt") === "true" }) };
      case "expire-next-watch":
        this.expireNextWatches(count);
        break;
      case "fail-next":
        this.failNextRequests(count, { ...filter, code: Number(query.get("code") ?? "500") });
        break;
      case "latency":
        this.setLatency(Number(query.get("ms") ?? "0"));
        break;
      case "conflict-next":
        this.conflictOnNextWrites(count, filter);
        break;
      case "reset":
        this.reset();
        break;
      default:
        throw new ApiError(404, "NotFound", `unknown fault action "${action}"`);
    }
    return this.state();
  }
}
