// One open watch: newline-delimited JSON events over a chunked response, from a replay of the
// event window (or a synthetic ADDED per current object) followed by live events.
import type { ServerResponse } from "node:http";
import { expired } from "./errors.ts";
import type { JsonObject } from "./json.ts";
import type { Representation } from "./negotiation.ts";
import type { KubeObject } from "./object.ts";
import { fieldValue, groupVersion, type ResourceDefinition, toView } from "./resource.ts";
import type { FieldSelector, LabelSelector } from "./selectors.ts";
import type { Clock, Storage, StoredEvent, WatchSink } from "./storage.ts";
import { partialMetadata, toTable } from "./tables.ts";

/** A watcher whose client stops reading is cut off once this much output is queued. */
const maxQueuedBytes = 64 * 1024 * 1024;

export interface WatchRequest {
  def: ResourceDefinition;
  storage: Storage;
  clock: Clock;
  namespace: string | undefined;
  labels: LabelSelector;
  fields: FieldSelector;
  /** undefined or "0": start with the current state. */
  resourceVersion: number | undefined;
  /** The sendInitialEvents parameter; undefined when absent. */
  sendInitialEvents: boolean | undefined;
  bookmarkIntervalMs: number | undefined;
  timeoutMs: number | undefined;
  representation: Representation;
  /** Fault injection: answer with 410 Gone whatever the version. */
  forceGone: boolean;
}

type WatchType = "ADDED" | "MODIFIED" | "DELETED" | "BOOKMARK" | "ERROR";

/** JSON of an object as a non-converting resource shows it, shared by every watcher. */
const jsonCache = new WeakMap<KubeObject, string>();

function atVersion(obj: KubeObject, rv: number): KubeObject {
  return { ...obj, metadata: { ...obj.metadata, resourceVersion: String(rv) } };
}

export class WatchStream implements WatchSink {
  private readonly res: ServerResponse;
  private readonly req: WatchRequest;
  private unsubscribe: (() => void) | undefined;
  private timers: NodeJS.Timeout[] = [];
  private closed = false;
  private startRv = 0;
  private readonly onClose: () => void;

  constructor(res: ServerResponse, req: WatchRequest, onClose: () => void) {
    this.res = res;
    this.req = req;
    this.onClose = onClose;
    res.on("close", () => this.cleanup());
  }

  start(): void {
    const { req, res } = this;
    res.writeHead(200, { "Content-Type": "application/json", "Cache-Control": "no-cache, private" });
    res.flushHeaders();
    if (req.forceGone) {
      this.gone("too old resource version: injected fault");
      return;
    }
    let initial: StoredEvent[] | undefined;
    const fromState =
      req.sendInitialEvents ?? (req.resourceVersion === undefined || req.resourceVersion === 0);
    const resumes = req.resourceVersion !== undefined && req.resourceVersion !== 0;
    if (fromState) {
      initial = req.storage.list(req.namespace).map((object) => ({
        rv: Number(object.metadata.resourceVersion),
        type: "ADDED" as const,
        object,
        previous: undefined,
      }));
    } else if (!resumes) {
      initial = [];
    } else {
      initial = req.storage.eventsSince(req.resourceVersion ?? 0);
      if (initial === undefined) {
        this.gone(`too old resource version: ${req.resourceVersion} (${req.storage.oldestAvailable})`);
        return;
      }
    }
    this.startRv = req.resourceVersion ?? req.clock.current;
    this.unsubscribe = req.storage.subscribe(this);
    for (const event of initial) this.deliver(event);
    if (req.sendInitialEvents && req.bookmarkIntervalMs !== undefined) {
      this.bookmark({ "k8s.io/initial-events-end": "true" }, true);
    }
    this.scheduleBookmarks();
    if (req.timeoutMs !== undefined) this.timers.push(setTimeout(() => this.end(), req.timeoutMs));
  }

  /** Every interval, and (as kube's cacher does) once 2 s before the watch times out. */
  private scheduleBookmarks(): void {
    const { bookmarkIntervalMs, timeoutMs } = this.req;
    if (bookmarkIntervalMs === undefined) return;
    this.timers.push(setInterval(() => this.bookmark(), bookmarkIntervalMs));
    if (timeoutMs !== undefined && timeoutMs > 2000)
      this.timers.push(setTimeout(() => this.bookmark(), timeoutMs - 2000));
  }

  deliver(event: StoredEvent): void {
    if (this.closed) return;
    const { req } = this;
    if (req.namespace !== undefined && event.object.metadata.namespace !== req.namespace) return;
    const view = toView(req.def, event.object);
    const matches = this.matches(view);
    if (event.type === "MODIFIED") {
      const previous = event.previous ? toView(req.def, event.previous) : undefined;
      const was = previous ? this.matches(previous) : false;
      if (matches) this.write(was ? "MODIFIED" : "ADDED", this.render(view, event.object));
      // Leaving the selection is a DELETED of the object as it was, at the event's version.
      else if (was && previous) {
        const gone = atVersion(previous, event.rv);
        this.write("DELETED", this.render(gone, gone));
      }
      return;
    }
    if (matches) this.write(event.type, this.render(view, event.object));
  }

  /** Ends the stream the way the server ends a watch that timed out. */
  end(): void {
    if (this.closed) return;
    this.res.end();
    this.cleanup();
  }

  /** Cuts the connection without ending the response, like a network failure. */
  destroy(): void {
    if (this.closed) return;
    this.res.socket?.destroy();
    this.cleanup();
  }

  private matches(view: KubeObject): boolean {
    const { def, labels, fields } = this.req;
    return labels.matches(view.metadata.labels) && fields.matches((field) => fieldValue(def, view, field));
  }

  private render(view: KubeObject, stored: KubeObject): string {
    const { representation, def } = this.req;
    switch (representation.kind) {
      case "table":
        return JSON.stringify(
          toTable(def, [view], { tableVersion: representation.version, include: representation.include }),
        );
      case "partial":
        return JSON.stringify(partialMetadata(view, `meta.k8s.io/${representation.version}`));
      default: {
        if (view !== stored) return JSON.stringify(view);
        let json = jsonCache.get(stored);
        if (json === undefined) {
          json = JSON.stringify(stored);
          jsonCache.set(stored, json);
        }
        return json;
      }
    }
  }

  /**
   * A BOOKMARK: an empty object of the kind at the current version. Periodic ones wait until the
   * version has moved past the watch's start (the cacher never sends one older than that).
   */
  private bookmark(annotations?: Record<string, string>, always = false): void {
    const { def, representation, clock } = this.req;
    if (representation.kind === "table") return;
    if (!always && clock.current <= this.startRv) return;
    const metadata: JsonObject = { resourceVersion: String(clock.current) };
    if (annotations) metadata.annotations = annotations;
    const object =
      representation.kind === "partial"
        ? { kind: "PartialObjectMetadata", apiVersion: `meta.k8s.io/${representation.version}`, metadata }
        : {
            kind: def.kind,
            apiVersion: groupVersion(def),
            metadata,
            ...structuredClone(def.zeroFields ?? {}),
          };
    this.write("BOOKMARK", JSON.stringify(object));
  }

  private gone(message: string): void {
    this.write("ERROR", JSON.stringify(expired(message).toStatus()));
    this.end();
  }

  private write(type: WatchType, objectJson: string): void {
    if (this.closed) return;
    this.res.write(`{"type":"${type}","object":${objectJson}}\n`);
    if (this.res.writableLength > maxQueuedBytes) this.end();
  }

  private cleanup(): void {
    if (this.closed) return;
    this.closed = true;
    this.unsubscribe?.();
    for (const timer of this.timers) clearTimeout(timer);
    this.timers = [];
    this.onClose();
  }
}
