// Shared helpers for the API conformance suite. Every test runs against the backend the other
// suites use (kubeBackendKind): the real kube-apiserver of this test process, or a fresh
// emulator. Either way a test gets a namespace of its own, plain-HTTP calls and a watch reader.
import { randomBytes } from "node:crypto";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { TestContext, TestOptions } from "node:test";
import { CoreV1Api, KubeConfig, type KubernetesObject, type V1Service } from "@kubernetes/client-node";
import { type Dispatcher, type Response, fetch as undiciFetch } from "undici";
import {
  type ApiServer,
  type ApiServerOptions,
  startApiServer,
} from "../../../src/sandbox/apiserver/index.ts";
import { type KubeBackendKind, kubeBackendKind, sharedControlPlane } from "../../support/kube-backend.ts";

/** A decoded JSON body; tests narrow it with the client-node model types. */
export type Body = KubernetesObject & Record<string, unknown>;

/** Where a test sends its requests, whichever server is behind it. */
export interface Target {
  readonly backend: KubeBackendKind;
  readonly url: string;
  /** This test's own namespace, deleted when the test ends. */
  readonly ns: string;
  /** Authentication every request carries. */
  readonly headers: Readonly<Record<string, string>>;
  /** What fetch needs to trust the server's certificate (undefined for plain HTTP). */
  readonly dispatcher: Dispatcher | undefined;
  /** A kubeconfig file for client-node and kubectl whose context namespace is `ns`. */
  readonly kubeconfigPath: string;
  /** The emulator behind the target, for emulator-only tests; undefined on a real server. */
  readonly emulator: ApiServer | undefined;
}

const backend = kubeBackendKind();

/** Why a test cannot run on this backend, or undefined when it can. */
const externalSkip =
  backend === "external"
    ? "the API conformance suite runs on its own servers (KUBE_BACKEND=real or emulator), not on a KUBECONFIG cluster"
    : undefined;

/** Options for a test that runs on every backend. */
export const everywhere: TestOptions = externalSkip ? { skip: externalSkip } : {};

/** Options for a test of the emulator's own features: skipped, with `reason`, elsewhere. */
export function emulatorOnly(reason: string): TestOptions {
  return backend === "emulator" ? {} : { skip: `emulator only: ${reason}` };
}

/** Options for a test of what only a real server does, skipped with `reason` on the emulator. */
export function realOnly(reason: string): TestOptions {
  if (externalSkip) return { skip: externalSkip };
  return backend === "emulator" ? { skip: `real server only: ${reason}` } : {};
}

/** A fresh namespace name, unique across the tests of one server. */
export function uniqueName(prefix: string): string {
  return `${prefix}-${randomBytes(4).toString("hex")}`;
}

/**
 * The target of this test: the shared real control plane, or a new emulator (`options` apply to
 * it only). Creates the test's namespace and removes it, with what is in it, when the test ends.
 */
export async function serve(t: TestContext, options: ApiServerOptions = {}): Promise<Target> {
  if (externalSkip) throw new Error(externalSkip);
  const ns = uniqueName("ns");
  const dir = await mkdtemp(join(tmpdir(), "apiserver-conformance-"));
  const target = backend === "real" ? await realTarget(ns, dir) : await emulatorTarget(ns, dir, options);
  const pending: (() => Promise<unknown>)[] = [];
  cleanups.set(target, pending);
  t.after(async () => {
    for (const cleanup of pending.reverse()) await cleanup();
    await removeNamespace(target);
    await target.emulator?.close();
    await rm(dir, { recursive: true, force: true });
  });
  await expectStatus(target, 201, "POST", "/api/v1/namespaces", { metadata: { name: ns } });
  return target;
}

/** For emulator-only tests: the target and the emulator behind it. */
export async function serveEmulator(
  t: TestContext,
  options: ApiServerOptions = {},
): Promise<{ target: Target; server: ApiServer }> {
  const target = await serve(t, options);
  if (!target.emulator) throw new Error("serveEmulator needs KUBE_BACKEND=emulator");
  return { target, server: target.emulator };
}

async function realTarget(ns: string, dir: string): Promise<Target> {
  const cp = await sharedControlPlane();
  const kubeconfig = JSON.parse(await readFile(cp.adminKubeconfig, "utf8")) as {
    contexts: { context: Record<string, string> }[];
  };
  for (const c of kubeconfig.contexts) c.context.namespace = ns;
  const kubeconfigPath = join(dir, "kubeconfig.json");
  await writeFile(kubeconfigPath, JSON.stringify(kubeconfig), { mode: 0o600 });
  return {
    backend,
    url: cp.url,
    ns,
    headers: { Authorization: `Bearer ${cp.adminToken}` },
    dispatcher: cp.dispatcher,
    kubeconfigPath,
    emulator: undefined,
  };
}

async function emulatorTarget(ns: string, dir: string, options: ApiServerOptions): Promise<Target> {
  const server = await startApiServer({ host: "127.0.0.1", port: 0, ...options });
  const kubeconfigPath = join(dir, "kubeconfig.yaml");
  await server.writeKubeconfig(kubeconfigPath, { namespace: ns });
  return {
    backend,
    url: server.url,
    ns,
    headers: {},
    dispatcher: undefined,
    kubeconfigPath,
    emulator: server,
  };
}

/**
 * Pods bound to a node wait for a kubelet there is none of, so they go first, at once; the
 * namespace controller then deletes the rest in the background.
 */
async function removeNamespace(target: Target): Promise<void> {
  const ns = `/api/v1/namespaces/${target.ns}`;
  await call(target, "DELETE", `${ns}/pods?gracePeriodSeconds=0`);
  await call(target, "DELETE", ns);
}

/** What each target deletes when its test ends, before its own namespace. */
const cleanups = new WeakMap<Target, (() => Promise<unknown>)[]>();

/** Deletes a cluster-scoped object (a Node, a namespace) when the test ends. */
export function removeAfter(target: Target, path: string): void {
  cleanups.get(target)?.push(() => call(target, "DELETE", path));
}

/** fetch with the target's credentials and certificate trust. */
export function send(
  target: Target,
  path: string,
  init: { method?: string; body?: string; headers?: Record<string, string>; signal?: AbortSignal } = {},
): Promise<Response> {
  return undiciFetch(target.url + path, {
    ...init,
    headers: { ...target.headers, ...init.headers },
    dispatcher: target.dispatcher,
  });
}

export interface Reply<T = Body> {
  status: number;
  body: T;
  headers: Headers;
}

export async function call<T = Body>(
  target: Target,
  method: string,
  path: string,
  body?: unknown,
  contentType = "application/json",
  headers: Record<string, string> = {},
): Promise<Reply<T>> {
  const all = { ...headers };
  let text: string | undefined;
  if (body !== undefined) {
    text = typeof body === "string" ? body : JSON.stringify(body);
    all["Content-Type"] = contentType;
  }
  const res = await send(target, path, { method, body: text, headers: all });
  const answer = await res.text();
  let parsed: T;
  try {
    parsed = (answer ? JSON.parse(answer) : {}) as T;
  } catch {
    parsed = { text: answer } as T;
  }
  return { status: res.status, body: parsed, headers: res.headers as unknown as Headers };
}

/** Like call, but fails the test unless the status is `expected`. */
export async function expectStatus<T = Body>(
  target: Target,
  expected: number,
  method: string,
  path: string,
  body?: unknown,
  contentType?: string,
): Promise<T> {
  const reply = await call<T>(target, method, path, body, contentType);
  if (reply.status !== expected) {
    throw new Error(
      `${method} ${path}: expected ${expected}, got ${reply.status}: ${JSON.stringify(reply.body)}`,
    );
  }
  return reply.body;
}

/** The collection path of a core/v1 resource in the test's namespace (or in `ns`). */
export function core(target: Target, resource: string, ns = target.ns): string {
  return `/api/v1/namespaces/${ns}/${resource}`;
}

/** The collection path of a named group's resource in the test's namespace. */
export function grouped(target: Target, groupVersion: string, resource: string, ns = target.ns): string {
  return `/apis/${groupVersion}/namespaces/${ns}/${resource}`;
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
  target: Target,
  name: string,
  spec: Record<string, unknown> = {},
  metadata: Record<string, unknown> = {},
  ns = target.ns,
): Promise<V1Service> {
  return expectStatus<V1Service>(
    target,
    201,
    "POST",
    core(target, "services", ns),
    service(name, spec, metadata),
  );
}

/**
 * A node port no Service holds now (node or health check port), for tests that request one:
 * a fixed number can collide with one the allocator handed out at random, here or in a
 * namespace of an earlier test still being deleted.
 */
export async function freeNodePort(target: Target, avoid: number[] = []): Promise<number> {
  const list = await expectStatus<{ items: V1Service[] }>(target, 200, "GET", "/api/v1/services");
  const held = new Set(avoid);
  for (const svc of list.items) {
    for (const port of svc.spec?.ports ?? []) if (port.nodePort) held.add(port.nodePort);
    if (svc.spec?.healthCheckNodePort) held.add(svc.spec.healthCheckNodePort);
  }
  for (;;) {
    const port = 30000 + Math.floor(Math.random() * 2768);
    if (!held.has(port)) return port;
  }
}

/** Creates a namespace besides the test's own, removed when the test ends. */
export async function createNamespace(target: Target, prefix: string): Promise<string> {
  const name = uniqueName(prefix);
  await expectStatus(target, 201, "POST", "/api/v1/namespaces", { metadata: { name } });
  removeAfter(target, `/api/v1/namespaces/${name}`);
  return name;
}

/**
 * Waits until the namespace's `default` ServiceAccount exists: a real server admits no Pod
 * before the serviceaccount controller has made it. The emulator admits Pods at once.
 */
export async function podsAdmitted(target: Target, ns = target.ns): Promise<void> {
  if (target.emulator) return;
  await eventually(
    `the default ServiceAccount of ${ns}`,
    async () => (await call(target, "GET", core(target, "serviceaccounts/default", ns))).status === 200,
    30_000,
  );
}

/** The resourceVersion a list of `path` reports: "now" for a watch that follows. */
export async function listVersion(target: Target, path: string): Promise<string> {
  const list = await expectStatus<{ metadata?: { resourceVersion?: string } }>(target, 200, "GET", path);
  const rv = list.metadata?.resourceVersion;
  if (!rv) throw new Error(`the list of ${path} has no resourceVersion`);
  return rv;
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
    target: Target,
    path: string,
    headers: Record<string, string> = {},
  ): Promise<WatchReader> {
    const reader = new WatchReader();
    const res = await send(target, path, { signal: reader.controller.signal, headers });
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
      if (buffer.trim()) this.events.push(JSON.parse(buffer) as WatchEvent);
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
  async until(predicate: (events: WatchEvent[]) => boolean, timeoutMs = 5000): Promise<WatchEvent[]> {
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

  async count(n: number, timeoutMs = 5000): Promise<WatchEvent[]> {
    return this.until((events) => events.length >= n, timeoutMs);
  }

  /** Resolves when the server ends the stream. */
  async end(timeoutMs = 5000): Promise<void> {
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
export async function watch(t: TestContext, target: Target, path: string, headers?: Record<string, string>) {
  const reader = await WatchReader.open(target, path, headers);
  t.after(() => reader.close());
  return reader;
}

export function kubeConfig(target: Target): KubeConfig {
  const kc = new KubeConfig();
  kc.loadFromFile(target.kubeconfigPath);
  return kc;
}

export function coreApi(target: Target): CoreV1Api {
  return kubeConfig(target).makeApiClient(CoreV1Api);
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
    await new Promise((resolve) => setTimeout(resolve, 20));
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
