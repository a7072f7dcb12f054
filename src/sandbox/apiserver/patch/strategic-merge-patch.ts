// Strategic merge patch for the built-in kinds this server serves. Maps merge like a JSON merge
// patch; lists merge by their merge key (or as sets for primitive lists) where the Kubernetes
// type declares a merge strategy, and are replaced otherwise. Directives: $patch
// (replace/delete/merge), $retainKeys, $deleteFromPrimitiveList/<field>, $setElementOrder/<field>.
import { deepEqual, isObject, type Json, type JsonObject } from "../json.ts";
import { PatchError } from "./json-patch.ts";

/** How one list field merges: by a key field of its items, or as a set of primitives. */
export type ListMerge = { mergeKey: string } | { primitive: true };

/** Merge strategies by dotted field path (list items add no segment), shared by every kind. */
const metadataLists: Record<string, ListMerge> = {
  "metadata.finalizers": { primitive: true },
  "metadata.ownerReferences": { mergeKey: "uid" },
};

const containerLists: Record<string, ListMerge> = {
  ports: { mergeKey: "containerPort" },
  env: { mergeKey: "name" },
  volumeMounts: { mergeKey: "mountPath" },
  volumeDevices: { mergeKey: "devicePath" },
};

function podSpecLists(prefix: string): Record<string, ListMerge> {
  const lists: Record<string, ListMerge> = {
    [`${prefix}.volumes`]: { mergeKey: "name" },
    [`${prefix}.imagePullSecrets`]: { mergeKey: "name" },
    [`${prefix}.hostAliases`]: { mergeKey: "ip" },
    [`${prefix}.containers`]: { mergeKey: "name" },
    [`${prefix}.initContainers`]: { mergeKey: "name" },
    [`${prefix}.ephemeralContainers`]: { mergeKey: "name" },
  };
  for (const c of ["containers", "initContainers", "ephemeralContainers"]) {
    for (const [field, merge] of Object.entries(containerLists)) lists[`${prefix}.${c}.${field}`] = merge;
  }
  return lists;
}

const kindLists: Record<string, Record<string, ListMerge>> = {
  Service: {
    "spec.ports": { mergeKey: "port" },
    "status.conditions": { mergeKey: "type" },
  },
  Pod: {
    ...podSpecLists("spec"),
    "status.conditions": { mergeKey: "type" },
    "status.podIPs": { mergeKey: "ip" },
  },
  Node: {
    "spec.podCIDRs": { primitive: true },
    "status.conditions": { mergeKey: "type" },
    "status.addresses": { mergeKey: "type" },
  },
  Namespace: { "status.conditions": { mergeKey: "type" } },
};

function listMerge(kind: string, path: string): ListMerge | undefined {
  return metadataLists[path] ?? kindLists[kind]?.[path];
}

const deleteFromPrimitive = "$deleteFromPrimitiveList/";
const setElementOrder = "$setElementOrder/";

function join(path: string, key: string): string {
  return path ? `${path}.${key}` : key;
}

/** Removes directive keys from a value that lands in the result without merging. */
function stripDirectives(value: Json, kind: string, path: string): Json {
  if (Array.isArray(value)) {
    return value
      .filter((v) => !(isObject(v) && v.$patch !== undefined && Object.keys(v).length === 1))
      .map((v) => stripDirectives(v, kind, path));
  }
  if (!isObject(value)) return value;
  return mergeMap({}, value, kind, path);
}

function mergeMap(original: JsonObject, patch: JsonObject, kind: string, path: string): JsonObject {
  const directive = patch.$patch;
  if (directive !== undefined && directive !== "replace" && directive !== "merge" && directive !== "delete") {
    throw new PatchError(`unknown patch type: ${JSON.stringify(directive)}`);
  }
  const result: JsonObject = directive === "replace" ? {} : { ...original };
  for (const [key, value] of Object.entries(patch)) {
    if (value === undefined || key === "$patch" || key === "$retainKeys" || key.startsWith(setElementOrder))
      continue;
    if (key.startsWith(deleteFromPrimitive)) {
      const field = key.slice(deleteFromPrimitive.length);
      const current = result[field];
      if (Array.isArray(current) && Array.isArray(value)) {
        result[field] = current.filter((item) => !value.some((v) => deepEqual(v, item)));
      }
      continue;
    }
    if (value === null) {
      delete result[key];
    } else if (isObject(value)) {
      if (value.$patch === "delete") delete result[key];
      else {
        const current = result[key];
        result[key] = mergeMap(isObject(current) ? current : {}, value, kind, join(path, key));
      }
    } else if (Array.isArray(value)) {
      result[key] = mergeList(result[key], value, kind, join(path, key));
    } else {
      result[key] = value;
    }
  }
  const retain = patch.$retainKeys;
  if (Array.isArray(retain)) {
    for (const key of Object.keys(result)) if (!retain.includes(key)) delete result[key];
  }
  return result;
}

function mergeList(original: Json | undefined, patch: Json[], kind: string, path: string): Json[] {
  const strategy = listMerge(kind, path);
  const replaceAll = patch.some((item) => isObject(item) && item.$patch === "replace");
  const current = Array.isArray(original) && !replaceAll ? [...original] : [];
  if (strategy === undefined || replaceAll) return stripDirectives(patch, kind, path) as Json[];
  const originalItems = Array.isArray(original) ? original : [];
  if ("primitive" in strategy) {
    for (const item of patch) if (!current.some((c) => deepEqual(c, item))) current.push(item);
    return normaliseOrder(current, patch, originalItems, (item) => item);
  }
  const { mergeKey } = strategy;
  for (const item of patch) {
    if (!isObject(item)) throw new PatchError(`list ${path} merges by "${mergeKey}" and needs objects`);
    if (item[mergeKey] === undefined)
      throw new PatchError(`map: ${JSON.stringify(item)} does not contain declared merge key: ${mergeKey}`);
    const index = current.findIndex((c) => isObject(c) && deepEqual(c[mergeKey], item[mergeKey]));
    if (item.$patch === "delete") {
      if (index >= 0) current.splice(index, 1);
      continue;
    }
    const existing = index >= 0 ? current[index] : undefined;
    const merged = mergeMap(isObject(existing) ? existing : {}, item, kind, path);
    if (index >= 0) current[index] = merged;
    else current.push(merged);
  }
  const keyOf = (item: Json) => (isObject(item) ? item[mergeKey] : undefined) ?? null;
  return normaliseOrder(current, patch, originalItems, keyOf);
}

/**
 * The order apimachinery's normalizeElementOrder gives a merged list: the patch's items in the
 * patch's order, the others in the original's, interleaved where the original orders both.
 */
function normaliseOrder(
  merged: Json[],
  patch: Json[],
  original: Json[],
  keyOf: (item: Json) => Json,
): Json[] {
  const position = (list: Json[], item: Json) =>
    list.findIndex((other) => deepEqual(keyOf(other), keyOf(item)));
  const inPatch = (item: Json) => position(patch, item) >= 0;
  const patchItems = merged.filter(inPatch).sort((a, b) => position(patch, a) - position(patch, b));
  const serverOnly = merged.filter((item) => !inPatch(item));
  const out: Json[] = [];
  let i = 0;
  let j = 0;
  while (i < serverOnly.length || j < patchItems.length) {
    const left = serverOnly[i];
    const right = patchItems[j];
    if (right === undefined) out.push(serverOnly[i++] as Json);
    else if (left === undefined) out.push(patchItems[j++] as Json);
    else {
      const li = position(original, left);
      const ri = position(original, right);
      if (li >= 0 && ri >= 0 && li < ri) out.push(serverOnly[i++] as Json);
      else out.push(patchItems[j++] as Json);
    }
  }
  return out;
}

/** Applies a strategic merge patch to an object of `kind`; returns a new object. */
export function applyStrategicMergePatch(original: JsonObject, patch: Json, kind: string): JsonObject {
  if (!isObject(patch)) throw new PatchError("a strategic merge patch must be a JSON object");
  return mergeMap(structuredClone(original), patch, kind, "");
}
