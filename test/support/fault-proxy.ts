/**
 * An HTTP proxy between the AWS SDK and moto that records every call and injects the faults real AWS
 * produces: throttling, 5xx, latency, dropped connections, and AWS's per-account token buckets.
 *
 * It forwards requests untouched (signature included), so it suits endpoints that do not check the
 * signature against the Host header: moto, LocalStack. It is not meant to sit in front of real AWS.
 */
import { randomUUID } from "node:crypto";
import http from "node:http";
import type { AddressInfo } from "node:net";
import { setTimeout as sleep } from "node:timers/promises";
import { type ApiLimit, AWS_API_LIMITS } from "../../src/aws/limits.ts";

export type AwsService = "elbv2" | "ec2" | "other";

/** "throttled", "error5xx" and "dropped" cover both injected and upstream outcomes; a number is any other upstream status. */
export type CallOutcome = "ok" | "throttled" | "error5xx" | "dropped" | number;

export interface CallRecord {
  service: AwsService;
  /** The query-protocol `Action` (e.g. `RegisterTargets`), the JSON-protocol target, or the request path. */
  operation: string;
  /** The request's query-protocol parameters (`SubnetMappings.member.1.AllocationId`...), when form-encoded. */
  params?: Record<string, string>;
  outcome: CallOutcome;
  /** HTTP status the client saw; undefined when the connection was dropped. */
  status: number | undefined;
  /** Epoch milliseconds at which the request arrived. */
  startedAt: number;
  durationMs: number;
  /** True when the proxy made the outcome up (a fault rule or an empty token bucket). */
  injected: boolean;
  /** Whether the request reached the target (false for faults injected before forwarding). */
  forwarded: boolean;
  /** Name of the token bucket that was empty, when that is why the call was throttled. */
  bucket?: string;
  /** AWS error code of a failed call, when there is one. */
  errorCode?: string;
}

/** Selects calls. Operation patterns may end in `*` (prefix match); `*` alone matches all. */
export interface CallFilter {
  service?: AwsService | readonly AwsService[];
  operation?: string | readonly string[];
}

export interface FaultRule {
  /** Calls the rule applies to; all calls when omitted. The first matching rule wins. */
  match?: CallFilter;
  /** Share of calls answered with the service's real throttling error (0..1). */
  throttleRate?: number;
  /** Share of calls answered with a 5xx error (0..1). */
  errorRate?: number;
  /** Status for `errorRate`; default 500. */
  errorStatus?: number;
  /** An AWS error code to answer with instead (status `errorStatus`, default 400), e.g. DependencyViolation. */
  errorCode?: string;
  /** Share of calls whose connection is destroyed before the request is forwarded (0..1). */
  dropRate?: number;
  /** Share of calls forwarded and executed whose connection is then destroyed without the answer (0..1). */
  dropResponseRate?: number;
  /** Added to every matching call, before anything else happens. */
  latencyMs?: number;
  /** Uniform extra latency in [0, jitterMs). */
  jitterMs?: number;
}

/** AWS's token buckets: the same facts the controller budgets against (src/aws/limits.ts). */
export type TokenBucketLimit = ApiLimit;
export const awsAccountLimits: readonly TokenBucketLimit[] = AWS_API_LIMITS;

export interface FaultProxyOptions {
  /** Base URL of the real endpoint, e.g. moto's. */
  target: string;
  host?: string;
  port?: number;
  faults?: FaultRule | readonly FaultRule[];
  /** Token buckets to enforce; none by default. Pass `awsAccountLimits` to imitate an AWS account. */
  limits?: readonly TokenBucketLimit[];
  /** Simulated seconds per real second for bucket refills; 10 refills ten times as fast. Default 1. */
  timeScale?: number;
  /** Seed of the random source behind every rate; the same seed and call order give the same faults. */
  seed?: number;
}

export interface FaultProxy {
  readonly url: string;
  /** Every finished call, in the order it finished. Cleared in place by resetCalls(). */
  readonly calls: CallRecord[];
  setFaults(faults?: FaultRule | readonly FaultRule[]): void;
  /** Replaces the token buckets (all start full); undefined turns them off. */
  setLimits(limits?: readonly TokenBucketLimit[], timeScale?: number): void;
  /** Restarts the random source. */
  reseed(seed: number): void;
  resetCalls(): void;
  close(): Promise<void>;
}

interface Call {
  service: AwsService;
  operation: string;
  params?: Record<string, string>;
}

export function matchesCall(filter: CallFilter | undefined, call: Call): boolean {
  if (filter === undefined) return true;
  if (filter.service !== undefined) {
    const services: readonly AwsService[] =
      typeof filter.service === "string" ? [filter.service] : filter.service;
    if (!services.includes(call.service)) return false;
  }
  if (filter.operation !== undefined) {
    const patterns: readonly string[] =
      typeof filter.operation === "string" ? [filter.operation] : filter.operation;
    const hit = patterns.some((pattern) =>
      pattern.endsWith("*") ? call.operation.startsWith(pattern.slice(0, -1)) : call.operation === pattern,
    );
    if (!hit) return false;
  }
  return true;
}

/** Tells the service apart by the query-protocol API version, then by the SigV4 credential scope. */
function classify(method: string, url: string, headers: http.IncomingHttpHeaders, body: string): Call {
  const query = new URL(url, "http://proxy.invalid").searchParams;
  const form = (headers["content-type"] ?? "").includes("x-www-form-urlencoded")
    ? new URLSearchParams(body)
    : undefined;
  const param = (name: string): string | undefined => form?.get(name) ?? query.get(name) ?? undefined;
  const version = param("Version");
  const scope = /Credential=[^/]+\/[^/]+\/[^/]+\/([^/]+)\/aws4_request/.exec(
    headers.authorization ?? "",
  )?.[1];
  let service: AwsService = "other";
  if (version === "2015-12-01" || (version === undefined && scope === "elasticloadbalancing"))
    service = "elbv2";
  else if (version === "2016-11-15" || (version === undefined && scope === "ec2")) service = "ec2";
  const target = headers["x-amz-target"];
  const operation =
    param("Action") ??
    (typeof target === "string" ? target.slice(target.lastIndexOf(".") + 1) : undefined) ??
    `${method} ${url.split("?")[0]}`;
  return { service, operation, ...(form ? { params: Object.fromEntries(form) } : {}) };
}

function escapeXml(text: string): string {
  return text.replace(/[<>&"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/** The error document each service really sends: awsQuery `ErrorResponse` for ELBv2, ec2Query `Response` for EC2. */
function awsError(service: AwsService, code: string, message: string, requestId: string): string {
  if (service === "ec2") {
    return `<?xml version="1.0" encoding="UTF-8"?>\n<Response><Errors><Error><Code>${code}</Code><Message>${escapeXml(message)}</Message></Error></Errors><RequestID>${requestId}</RequestID></Response>`;
  }
  const type = code === "Throttling" ? "Sender" : "Receiver";
  return `<ErrorResponse xmlns="http://elasticloadbalancing.amazonaws.com/doc/2015-12-01/"><Error><Type>${type}</Type><Code>${code}</Code><Message>${escapeXml(message)}</Message></Error><RequestId>${requestId}</RequestId></ErrorResponse>`;
}

interface InjectedError {
  status: number;
  code: string;
  message: string;
}

function throttlingError(service: AwsService): InjectedError {
  return service === "ec2"
    ? { status: 503, code: "RequestLimitExceeded", message: "Request limit exceeded." }
    : { status: 400, code: "Throttling", message: "Rate exceeded" };
}

function serverError(service: AwsService, status: number): InjectedError {
  if (status === 503) {
    return service === "ec2"
      ? { status, code: "Unavailable", message: "The server is overloaded and can't handle the request." }
      : { status, code: "ServiceUnavailable", message: "Service Unavailable" };
  }
  return service === "ec2"
    ? { status, code: "InternalError", message: "An internal error has occurred." }
    : {
        status,
        code: "InternalFailure",
        message: "The request processing has failed because of an unknown error.",
      };
}

const THROTTLING_CODES = new Set(["Throttling", "ThrottlingException", "RequestLimitExceeded"]);

function upstreamOutcome(status: number, errorCode: string | undefined): CallOutcome {
  if (status >= 200 && status < 300) return "ok";
  if (errorCode !== undefined && THROTTLING_CODES.has(errorCode)) return "throttled";
  if (status >= 500) return "error5xx";
  return status;
}

/** mulberry32: small, fast and good enough to make fault rates reproducible. */
function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

class TokenBuckets {
  readonly #limits: readonly TokenBucketLimit[];
  readonly #timeScale: number;
  readonly #tokens: number[];
  readonly #refilledAt: number[];

  constructor(limits: readonly TokenBucketLimit[], timeScale: number) {
    this.#limits = limits;
    this.#timeScale = timeScale;
    this.#tokens = limits.map((limit) => limit.burst);
    const now = performance.now();
    this.#refilledAt = limits.map(() => now);
  }

  /** Takes one token from each bucket the call draws from, or none and returns the first empty bucket. */
  take(call: Call): string | undefined {
    const category = this.#limits.findIndex(
      (limit) => limit.scope === "category" && matchesCall(limit.match, call),
    );
    const drawn = this.#limits
      .map((limit, index) => ({ limit, index }))
      .filter(
        ({ limit, index }) =>
          index === category || (limit.scope === "shared" && matchesCall(limit.match, call)),
      )
      .map(({ index }) => index);
    const now = performance.now();
    for (const index of drawn) this.#refill(index, now);
    const empty = drawn.find((index) => this.#tokens[index]! < 1);
    if (empty !== undefined) return this.#limits[empty]!.name;
    for (const index of drawn) this.#tokens[index]! -= 1;
    return undefined;
  }

  #refill(index: number, now: number): void {
    const limit = this.#limits[index]!;
    const elapsedSeconds = ((now - this.#refilledAt[index]!) / 1000) * this.#timeScale;
    this.#tokens[index] = Math.min(
      limit.burst,
      this.#tokens[index]! + elapsedSeconds * limit.refillPerSecond,
    );
    this.#refilledAt[index] = now;
  }
}

function readBody(request: http.IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    request.on("data", (chunk: Buffer) => chunks.push(chunk));
    request.on("end", () => resolve(Buffer.concat(chunks)));
    request.on("error", reject);
  });
}

const HOP_BY_HOP_HEADERS = new Set(["connection", "keep-alive", "transfer-encoding", "content-length"]);

/** The upstream's headers without its connection management, which is not ours to pass on. */
function endToEndHeaders(headers: http.IncomingHttpHeaders, length: number): http.OutgoingHttpHeaders {
  const kept: http.OutgoingHttpHeaders = { "content-length": length };
  for (const [name, value] of Object.entries(headers)) {
    if (value !== undefined && !HOP_BY_HOP_HEADERS.has(name)) kept[name] = value;
  }
  return kept;
}

interface UpstreamAnswer {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: Buffer;
}

function forward(
  agent: http.Agent,
  target: URL,
  request: http.IncomingMessage,
  body: Buffer,
): Promise<UpstreamAnswer> {
  return new Promise((resolve, reject) => {
    const upstream = http.request(
      {
        agent,
        protocol: target.protocol,
        hostname: target.hostname,
        port: target.port,
        method: request.method,
        path: `${target.pathname.replace(/\/$/, "")}${request.url ?? "/"}`,
        headers: request.headers,
      },
      (response) => {
        readBody(response).then(
          (answer) =>
            resolve({ status: response.statusCode ?? 502, headers: response.headers, body: answer }),
          reject,
        );
      },
    );
    upstream.on("error", reject);
    upstream.end(body);
  });
}

export async function startFaultProxy(options: FaultProxyOptions): Promise<FaultProxy> {
  const target = new URL(options.target);
  const agent = new http.Agent({ keepAlive: true });
  const calls: CallRecord[] = [];
  let rules: readonly FaultRule[] = [];
  let random = seededRandom(options.seed ?? 1);
  let buckets: TokenBuckets | undefined;

  const setFaults = (faults?: FaultRule | readonly FaultRule[]): void => {
    rules = faults === undefined ? [] : Array.isArray(faults) ? faults : [faults as FaultRule];
  };
  const setLimits = (limits?: readonly TokenBucketLimit[], timeScale = options.timeScale ?? 1): void => {
    buckets = limits === undefined ? undefined : new TokenBuckets(limits, timeScale);
  };
  setFaults(options.faults);
  setLimits(options.limits);

  const handle = async (request: http.IncomingMessage, response: http.ServerResponse): Promise<void> => {
    const startedAt = Date.now();
    const began = performance.now();
    const body = await readBody(request);
    const call = classify(
      request.method ?? "GET",
      request.url ?? "/",
      request.headers,
      body.toString("utf8"),
    );
    const record = (fields: Omit<CallRecord, keyof Call | "startedAt" | "durationMs">): void => {
      calls.push({
        ...call,
        startedAt,
        durationMs: Math.round((performance.now() - began) * 10) / 10,
        ...fields,
      });
    };
    const answerWith = (error: InjectedError, outcome: CallOutcome, bucket?: string): void => {
      const requestId = randomUUID();
      response.writeHead(error.status, { "content-type": "text/xml", "x-amzn-requestid": requestId });
      response.end(awsError(call.service, error.code, error.message, requestId));
      record({
        outcome,
        status: error.status,
        injected: true,
        forwarded: false,
        errorCode: error.code,
        ...(bucket ? { bucket } : {}),
      });
    };
    const drop = (forwarded: boolean): void => {
      request.socket.destroy();
      record({ outcome: "dropped", status: undefined, injected: true, forwarded });
    };

    const rule = rules.find((candidate) => matchesCall(candidate.match, call));
    // Draw every number even when its rate is zero, so one rate's change does not shift the others.
    const [jitter, dropDraw, throttleDraw, errorDraw, dropResponseDraw] = [
      random(),
      random(),
      random(),
      random(),
      random(),
    ];
    if (rule !== undefined) {
      const delay = (rule.latencyMs ?? 0) + jitter * (rule.jitterMs ?? 0);
      if (delay > 0) await sleep(delay);
    }
    const emptyBucket = buckets?.take(call);
    if (emptyBucket !== undefined) return answerWith(throttlingError(call.service), "throttled", emptyBucket);
    if (rule !== undefined) {
      if (dropDraw < (rule.dropRate ?? 0)) return drop(false);
      if (throttleDraw < (rule.throttleRate ?? 0))
        return answerWith(throttlingError(call.service), "throttled");
      if (errorDraw < (rule.errorRate ?? 0)) {
        if (rule.errorCode !== undefined) {
          const status = rule.errorStatus ?? 400;
          const error = { status, code: rule.errorCode, message: `injected ${rule.errorCode}` };
          return answerWith(error, status);
        }
        return answerWith(serverError(call.service, rule.errorStatus ?? 500), "error5xx");
      }
    }

    let answer: UpstreamAnswer;
    try {
      answer = await forward(agent, target, request, body);
    } catch (error) {
      response.writeHead(502, { "content-type": "text/plain" });
      response.end(`fault proxy: ${options.target} unreachable: ${(error as Error).message}`);
      record({
        outcome: "error5xx",
        status: 502,
        injected: false,
        forwarded: false,
        errorCode: "UpstreamUnreachable",
      });
      return;
    }
    if (rule !== undefined && dropResponseDraw < (rule.dropResponseRate ?? 0)) return drop(true);
    const errorCode =
      answer.status >= 300 ? /<Code>([^<]+)<\/Code>/.exec(answer.body.toString("utf8"))?.[1] : undefined;
    response.writeHead(answer.status, endToEndHeaders(answer.headers, answer.body.length));
    response.end(answer.body);
    record({
      outcome: upstreamOutcome(answer.status, errorCode),
      status: answer.status,
      injected: false,
      forwarded: true,
      ...(errorCode ? { errorCode } : {}),
    });
  };

  const server = http.createServer((request, response) => {
    handle(request, response).catch((error: unknown) => {
      if (!response.headersSent && !response.destroyed) {
        response.writeHead(500, { "content-type": "text/plain" });
        response.end(`fault proxy failed: ${(error as Error).message}`);
      }
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port ?? 0, options.host ?? "127.0.0.1", () => resolve());
  });
  const address = server.address() as AddressInfo;

  return {
    url: `http://${address.address}:${address.port}`,
    calls,
    setFaults,
    setLimits,
    reseed: (seed) => {
      random = seededRandom(seed);
    },
    resetCalls: () => {
      calls.length = 0;
    },
    close: async () => {
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeAllConnections();
      agent.destroy();
      await closed;
    },
  };
}
