// The HTTP front: routing, request bodies, faults, discovery, and the resource handlers.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { setTimeout as sleep } from "node:timers/promises";
import { Discovery, serverVersion } from "./discovery.ts";
import { ApiError, internalError, pathNotFound } from "./errors.ts";
import { Faults } from "./faults.ts";
import { type HandlerContext, handleResource, type ResourceRoute } from "./handlers.ts";
import { resourceDefinitions } from "./kinds/index.ts";
import { negotiate } from "./negotiation.ts";
import { Registry } from "./registry.ts";
import { send, sendError, sendText } from "./respond.ts";
import type { WatchStream } from "./watch.ts";

/** The subset of a pino logger the server uses. */
export interface ApiServerLogger {
  debug(obj: object, msg?: string): void;
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
}

export interface ServerOptions {
  host: string;
  port: number;
  watchWindow: number;
  bookmarkIntervalMs: number;
  maxBodyBytes: number;
  logger: ApiServerLogger | undefined;
}

class BodyTooLarge extends Error {}

function readBody(req: IncomingMessage, limit: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on("data", (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) {
        reject(new BodyTooLarge());
        req.destroy();
        return;
      }
      chunks.push(chunk);
    });
    req.on("end", () => resolve(Buffer.concat(chunks)));
    req.on("error", reject);
  });
}

function decodeSegments(pathname: string): string[] {
  return pathname
    .split("/")
    .filter((s) => s !== "")
    .map((s) => {
      try {
        return decodeURIComponent(s);
      } catch {
        throw pathNotFound();
      }
    });
}

/** What the real server's mux says of a path outside every API group it serves: plain text. */
function pageNotFound(res: ServerResponse): void {
  sendText(res, 404, "404 page not found\n");
}

export class ApiHttpServer {
  readonly registry: Registry;
  readonly faults: Faults;
  readonly discovery: Discovery;
  private readonly options: ServerOptions;
  private readonly watches = new Set<WatchStream>();
  private readonly http: Server;
  private readonly ctx: HandlerContext;
  private requestCount = 0;

  constructor(options: ServerOptions) {
    this.options = options;
    this.registry = new Registry(resourceDefinitions, options.watchWindow);
    this.registry.seed();
    this.discovery = new Discovery(resourceDefinitions);
    this.faults = new Faults((drop) => this.dropWatches(drop.abrupt === true));
    this.ctx = {
      registry: this.registry,
      faults: this.faults,
      watches: this.watches,
      bookmarkIntervalMs: options.bookmarkIntervalMs,
    };
    this.http = createServer({ keepAliveTimeout: 30_000, requestTimeout: 0 }, (req, res) => {
      this.handle(req, res).catch((error: unknown) => this.fail(res, error));
    });
  }

  listen(): Promise<AddressInfo> {
    return new Promise((resolve, reject) => {
      this.http.once("error", reject);
      this.http.listen(this.options.port, this.options.host, () => {
        this.http.off("error", reject);
        resolve(this.http.address() as AddressInfo);
      });
    });
  }

  get openWatches(): number {
    return this.watches.size;
  }

  get requests(): number {
    return this.requestCount;
  }

  dropWatches(abrupt: boolean): number {
    const open = [...this.watches];
    for (const watch of open) {
      if (abrupt) watch.destroy();
      else watch.end();
    }
    return open.length;
  }

  async close(): Promise<void> {
    this.registry.stop();
    this.dropWatches(false);
    const closed = new Promise<void>((resolve) => this.http.close(() => resolve()));
    this.http.closeAllConnections();
    await closed;
  }

  private fail(res: ServerResponse, error: unknown): void {
    if (error instanceof ApiError) {
      sendError(res, error);
      return;
    }
    if (error instanceof BodyTooLarge) {
      sendError(res, new ApiError(413, "RequestEntityTooLarge", "the request body is too large"));
      return;
    }
    this.options.logger?.error({ err: error }, "request failed");
    sendError(res, internalError((error as Error)?.message ?? String(error)));
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const started = Date.now();
    this.requestCount++;
    const url = new URL(req.url ?? "/", "http://apiserver");
    const method = (req.method ?? "GET").toUpperCase();
    const logger = this.options.logger;
    if (logger) {
      res.on("finish", () =>
        logger.debug({ method, url: req.url, status: res.statusCode, ms: Date.now() - started }, "request"),
      );
    }
    const body =
      method === "GET" || method === "HEAD"
        ? Buffer.alloc(0)
        : await readBody(req, this.options.maxBodyBytes);
    const segments = decodeSegments(url.pathname);

    if (segments[0] === "__faults") {
      send(res, 200, this.faults.handleHttp(method, segments.slice(1).join("/"), url.searchParams));
      return;
    }
    if (this.faults.latencyMs > 0) await sleep(this.faults.latencyMs);
    const watch = url.searchParams.get("watch");
    const failure = this.faults.takeFailure({
      method,
      path: url.pathname,
      watch: segments.includes("watch") || watch === "true" || watch === "1",
    });
    if (failure) throw failure;

    const [root, ...rest] = segments;
    if (root === "version" && rest.length === 0) return send(res, 200, serverVersion);
    if ((root === "healthz" || root === "livez" || root === "readyz") && rest.length <= 1)
      return sendText(res, 200, "ok");
    if (root === "api" || root === "apis") return this.handleApi(root, rest, req, res, url, body);
    pageNotFound(res);
  }

  private handleApi(
    root: "api" | "apis",
    rest: string[],
    req: IncomingMessage,
    res: ServerResponse,
    url: URL,
    body: Buffer,
  ): Promise<void> | void {
    const rep = negotiate(req.headers.accept, null);
    const discoveryType =
      rep.kind === "discovery"
        ? `application/json;g=apidiscovery.k8s.io;v=${rep.version};as=APIGroupDiscoveryList`
        : undefined;
    if (rest.length === 0) {
      if (discoveryType && rep.kind === "discovery") {
        const doc = this.discovery.aggregated(root === "api", `apidiscovery.k8s.io/${rep.version}`);
        return send(res, 200, doc, { kind: "json" }, false, discoveryType);
      }
      const address = `${this.options.host}:${(this.http.address() as AddressInfo).port}`;
      return send(
        res,
        200,
        root === "api" ? this.discovery.apiVersions(address) : this.discovery.apiGroupList(),
        rep,
      );
    }
    let group = "";
    let version: string;
    let tail: string[];
    if (root === "api") {
      version = rest[0] ?? "";
      tail = rest.slice(1);
    } else {
      group = rest[0] ?? "";
      if (!this.discovery.apiGroup(group)) return pageNotFound(res);
      if (rest.length === 1) {
        const doc = this.discovery.apiGroup(group);
        if (!doc) throw pathNotFound();
        return send(res, 200, doc, rep);
      }
      version = rest[1] ?? "";
      tail = rest.slice(2);
    }
    if (!this.discovery.servesGroupVersion(group, version)) throw pathNotFound();
    if (tail.length === 0) return send(res, 200, this.discovery.resourceList(group, version), rep);
    const route = this.route(group, version, tail);
    return handleResource(this.ctx, route, { req, res, url, body });
  }

  /** Resolves the part of a path after /api/v1 or /apis/<group>/<version>. */
  private route(group: string, version: string, input: string[]): ResourceRoute {
    let segments = input;
    const watchPath = segments[0] === "watch";
    if (watchPath) segments = segments.slice(1);
    let namespace: string | undefined;
    const scoped =
      segments[0] === "namespaces" && segments.length >= 3
        ? this.discovery.find(group, version, segments[2] ?? "")
        : undefined;
    if (scoped?.namespaced) {
      namespace = segments[1];
      segments = segments.slice(2);
    }
    const [resource = "", name, subresource, ...extra] = segments;
    const def = this.discovery.find(group, version, resource);
    if (!def || extra.length > 0) throw pathNotFound();
    if (def.namespaced && namespace === undefined && name !== undefined) throw pathNotFound();
    if (subresource !== undefined && !def.subresources.includes(subresource)) throw pathNotFound();
    return { def, namespace, name, subresource, watchPath };
  }
}
