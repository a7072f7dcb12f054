import { readFileSync } from "node:fs";
import { parseAllDocuments } from "yaml";
import type { EndpointSlice, Node, Service } from "../model/types.ts";

export interface Manifests {
  services: Service[];
  slices: EndpointSlice[];
  nodes: Node[];
  problems: string[];
}

/** Reads Services, EndpointSlices and Nodes from YAML/JSON files (several documents, or a List). */
export function readManifests(files: string[]): Manifests {
  const out: Manifests = { services: [], slices: [], nodes: [], problems: [] };
  for (const file of files) {
    let text: string;
    try {
      text = readFileSync(file, "utf8");
    } catch (err) {
      out.problems.push(`${file}: cannot read: ${(err as Error).message}`);
      continue;
    }
    parseAllDocuments(text).forEach((doc, i) => {
      if (doc.errors.length > 0) {
        out.problems.push(`${file}: document ${i + 1}: ${doc.errors[0]?.message.split("\n")[0]}`);
        return;
      }
      add(out, doc.toJS(), `${file}: document ${i + 1}`);
    });
  }
  return out;
}

function add(out: Manifests, obj: unknown, where: string): void {
  if (obj === null || obj === undefined) return;
  if (typeof obj !== "object" || Array.isArray(obj)) {
    out.problems.push(`${where}: not a Kubernetes object`);
    return;
  }
  const o = obj as { kind?: unknown; metadata?: { name?: unknown; namespace?: unknown }; items?: unknown[] };
  if (typeof o.kind === "string" && o.kind.endsWith("List") && Array.isArray(o.items)) {
    for (const item of o.items) add(out, item, where);
    return;
  }
  if (typeof o.metadata?.name !== "string" || o.metadata.name === "") {
    out.problems.push(`${where}: ${String(o.kind ?? "object")} has no metadata.name`);
    return;
  }
  if (o.kind !== "Node")
    o.metadata.namespace = typeof o.metadata.namespace === "string" ? o.metadata.namespace : "default";
  if (o.kind === "Service") out.services.push(withSpec(o) as Service);
  else if (o.kind === "EndpointSlice") out.slices.push(o as EndpointSlice);
  else if (o.kind === "Node") out.nodes.push(o as Node);
}

function withSpec(o: object): object {
  return "spec" in o && o.spec && typeof o.spec === "object" ? o : { ...o, spec: {} };
}
