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
  return kc;
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
export const jsonPatch = setHeaderOptions("Content-Type", PatchStrategy.JsonPatch);

export function statusCodeOf(err: unknown): number | undefined {
  if (err && typeof err === "object") {
    if ("code" in err && typeof err.code === "number") return err.code;
    if ("statusCode" in err && typeof err.statusCode === "number") return err.statusCode;
  }
  return undefined;
}
