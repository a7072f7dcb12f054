// A proxy in front of a real kube-apiserver that injects the faults the emulator can
// inject natively (same Faults class, same knobs): failed requests, 409s on writes, latency,
// watches expired with an in-stream 410, and watches dropped. Credentials pass through untouched,
// so RBAC still judges every request by the caller's own identity.

import type { IncomingMessage, ServerResponse } from "node:http";
import { createServer, request as httpsRequest } from "node:https";
import type { Socket } from "node:net";
import { setTimeout as sleep } from "node:timers/promises";
import { type DropOptions, Faults } from "../../src/sandbox/apiserver/faults.ts";

export interface KubeFaultProxy {
  /** https://127.0.0.1:<port>, serving kube-apiserver's own certificate: a kubeconfig's server, to go through the proxy. */
  readonly url: string;
  readonly faults: Faults;
  /** Requests the proxy saw: method, path (with query) and the status it answered. */
  readonly requests: { method: string; path: string; status: number }[];
  close(): Promise<void>;
}

export async function startKubeFaultProxy(upstream: {
  url: string;
  caPem: string;
  keyPem: string;
}): Promise<KubeFaultProxy> {
  const target = new URL(upstream.url);
  const watches = new Set<{ res: ServerResponse; socket: Socket; upstream: IncomingMessage }>();
  const dropWatches = ({ abrupt = false }: DropOptions): number => {
    const n = watches.size;
    for (const w of watches) {
      if (abrupt) w.socket.destroy();
      else {
        // Detached first: an event arriving after end() would otherwise be a write after end.
        // The upstream request goes when the response closes.
        w.upstream.unpipe(w.res);
        w.res.end();
      }
    }
    watches.clear();
    return n;
  };
  const faults = new Faults(dropWatches);
  const requests: KubeFaultProxy["requests"] = [];

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const url = new URL(req.url ?? "/", "http://proxy");
    const method = req.method ?? "GET";
    const watch =
      method === "GET" && (url.searchParams.get("watch") === "true" || url.searchParams.get("watch") === "1");
    const info = { method, path: url.pathname, watch };
    const record = (status: number) => requests.push({ method, path: req.url ?? "/", status });
    if (faults.latencyMs > 0) await sleep(faults.latencyMs);
    const failure = faults.takeFailure(info);
    if (failure) return answer(res, failure.code, failure.toStatus(), record);
    if (faults.takeConflict(info)) {
      return answer(
        res,
        409,
        {
          kind: "Status",
          apiVersion: "v1",
          metadata: {},
          status: "Failure",
          reason: "Conflict",
          message:
            "Operation cannot be fulfilled: the object has been modified; please apply your changes to the latest version and try again (injected fault)",
          code: 409,
        },
        record,
      );
    }
    if (watch && faults.takeExpiredWatch()) {
      record(200);
      res.writeHead(200, { "Content-Type": "application/json" });
      const status = {
        kind: "Status",
        apiVersion: "v1",
        metadata: {},
        status: "Failure",
        message: "too old resource version: injected fault",
        reason: "Expired",
        code: 410,
      };
      res.end(`${JSON.stringify({ type: "ERROR", object: status })}\n`);
      return;
    }
    const out = httpsRequest(
      {
        host: target.hostname,
        port: target.port,
        method,
        path: req.url,
        headers: { ...req.headers, host: target.host },
        ca: upstream.caPem,
      },
      (upstreamRes) => {
        record(upstreamRes.statusCode ?? 502);
        res.writeHead(upstreamRes.statusCode ?? 502, upstreamRes.headers);
        res.on("error", () => {});
        if (watch) {
          const entry = { res, socket: req.socket, upstream: upstreamRes };
          watches.add(entry);
          res.once("close", () => watches.delete(entry));
          // Each event reaches the client as it arrives.
          res.flushHeaders();
        }
        upstreamRes.pipe(res);
      },
    );
    out.on("error", (error) => {
      if (!res.headersSent)
        answer(res, 502, { kind: "Status", status: "Failure", message: String(error), code: 502 }, record);
      else res.destroy();
    });
    res.once("close", () => out.destroy());
    req.pipe(out);
  };

  const server = createServer({ cert: upstream.caPem, key: upstream.keyPem }, (req, res) => {
    handle(req, res).catch((error: unknown) => {
      if (!res.headersSent) res.writeHead(500);
      res.end(String(error));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as { port: number };
  return {
    url: `https://127.0.0.1:${port}`,
    faults,
    requests,
    close: async () => {
      dropWatches({ abrupt: true });
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}

function answer(res: ServerResponse, code: number, body: object, record: (status: number) => void): void {
  record(code);
  res.writeHead(code, { "Content-Type": "application/json" });
  res.end(JSON.stringify(body));
}
