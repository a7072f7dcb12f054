import { deepEqual, isObject, type Json } from "../json.ts";

/** Thrown when a JSON patch cannot be applied; the handler turns it into a 422. */
export class PatchError extends Error {}

/** RFC 6901 pointer tokens, with ~1 and ~0 unescaped. */
function parsePointer(pointer: string): string[] {
  if (pointer === "") return [];
  if (!pointer.startsWith("/")) throw new PatchError(`JSON pointer must start with '/': "${pointer}"`);
  return pointer
    .slice(1)
    .split("/")
    .map((t) => t.replaceAll("~1", "/").replaceAll("~0", "~"));
}

function arrayIndex(token: string, length: number, forInsert: boolean, pointer: string): number {
  if (!/^(0|[1-9][0-9]*)$/.test(token))
    throw new PatchError(`invalid array index "${token}" in "${pointer}"`);
  const index = Number(token);
  if (index > length || (!forInsert && index === length)) {
    throw new PatchError(`array index ${index} out of bounds in "${pointer}"`);
  }
  return index;
}

interface Location {
  parent: Json[] | Record<string, Json | undefined>;
  token: string;
}

/** The container that holds the pointed-at value, which must itself exist. */
function locate(doc: Json, tokens: string[], pointer: string): Location {
  let current: Json | undefined = doc;
  for (const token of tokens.slice(0, -1)) {
    if (Array.isArray(current)) current = current[arrayIndex(token, current.length, false, pointer)];
    else if (isObject(current)) current = current[token];
    else current = undefined;
    if (current === undefined) throw new PatchError(`path "${pointer}" does not exist`);
  }
  if (!Array.isArray(current) && !isObject(current)) throw new PatchError(`path "${pointer}" does not exist`);
  return { parent: current, token: tokens[tokens.length - 1] ?? "" };
}

function getValue(doc: Json, pointer: string): Json {
  const tokens = parsePointer(pointer);
  if (tokens.length === 0) return doc;
  const { parent, token } = locate(doc, tokens, pointer);
  const value = Array.isArray(parent)
    ? parent[arrayIndex(token, parent.length, false, pointer)]
    : parent[token];
  if (value === undefined) throw new PatchError(`path "${pointer}" does not exist`);
  return value;
}

interface Root {
  doc: Json;
}

function add(root: Root, pointer: string, value: Json): void {
  const tokens = parsePointer(pointer);
  if (tokens.length === 0) {
    root.doc = value;
    return;
  }
  const { parent, token } = locate(root.doc, tokens, pointer);
  if (Array.isArray(parent)) {
    if (token === "-") parent.push(value);
    else parent.splice(arrayIndex(token, parent.length, true, pointer), 0, value);
  } else {
    parent[token] = value;
  }
}

function remove(root: Root, pointer: string): Json {
  const tokens = parsePointer(pointer);
  if (tokens.length === 0) throw new PatchError("cannot remove the whole document");
  const { parent, token } = locate(root.doc, tokens, pointer);
  if (Array.isArray(parent)) {
    const [removed] = parent.splice(arrayIndex(token, parent.length, false, pointer), 1);
    return removed ?? null;
  }
  const value = parent[token];
  if (value === undefined) throw new PatchError(`unable to remove nonexistent key: ${token}: missing value`);
  delete parent[token];
  return value;
}

function replace(root: Root, pointer: string, value: Json): void {
  const tokens = parsePointer(pointer);
  if (tokens.length === 0) {
    root.doc = value;
    return;
  }
  const { parent, token } = locate(root.doc, tokens, pointer);
  if (Array.isArray(parent)) {
    parent[arrayIndex(token, parent.length, false, pointer)] = value;
  } else {
    // As in the json-patch v4 library kube-apiserver uses: replacing a missing member sets it.
    parent[token] = value;
  }
}

function operationField(op: Record<string, Json | undefined>, field: string): string {
  const value = op[field];
  if (typeof value !== "string") throw new PatchError(`operation is missing string field "${field}"`);
  return value;
}

function operationValue(op: Record<string, Json | undefined>): Json {
  if (!Object.hasOwn(op, "value") || op.value === undefined)
    throw new PatchError('operation is missing "value"');
  return structuredClone(op.value);
}

/** RFC 6902 JSON patch. `doc` is not modified; the patched copy is returned. */
export function applyJsonPatch(doc: Json, operations: Json): Json {
  if (!Array.isArray(operations)) throw new PatchError("a JSON patch must be an array of operations");
  const root: Root = { doc: structuredClone(doc) };
  for (const op of operations) {
    if (!isObject(op)) throw new PatchError("each JSON patch operation must be an object");
    const path = operationField(op, "path");
    switch (op.op) {
      case "add":
        add(root, path, operationValue(op));
        break;
      case "remove":
        remove(root, path);
        break;
      case "replace":
        replace(root, path, operationValue(op));
        break;
      case "move": {
        const from = operationField(op, "from");
        if (path !== from && path.startsWith(`${from}/`)) {
          throw new PatchError(`cannot move "${from}" into its own child "${path}"`);
        }
        add(root, path, remove(root, from));
        break;
      }
      case "copy":
        add(root, path, structuredClone(getValue(root.doc, operationField(op, "from"))));
        break;
      case "test": {
        let actual: Json | undefined;
        try {
          actual = getValue(root.doc, path);
        } catch {
          actual = undefined;
        }
        if (!deepEqual(actual, op.value ?? null))
          throw new PatchError(`testing value ${path} failed: test failed`);
        break;
      }
      default:
        throw new PatchError(`unexpected operation kind: ${JSON.stringify(op.op ?? null)}`);
    }
  }
  return root.doc;
}
