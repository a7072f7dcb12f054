// Objects of one storage (one resource, shared by all its API versions), the window of recent
// events that watches resume from, and the sinks of the open watches.
import { type KubeObject, objectKey } from "./object.ts";

export type EventType = "ADDED" | "MODIFIED" | "DELETED";

export interface StoredEvent {
  readonly rv: number;
  readonly type: EventType;
  /** The object after the change; for DELETED its last state, stamped with the delete's version. */
  readonly object: KubeObject;
  /** The object before the change (MODIFIED only), for selector transitions. */
  readonly previous: KubeObject | undefined;
}

export interface WatchSink {
  deliver(event: StoredEvent): void;
}

/** The global resourceVersion counter: every write, of any resource, takes the next value. */
export class Clock {
  private value: number;

  constructor(start = 0) {
    this.value = start;
  }

  get current(): number {
    return this.value;
  }

  next(): number {
    this.value += 1;
    return this.value;
  }
}

/** A bounded, version-ordered log of events. */
class EventWindow {
  private events: StoredEvent[] = [];
  private start = 0;
  /** Events with rv <= this were dropped; a watch from an older version has missed some. */
  private evictedThrough: number;
  private readonly capacity: number;

  constructor(capacity: number, startRv: number) {
    this.capacity = Math.max(1, capacity);
    this.evictedThrough = startRv;
  }

  push(event: StoredEvent): void {
    this.events.push(event);
    if (this.events.length - this.start > this.capacity) {
      const dropped = this.events[this.start];
      if (dropped) this.evictedThrough = dropped.rv;
      this.start += 1;
      if (this.start >= this.capacity) {
        this.events = this.events.slice(this.start);
        this.start = 0;
      }
    }
  }

  get oldestAvailable(): number {
    return this.evictedThrough;
  }

  /** Events after `rv`, or undefined when some of them were already dropped. */
  since(rv: number): StoredEvent[] | undefined {
    if (rv < this.evictedThrough) return undefined;
    let lo = this.start;
    let hi = this.events.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if ((this.events[mid]?.rv ?? 0) <= rv) lo = mid + 1;
      else hi = mid;
    }
    return this.events.slice(lo);
  }
}

function inNamespace(keys: string[], objects: Map<string, KubeObject>, namespace?: string): KubeObject[] {
  const out: KubeObject[] = [];
  const prefix = namespace ? `${namespace}/` : undefined;
  for (const key of keys) {
    if (prefix !== undefined && !key.startsWith(prefix)) continue;
    const obj = objects.get(key);
    if (obj) out.push(obj);
  }
  return out;
}

export class Storage {
  readonly name: string;
  private readonly objects = new Map<string, KubeObject>();
  private sortedKeys: string[] | undefined;
  private readonly window: EventWindow;
  private readonly sinks = new Set<WatchSink>();

  constructor(name: string, windowSize: number, startRv: number) {
    this.name = name;
    this.window = new EventWindow(windowSize, startRv);
  }

  get(key: string): KubeObject | undefined {
    return this.objects.get(key);
  }

  get size(): number {
    return this.objects.size;
  }

  /** Objects in key order (namespace, then name), optionally of one namespace. */
  list(namespace?: string): KubeObject[] {
    if (this.sortedKeys === undefined) this.sortedKeys = [...this.objects.keys()].sort();
    return inNamespace(this.sortedKeys, this.objects, namespace);
  }

  /**
   * The objects as they were at `rv` (what etcd serves for a list at a revision), rebuilt by
   * undoing the events after it; undefined when the window no longer reaches back that far.
   */
  listAt(rv: number, namespace?: string): KubeObject[] | undefined {
    const later = this.window.since(rv);
    if (later === undefined) return undefined;
    if (later.length === 0) return this.list(namespace);
    const objects = new Map(this.objects);
    for (const event of later.reverse()) {
      const key = objectKey(event.object.metadata.namespace, event.object.metadata.name ?? "");
      if (event.type === "ADDED") objects.delete(key);
      else if (event.previous) objects.set(key, event.previous);
    }
    return inNamespace([...objects.keys()].sort(), objects, namespace);
  }

  /** Records a change whose object already carries its new resourceVersion, and tells watchers. */
  commit(event: StoredEvent, key: string): void {
    if (event.type === "DELETED") {
      this.objects.delete(key);
      this.sortedKeys = undefined;
    } else {
      if (!this.objects.has(key)) this.sortedKeys = undefined;
      this.objects.set(key, event.object);
    }
    this.window.push(event);
    for (const sink of this.sinks) sink.deliver(event);
  }

  eventsSince(rv: number): StoredEvent[] | undefined {
    return this.window.since(rv);
  }

  get oldestAvailable(): number {
    return this.window.oldestAvailable;
  }

  subscribe(sink: WatchSink): () => void {
    this.sinks.add(sink);
    return () => this.sinks.delete(sink);
  }
}
