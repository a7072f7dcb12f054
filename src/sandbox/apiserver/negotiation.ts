// Content negotiation: what the client wants back (Accept) and what it sent (Content-Type).
import { notAcceptable, unsupportedBody, unsupportedMediaType } from "./errors.ts";
import type { IncludeObject } from "./tables.ts";

export type Representation =
  | { kind: "json" }
  | { kind: "yaml" }
  | { kind: "table"; version: string; include: IncludeObject }
  | { kind: "partial"; version: string; list: boolean }
  | { kind: "discovery"; version: string };

interface MediaRange {
  type: string;
  params: Map<string, string>;
}

function parseAccept(header: string): MediaRange[] {
  return header
    .split(",")
    .map((part) => {
      const [type = "", ...rest] = part.split(";").map((s) => s.trim());
      const params = new Map<string, string>();
      for (const p of rest) {
        const eq = p.indexOf("=");
        if (eq > 0) params.set(p.slice(0, eq).trim().toLowerCase(), p.slice(eq + 1).trim());
      }
      return { type: type.toLowerCase(), params };
    })
    .filter((m) => m.type !== "" && m.params.get("q") !== "0");
}

function isJsonish(type: string): boolean {
  return type === "application/json" || type === "*/*" || type === "application/*";
}

/** Picks the first acceptable representation in the client's order of preference. */
export function negotiate(acceptHeader: string | undefined, includeObject: string | null): Representation {
  if (!acceptHeader || acceptHeader.trim() === "") return { kind: "json" };
  for (const range of parseAccept(acceptHeader)) {
    const as = range.params.get("as");
    const group = range.params.get("g");
    const version = range.params.get("v") ?? "v1";
    if (as !== undefined) {
      if (!isJsonish(range.type)) continue;
      if (as === "Table" && group === "meta.k8s.io" && (version === "v1" || version === "v1beta1")) {
        const include = includeObject === "None" || includeObject === "Object" ? includeObject : "Metadata";
        return { kind: "table", version, include };
      }
      if ((as === "PartialObjectMetadata" || as === "PartialObjectMetadataList") && group === "meta.k8s.io") {
        return { kind: "partial", version, list: as === "PartialObjectMetadataList" };
      }
      if (as === "APIGroupDiscoveryList" && group === "apidiscovery.k8s.io" && version === "v2") {
        return { kind: "discovery", version };
      }
      continue;
    }
    if (isJsonish(range.type)) return { kind: "json" };
    if (range.type === "application/yaml") return { kind: "yaml" };
  }
  throw notAcceptable();
}

export type BodyFormat = "json" | "yaml" | "protobuf";
export type PatchType = "json" | "merge" | "strategic" | "apply";

function mediaType(contentType: string | undefined): string {
  return (contentType ?? "").split(";")[0]?.trim().toLowerCase() ?? "";
}

export function bodyFormat(contentType: string | undefined): BodyFormat {
  const type = mediaType(contentType);
  if (type === "" || type === "application/json" || type === "*/*") return "json";
  if (type === "application/yaml") return "yaml";
  if (type === "application/vnd.kubernetes.protobuf") return "protobuf";
  throw unsupportedBody();
}

export function patchType(contentType: string | undefined): PatchType {
  const type = mediaType(contentType);
  switch (type) {
    case "application/json-patch+json":
      return "json";
    case "application/merge-patch+json":
      return "merge";
    case "application/strategic-merge-patch+json":
      return "strategic";
    case "application/apply-patch+yaml":
    case "application/apply-patch+cbor":
      return "apply";
    default:
      throw unsupportedMediaType();
  }
}
