// Turns request bodies into objects, refusing what kube-apiserver's decoder would refuse.
import { parse as parseYaml } from "yaml";
import { badRequest } from "./errors.ts";
import { isObject, type Json } from "./json.ts";
import type { BodyFormat } from "./negotiation.ts";
import type { KubeObject } from "./object.ts";
import { decodeProtobufObject } from "./protobuf.ts";

function typeName(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "array";
  return typeof value;
}

function decodeError(field: string, value: unknown, expected: string): Error {
  return badRequest(
    `json: cannot unmarshal ${typeName(value)} into Go struct field ObjectMeta.metadata.${field} of type ${expected}`,
  );
}

export function parseBody(body: Buffer, format: BodyFormat): Json {
  if (format === "protobuf") return decodeProtobufObject(body);
  const text = body.toString("utf8");
  if (text.trim() === "") throw badRequest("the request body is empty");
  try {
    return (format === "yaml" ? parseYaml(text) : JSON.parse(text)) as Json;
  } catch (error) {
    throw badRequest(`couldn't get version/kind; json parse error: ${(error as Error).message}`);
  }
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
export function asKubeObject(value: Json): KubeObject {
  if (!isObject(value)) throw badRequest(`the request body must be a JSON object, not ${typeName(value)}`);
  const metadata = value.metadata ?? {};
  if (!isObject(metadata))
    throw badRequest(
      `json: cannot unmarshal ${typeName(metadata)} into Go struct field .metadata of type v1.ObjectMeta`,
    );
  for (const field of stringFields) {
    const v = metadata[field];
    if (v !== undefined && v !== null && typeof v !== "string") throw decodeError(field, v, "string");
    if (v === null) delete metadata[field];
  }
  for (const field of ["labels", "annotations"]) {
    const map = metadata[field];
    if (map === null) delete metadata[field];
    else if (map !== undefined) {
      if (!isObject(map)) throw decodeError(field, map, "map[string]string");
      for (const [k, v] of Object.entries(map)) {
        if (typeof v !== "string") throw decodeError(`${field}.${k}`, v, "string");
      }
    }
  }
  const finalizers = metadata.finalizers;
  if (finalizers === null) delete metadata.finalizers;
  else if (
    finalizers !== undefined &&
    (!Array.isArray(finalizers) || finalizers.some((f) => typeof f !== "string"))
  ) {
    throw decodeError("finalizers", finalizers, "[]string");
  }
  const owners = metadata.ownerReferences;
  if (owners === null) delete metadata.ownerReferences;
  else if (owners !== undefined && (!Array.isArray(owners) || owners.some((o) => !isObject(o)))) {
    throw decodeError("ownerReferences", owners, "[]v1.OwnerReference");
  }
  for (const field of ["generation", "deletionGracePeriodSeconds"]) {
    const v = metadata[field];
    if (v !== undefined && v !== null && typeof v !== "number") throw decodeError(field, v, "int64");
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
