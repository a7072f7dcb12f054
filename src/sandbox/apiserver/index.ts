// A stateful, in-memory Kubernetes API server for tests and the `sandbox` command.
import { writeFile } from "node:fs/promises";
import type { Faults } from "./faults.ts";
import { type KubeconfigOptions, kubeconfigYaml } from "./kubeconfig.ts";
import { ApiHttpServer, type ApiServerLogger } from "./server.ts";

export type { DropOptions, FailureOptions, Faults, RequestFilter } from "./faults.ts";
export type { KubeconfigOptions } from "./kubeconfig.ts";
export type { ApiServerLogger } from "./server.ts";

export interface ApiServerOptions {
  /** Interface to listen on (default 127.0.0.1). */
  host?: string;
  /** Port (default 0: any free port). */
  port?: number;
  /** Events kept per resource for watches to resume from (default 1000); older versions get 410. */
  watchWindow?: number;
  /** Interval of BOOKMARK events on watches that allow them (default 60 000 ms). */
  bookmarkIntervalMs?: number;
  /** Largest accepted request body (default 3 MiB, as kube-apiserver). */
  maxBodyBytes?: number;
  logger?: ApiServerLogger;
}

export interface ApiServerStats {
  /** Current global resourceVersion. */
  resourceVersion: string;
  openWatches: number;
  requests: number;
}

export interface ApiServer {
  /** Base URL, e.g. http://127.0.0.1:39123 */
  readonly url: string;
  readonly host: string;
  readonly port: number;
  readonly faults: Faults;
  kubeconfig(options?: KubeconfigOptions): string;
  writeKubeconfig(path: string, options?: KubeconfigOptions): Promise<void>;
  stats(): ApiServerStats;
  /** Ends open watches, stops listening and closes every connection. */
  close(): Promise<void>;
}

export async function startApiServer(options: ApiServerOptions = {}): Promise<ApiServer> {
  const host = options.host ?? "127.0.0.1";
  const server = new ApiHttpServer({
    host,
    port: options.port ?? 0,
    watchWindow: options.watchWindow ?? 1000,
    bookmarkIntervalMs: options.bookmarkIntervalMs ?? 60_000,
    maxBodyBytes: options.maxBodyBytes ?? 3 * 1024 * 1024,
    logger: options.logger,
  });
  const address = await server.listen();
  const urlHost = address.family === "IPv6" ? `[${address.address}]` : address.address;
  const url = `http://${urlHost}:${address.port}`;
  let closing: Promise<void> | undefined;
  options.logger?.info({ url }, "kubernetes api emulator listening");
  return {
    url,
    host: address.address,
    port: address.port,
    faults: server.faults,
    kubeconfig: (kubeconfigOptions) => kubeconfigYaml(url, kubeconfigOptions),
    writeKubeconfig: (path, kubeconfigOptions) =>
      writeFile(path, kubeconfigYaml(url, kubeconfigOptions), { mode: 0o600 }),
    stats: () => ({
      resourceVersion: String(server.registry.clock.current),
      openWatches: server.openWatches,
      requests: server.requests,
    }),
    close: () => {
      closing ??= server.close();
      return closing;
    },
  };
}
