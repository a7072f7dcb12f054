// Shared helpers for the API emulator conformance suite: a server per test, plain-HTTP calls,
// and a reader for watch streams.
import type { TestContext } from "node:test";
import { CoreV1Api, KubeConfig, type KubernetesObject, type V1Service } from "@kubernetes/client-node";
import {
  type ApiServer,
  type ApiServerOptions,
  startApiServer,
} from "../../../src/sandbox/apiserver/index.ts";

/** A decoded JSON body; tests narrow it with the client-node model types. */
export type Body = KubernetesObject & Record<string, unknown>;

/** Starts a server on 127.0.0.1:0 that is closed when the test ends. */
export async function serve(t: TestContext, options: ApiServerOptions = {}): Promise<ApiServer> {
  const server = await startApiServer({ host: "127.0.0.1", port: 0, ...options });
  t.after(() => server.close());
  return server;
}

export interface Reply<T = Body> {
  status: number;
  body: T;
  headers: Headers;
}

export async function call<T = Body>(
  server: ApiServer,
  method: string,
  path: string,
  body?: unknown,
  contentType = "application/json",
  headers: Record<string, string> = {},
): Promise<Reply<T>> {
  const init: RequestInit = { method, headers: { ...headers } };
  if (body !== undefined) {
    init.body = typeof body === "string" ? body : JSON.stringify(body);
    (init.headers as Record<string, string>)["Content-Type"] = contentType;
  }
  const res = await fetch(server.url + path, init);
  const text = await res.text();
  let parsed: T;
  try {
    parsed = (text ? JSON.parse(text) : {}) as T;
  } catch {
    parsed = { text } as T;
  }
  return { status: res.status, body: parsed, headers: res.headers };
}

/** Like call, but fails the test unless the status is `expected`. */
export async function expectStatus<T = Body>(
  server: ApiServer,
  expected: number,
  method: string,
  path: string,
  body?: unknown,
  contentType?: string,
): Promise<T> {
  const reply = await call<T>(server, method, path, body, contentType);
  if (reply.status !== expected) {
    throw new Error(
      `${method} ${path}: expected ${expected}, got ${reply.status}: ${JSON.stringify(reply.body)}`,
    );
  }
  return reply.body;
}

export function service(
  name: string,
  spec: Record<string, unknown> = {},
  metadata: Record<string, unknown> = {},
): V1Service {
  return {
    apiVersion: "v1",
    kind: "Service",
    metadata: { name, ...metadata },
    spec: { ports: [{ port: 80 }], ...spec },
  };
}

export async function createService(
  server: ApiServer,
  name: string,
  spec: Record<string, unknown> = {},
  metadata: Record<string, unknown> = {},
  ns = "default",
): Promise<V1Service> {
  return expectStatus<V1Service>(
    server,
    201,
    "POST",
    `/api/v1/namespaces/${ns}/services`,
    service(name, spec, metadata),
  );
}

export async function createNamespace(server: ApiServer, name: string): Promise<Body> {
  return expectStatus(server, 201, "POST", "/api/v1/namespaces", { metadata: { name } });
}

export interface WatchEvent {
  type: string;
  object: Body;
}

/** Reads a watch stream in the background; events accumulate in `events`. */
export class WatchReader {
  readonly events: WatchEvent[] = [];
  status = 0;
  ended = false;
  private readonly controller = new AbortController();
  private waiters: (() => void)[] = [];
  private done: Promise<void> = Promise.resolve();

  static async open(
    server: ApiServer,
    path: string,
    headers: Record<string, string> = {},
  ): Promise<WatchReader> {
    const reader = new WatchReader();
    const res = await fetch(server.url + path, { signal: reader.controller.signal, headers });
    reader.status = res.status;
    reader.done = reader.pump(res);
    return reader;
  }

  private async pump(res: Response): Promise<void> {
    const decoder = new TextDecoder();
    let buffer = "";
    try {
      for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
        buffer += decoder.decode(chunk, { stream: true });
        let newline = buffer.indexOf("\n");
        while (newline >= 0) {
          const line = buffer.slice(0, newline);
          buffer = buffer.slice(newline + 1);
          if (line.trim()) this.events.push(JSON.parse(line) as WatchEvent);
          newline = buffer.indexOf("\n");
        }
        this.wake();
      }
    } catch {
      // aborted or cut
    }
    this.ended = true;
    this.wake();
  }

  private wake(): void {
    const waiters = this.waiters;
    this.waiters = [];
    for (const w of waiters) w();
  }

  /** Resolves once `predicate(events)` holds; rejects after `timeoutMs`. */
  async until(predicate: (events: WatchEvent[]) => boolean, timeoutMs = 3000): Promise<WatchEvent[]> {
    const deadline = Date.now() + timeoutMs;
    while (!predicate(this.events)) {
      if (this.ended) throw new Error(`watch ended before the condition held; events: ${this.summary()}`);
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`timed out waiting for watch events; got: ${this.summary()}`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
    return this.events;
  }

  async count(n: number, timeoutMs = 3000): Promise<WatchEvent[]> {
    return this.until((events) => events.length >= n, timeoutMs);
  }

  /** Resolves when the server ends the stream. */
  async end(timeoutMs = 3000): Promise<void> {
    await this.until(() => this.ended, timeoutMs).catch((error: Error) => {
      if (!this.ended) throw error;
    });
  }

  summary(): string {
    return JSON.stringify(
      this.events.map((e) => `${e.type} ${e.object?.metadata?.name ?? String(e.object?.reason ?? "")}`),
    );
  }

  async close(): Promise<void> {
    this.controller.abort();
    await this.done;
  }
}

/** Opens a watch that is closed when the test ends. */
export async function watch(
  t: TestContext,
  server: ApiServer,
  path: string,
  headers?: Record<string, string>,
) {
  const reader = await WatchReader.open(server, path, headers);
  t.after(() => reader.close());
  return reader;
}

export function kubeConfig(server: ApiServer): KubeConfig {
  const kc = new KubeConfig();
  kc.loadFromString(server.kubeconfig());
  return kc;
}

export function coreApi(server: ApiServer): CoreV1Api {
  return kubeConfig(server).makeApiClient(CoreV1Api);
}

/** Polls `check` until it returns true; fails after `timeoutMs` with `what`. */
export async function eventually(
  what: string,
  check: () => boolean | Promise<boolean>,
  timeoutMs = 5000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

export function names(list: { items: KubernetesObject[] }): string[] {
  return list.items.map((i) => i.metadata?.name ?? "");
}

/** Value at a dotted path ("spec.ports.0.nodePort") of a decoded body, for ad hoc checks. */
export function at(value: unknown, path: string): unknown {
  let current: unknown = value;
  for (const key of path.split(".")) {
    if (current === null || typeof current !== "object") return undefined;
    current = (current as Record<string, unknown>)[key];
  }
  return current;
}
