import type { ServerResponse } from "node:http";
import { stringify as toYaml } from "yaml";
import type { ApiError } from "./errors.ts";
import type { JsonObject } from "./json.ts";
import type { Representation } from "./negotiation.ts";

/** Writes a JSON (or YAML, when asked) body. `body` may be pre-serialised JSON. */
export function send(
  res: ServerResponse,
  code: number,
  body: JsonObject | string,
  representation: Representation = { kind: "json" },
  pretty = false,
  contentType = "application/json",
): void {
  let text: string;
  let type = contentType;
  if (representation.kind === "yaml") {
    // As sigs.k8s.io/yaml writes it: keys sorted, list items not indented under their key.
    text = toYaml(typeof body === "string" ? JSON.parse(body) : body, {
      sortMapEntries: true,
      indentSeq: false,
    });
    type = "application/yaml";
  } else if (typeof body === "string") {
    text = pretty ? JSON.stringify(JSON.parse(body), null, 2) : body;
  } else {
    text = pretty ? JSON.stringify(body, null, 2) : JSON.stringify(body);
  }
  const headers: Record<string, string | number> = {
    "Content-Type": type,
    "Content-Length": Buffer.byteLength(text),
  };
  res.writeHead(code, headers);
  res.end(text);
}

export function sendError(res: ServerResponse, error: ApiError): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  const retry = error.details?.retryAfterSeconds;
  if (retry !== undefined) res.setHeader("Retry-After", String(retry));
  send(res, error.code, error.toStatus());
}

export function sendText(res: ServerResponse, code: number, text: string): void {
  res.writeHead(code, {
    "Content-Type": "text/plain; charset=utf-8",
    "Content-Length": Buffer.byteLength(text),
  });
  res.end(text);
}
