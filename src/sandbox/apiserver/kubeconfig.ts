import { stringify } from "yaml";

export interface KubeconfigOptions {
  /** Name of the cluster, user and context (default "nlb-sandbox"). */
  name?: string;
  /** Default namespace of the context (default "default"). */
  namespace?: string;
}

/** A kubeconfig for a plain-HTTP server with a dummy bearer token. */
export function kubeconfigYaml(server: string, options: KubeconfigOptions = {}): string {
  const name = options.name ?? "nlb-sandbox";
  return stringify({
    apiVersion: "v1",
    kind: "Config",
    clusters: [{ name, cluster: { server, "insecure-skip-tls-verify": true } }],
    users: [{ name, user: { token: "nlb-sandbox-token" } }],
    contexts: [{ name, context: { cluster: name, user: name, namespace: options.namespace ?? "default" } }],
    "current-context": name,
    preferences: {},
  });
}
