import { createServer, type Server } from "node:http";
import type { Metrics } from "./metrics.ts";

export interface ListenAddress {
  host: string;
  port: number;
}

/** Parses `:8080`, `0.0.0.0:8080` or `127.0.0.1:0`; `0` turns the endpoint off. */
export function parseBindAddress(value: string): ListenAddress | undefined {
  if (value === "0") return undefined;
  const m = /^(.*):(\d{1,5})$/.exec(value);
  const port = m ? Number(m[2]) : Number.NaN;
  if (!m || port > 65535) throw new Error(`"${value}" is not an address: use [host]:port, e.g. :8080`);
  return { host: m[1] || "0.0.0.0", port };
}

/** /metrics for Prometheus. */
export function serveMetrics(addr: ListenAddress, metrics: Metrics): Promise<Server> {
  const server = createServer((req, res) => {
    if (req.url !== "/metrics") {
      res.writeHead(404).end();
      return;
    }
    metrics.registry
      .metrics()
      .then((body) => res.writeHead(200, { "content-type": metrics.registry.contentType }).end(body))
      .catch(() => res.writeHead(500).end());
  });
  return listen(server, addr);
}

/** /healthz (the process loop is alive) and /readyz (caches synced, leading or standing by). */
export function serveHealth(addr: ListenAddress, ready: () => boolean): Promise<Server> {
  const server = createServer((req, res) => {
    if (req.url === "/healthz") res.writeHead(200).end("ok");
    else if (req.url === "/readyz") res.writeHead(ready() ? 200 : 503).end(ready() ? "ok" : "not ready");
    else res.writeHead(404).end();
  });
  return listen(server, addr);
}

function listen(server: Server, addr: ListenAddress): Promise<Server> {
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(addr.port, addr.host, () => resolve(server));
  });
}
