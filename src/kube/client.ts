import {
  CoordinationV1Api,
  CoreV1Api,
  DiscoveryV1Api,
  KubeConfig,
  PatchStrategy,
  setHeaderOptions,
} from "@kubernetes/client-node";

export interface KubeApis {
  config: KubeConfig;
  core: CoreV1Api;
  discovery: DiscoveryV1Api;
  coordination: CoordinationV1Api;
}

/** --kubeconfig, else $KUBECONFIG, else the in-cluster service account. */
export function loadKubeConfig(path?: string): KubeConfig {
  const kc = new KubeConfig();
  const file = path ?? process.env.KUBECONFIG;
  if (file) kc.loadFromFile(file);
  else kc.loadFromCluster();
  reuseDispatcher(kc);
  return kc;
}

/**
 * client-node 2.0 builds a new undici Agent for every request and never closes it: about 27 KiB
 * and an open socket leak per API call, fatal for a long-running controller. One Agent per
 * KubeConfig is kept and reused instead; credentials still travel per request in the headers.
 */
function reuseDispatcher(kc: KubeConfig): void {
  const target = kc as unknown as { createDispatcher: (...args: unknown[]) => unknown };
  const original = target.createDispatcher.bind(kc);
  target.createDispatcher = (...args: unknown[]) => {
    let cached = dispatchers.get(kc);
    if (!cached) {
      cached = original(...args) as Closable;
      dispatchers.set(kc, cached);
    }
    return cached;
  };
}

interface Closable {
  close?: () => Promise<void>;
}
const dispatchers = new WeakMap<KubeConfig, Closable>();

/** Closes the kept-alive connections of a KubeConfig, so a one-shot command can exit. */
export async function closeKubeConnections(kc: KubeConfig): Promise<void> {
  await dispatchers.get(kc)?.close?.();
  dispatchers.delete(kc);
}

export function makeKubeApis(config: KubeConfig): KubeApis {
  return {
    config,
    core: config.makeApiClient(CoreV1Api),
    discovery: config.makeApiClient(DiscoveryV1Api),
    coordination: config.makeApiClient(CoordinationV1Api),
  };
}

export const mergePatch = setHeaderOptions("Content-Type", PatchStrategy.MergePatch);
export const strategicMergePatch = setHeaderOptions("Content-Type", PatchStrategy.StrategicMergePatch);
export const jsonPatch = setHeaderOptions("Content-Type", PatchStrategy.JsonPatch);

export function statusCodeOf(err: unknown): number | undefined {
  if (err && typeof err === "object") {
    if ("code" in err && typeof err.code === "number") return err.code;
    if ("statusCode" in err && typeof err.statusCode === "number") return err.statusCode;
  }
  return undefined;
}

/** The Status a kube-apiserver error answer carries (client-node keeps its raw body), if any. */
export function kubeStatusOf(err: unknown): { code: number; reason: string; message: string } | undefined {
  const code = statusCodeOf(err);
  if (code === undefined || !err || typeof err !== "object" || !("body" in err)) return undefined;
  let body: unknown = err.body;
  if (typeof body === "string") {
    const text = body;
    try {
      body = JSON.parse(text);
    } catch {
      return { code, reason: "", message: text };
    }
  }
  if (!body || typeof body !== "object") return undefined;
  const status = body as { reason?: unknown; message?: unknown };
  return {
    code,
    reason: typeof status.reason === "string" ? status.reason : "",
    message: typeof status.message === "string" ? status.message : "",
  };
}
