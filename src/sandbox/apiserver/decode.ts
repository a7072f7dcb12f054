// Turns request bodies into objects, refusing what kube-apiserver's decoder would refuse.
import { parse as parseYaml } from "yaml";
import { badRequest, undecodable } from "./errors.ts";
import { isObject, type Json } from "./json.ts";
import type { BodyFormat } from "./negotiation.ts";
import type { KubeObject } from "./object.ts";
import { decodeProtobufObject, isProtobufEnvelope } from "./protobuf.ts";

function typeName(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "array";
  return typeof value;
}

/** What the typed decoder says of a value of the wrong JSON type. */
function decodeError(kind: string, field: string, value: unknown, expected: string): Error {
  return undecodable(
    kind,
    "v1",
    `json: cannot unmarshal ${jsonTypeName(value)} into Go struct field ObjectMeta.metadata.${field} of type ${expected}`,
  );
}

function jsonTypeName(value: unknown): string {
  if (Array.isArray(value)) return "array";
  if (value === null) return "null";
  return typeof value === "object" ? "object" : typeof value;
}

/** A body that is no object of the expected kind, in the real server's words. */
function unrecognized(kind: string, why: string): Error {
  return badRequest(`the object provided is unrecognized (must be of type ${kind}): ${why}`);
}

export function parseBody(body: Buffer, format: BodyFormat, kind: string): Json {
  if (format === "protobuf") {
    if (!isProtobufEnvelope(body)) {
      throw unrecognized(
        kind,
        `provided data does not appear to be a protobuf message, expected prefix [107 56 115 0] (${body.toString("utf8")})`,
      );
    }
    return decodeProtobufObject(body);
  }
  const text = body.toString("utf8");
  const parseError = (why: string) =>
    unrecognized(kind, `couldn't get version/kind; json parse error: ${why}`);
  if (text.trim() === "") throw parseError("unexpected end of JSON input (<empty>)");
  let value: Json;
  try {
    value = (format === "yaml" ? parseYaml(text) : JSON.parse(text)) as Json;
  } catch (error) {
    throw parseError(`${(error as Error).message} (${text.slice(0, 80)})`);
  }
  if (!isObject(value)) {
    throw parseError(
      `json: cannot unmarshal ${jsonTypeName(value)} into Go value of type struct { APIVersion string "json:\\"apiVersion,omitempty\\""; Kind string "json:\\"kind,omitempty\\"" } (${Buffer.from(text).toString("hex")})`,
    );
  }
  return value;
}

const stringFields = [
  "name",
  "generateName",
  "namespace",
  "uid",
  "resourceVersion",
  "creationTimestamp",
  "deletionTimestamp",
];

/** Checks the shape of metadata so later code may rely on the KubeObject types. */
export function asKubeObject(value: Json, kind: string): KubeObject {
  if (!isObject(value)) throw badRequest(`the request body must be a JSON object, not ${typeName(value)}`);
  const metadata = value.metadata ?? {};
  if (!isObject(metadata))
    throw undecodable(
      kind,
      "v1",
      `json: cannot unmarshal ${jsonTypeName(metadata)} into Go struct field ${kind}.metadata of type v1.ObjectMeta`,
    );
  for (const field of stringFields) {
    const v = metadata[field];
    if (v !== undefined && v !== null && typeof v !== "string") throw decodeError(kind, field, v, "string");
    if (v === null) delete metadata[field];
  }
  for (const field of ["labels", "annotations"]) {
    const map = metadata[field];
    if (map === null) delete metadata[field];
    else if (map !== undefined) {
      if (!isObject(map)) throw decodeError(kind, field, map, "map[string]string");
      for (const v of Object.values(map)) {
        if (typeof v !== "string") throw decodeError(kind, field, v, "string");
      }
    }
  }
  const finalizers = metadata.finalizers;
  if (finalizers === null) delete metadata.finalizers;
  else if (
    finalizers !== undefined &&
    (!Array.isArray(finalizers) || finalizers.some((f) => typeof f !== "string"))
  ) {
    throw decodeError(kind, "finalizers", finalizers, "[]string");
  }
  const owners = metadata.ownerReferences;
  if (owners === null) delete metadata.ownerReferences;
  else if (owners !== undefined && (!Array.isArray(owners) || owners.some((o) => !isObject(o)))) {
    throw decodeError(kind, "ownerReferences", owners, "[]v1.OwnerReference");
  }
  for (const field of ["generation", "deletionGracePeriodSeconds"]) {
    const v = metadata[field];
    if (v !== undefined && v !== null && typeof v !== "number") throw decodeError(kind, field, v, "int64");
  }
  return { ...value, metadata } as KubeObject;
}

export function checkTypeMeta(obj: KubeObject, apiVersion: string, kind: string): void {
  if (obj.apiVersion !== undefined && obj.apiVersion !== "" && obj.apiVersion !== apiVersion) {
    throw badRequest(
      `the API version in the data (${obj.apiVersion}) does not match the expected API version (${apiVersion})`,
    );
  }
  if (obj.kind !== undefined && obj.kind !== "" && obj.kind !== kind) {
    throw badRequest(`the kind in the data (${obj.kind}) does not match the expected kind (${kind})`);
  }
}
