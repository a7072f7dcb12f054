import type { JsonObject } from "./json.ts";

/** ObjectMeta as stored. Incoming bodies are shape-checked (decode.ts) before they are typed so. */
export interface ObjectMeta extends JsonObject {
  name?: string;
  generateName?: string;
  namespace?: string;
  uid?: string;
  resourceVersion?: string;
  generation?: number;
  creationTimestamp?: string;
  deletionTimestamp?: string;
  deletionGracePeriodSeconds?: number;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  finalizers?: string[];
  ownerReferences?: JsonObject[];
}

export interface KubeObject extends JsonObject {
  apiVersion?: string;
  kind?: string;
  metadata: ObjectMeta;
}

/** Storage key: "namespace/name" for namespaced objects, "name" otherwise. */
export function objectKey(namespace: string | undefined, name: string): string {
  return namespace ? `${namespace}/${name}` : name;
}

export function keyOf(obj: KubeObject): string {
  return objectKey(obj.metadata.namespace, obj.metadata.name ?? "");
}

export function isTerminating(obj: KubeObject): boolean {
  return obj.metadata.deletionTimestamp !== undefined;
}

/** RFC 3339 at second precision, as metav1.Time serialises. */
export function timestamp(date = new Date()): string {
  return `${date.toISOString().slice(0, 19)}Z`;
}

const topOrder = ["kind", "apiVersion", "metadata"];
const metaOrder = [
  "name",
  "generateName",
  "namespace",
  "selfLink",
  "uid",
  "resourceVersion",
  "generation",
  "creationTimestamp",
  "deletionTimestamp",
  "deletionGracePeriodSeconds",
  "labels",
  "annotations",
  "ownerReferences",
  "finalizers",
  "managedFields",
];

function ordered<T extends JsonObject>(obj: T, first: string[], last: string[]): T {
  const out: JsonObject = {};
  for (const key of first) if (obj[key] !== undefined) out[key] = obj[key];
  for (const [key, value] of Object.entries(obj)) {
    if (value !== undefined && !first.includes(key) && !last.includes(key)) out[key] = value;
  }
  for (const key of last) if (obj[key] !== undefined) out[key] = obj[key];
  return out as T;
}

/** Metadata fields serialised with omitempty: the real server never shows them empty. */
const omitWhenEmpty = ["labels", "annotations", "finalizers", "ownerReferences"];

function isEmpty(value: unknown): boolean {
  if (Array.isArray(value)) return value.length === 0;
  return typeof value === "object" && value !== null && Object.keys(value).length === 0;
}

/** Field order the real server serialises in (Go struct order), so output reads as usual. */
export function canonicalOrder(obj: KubeObject): KubeObject {
  const out = ordered(obj, topOrder, ["status"]);
  const metadata = ordered(obj.metadata, metaOrder, []);
  for (const field of omitWhenEmpty) if (isEmpty(metadata[field])) delete metadata[field];
  out.metadata = metadata;
  return out;
}
