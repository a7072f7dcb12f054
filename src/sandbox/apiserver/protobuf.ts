// Decoding of Kubernetes protobuf request bodies ("k8s\0" + runtime.Unknown), which kubectl's
// typed clients send for `kubectl create namespace` and `kubectl create service`. Only the kinds
// those commands create are known; anything else is 415, as a server without the type would say.
// Field numbers are those of k8s.io/api core/v1 and apimachinery meta/v1 generated.proto.
import { unsupportedMediaType } from "./errors.ts";
import type { Json, JsonObject } from "./json.ts";

type Scalar = "string" | "int" | "bool" | "bytes" | "time" | "intOrString" | "stringMap";
interface Field {
  name: string;
  type: Scalar | Schema;
  repeated?: boolean;
  /** A Go pointer field: zero and false are real values, not "unset". */
  pointer?: boolean;
}
type Schema = { [number: number]: Field };

const typeMeta: Schema = { 1: { name: "apiVersion", type: "string" }, 2: { name: "kind", type: "string" } };
const unknown: Schema = {
  1: { name: "typeMeta", type: typeMeta },
  2: { name: "raw", type: "bytes" },
  3: { name: "contentEncoding", type: "string" },
  4: { name: "contentType", type: "string" },
};
const ownerReference: Schema = {
  1: { name: "kind", type: "string" },
  3: { name: "name", type: "string" },
  4: { name: "uid", type: "string" },
  5: { name: "apiVersion", type: "string" },
  6: { name: "controller", type: "bool", pointer: true },
  7: { name: "blockOwnerDeletion", type: "bool", pointer: true },
};
const objectMeta: Schema = {
  1: { name: "name", type: "string" },
  2: { name: "generateName", type: "string" },
  3: { name: "namespace", type: "string" },
  5: { name: "uid", type: "string" },
  6: { name: "resourceVersion", type: "string" },
  7: { name: "generation", type: "int" },
  8: { name: "creationTimestamp", type: "time" },
  9: { name: "deletionTimestamp", type: "time" },
  10: { name: "deletionGracePeriodSeconds", type: "int", pointer: true },
  11: { name: "labels", type: "stringMap" },
  12: { name: "annotations", type: "stringMap" },
  13: { name: "ownerReferences", type: ownerReference, repeated: true },
  14: { name: "finalizers", type: "string", repeated: true },
};
const namespace: Schema = {
  1: { name: "metadata", type: objectMeta },
  2: { name: "spec", type: { 1: { name: "finalizers", type: "string", repeated: true } } },
  3: { name: "status", type: { 1: { name: "phase", type: "string" } } },
};
const servicePort: Schema = {
  1: { name: "name", type: "string" },
  2: { name: "protocol", type: "string" },
  3: { name: "port", type: "int" },
  4: { name: "targetPort", type: "intOrString" },
  5: { name: "nodePort", type: "int" },
  6: { name: "appProtocol", type: "string" },
};
const serviceSpec: Schema = {
  1: { name: "ports", type: servicePort, repeated: true },
  2: { name: "selector", type: "stringMap" },
  3: { name: "clusterIP", type: "string" },
  4: { name: "type", type: "string" },
  5: { name: "externalIPs", type: "string", repeated: true },
  7: { name: "sessionAffinity", type: "string" },
  8: { name: "loadBalancerIP", type: "string" },
  9: { name: "loadBalancerSourceRanges", type: "string", repeated: true },
  10: { name: "externalName", type: "string" },
  11: { name: "externalTrafficPolicy", type: "string" },
  12: { name: "healthCheckNodePort", type: "int" },
  13: { name: "publishNotReadyAddresses", type: "bool" },
  17: { name: "ipFamilyPolicy", type: "string" },
  18: { name: "clusterIPs", type: "string", repeated: true },
  19: { name: "ipFamilies", type: "string", repeated: true },
  20: { name: "allocateLoadBalancerNodePorts", type: "bool", pointer: true },
  21: { name: "loadBalancerClass", type: "string" },
  22: { name: "internalTrafficPolicy", type: "string" },
  23: { name: "trafficDistribution", type: "string" },
};
const service: Schema = { 1: { name: "metadata", type: objectMeta }, 2: { name: "spec", type: serviceSpec } };

const schemas: Record<string, Schema> = { "v1/Namespace": namespace, "v1/Service": service };

class Reader {
  private pos = 0;
  private readonly buf: Uint8Array;

  constructor(buf: Uint8Array) {
    this.buf = buf;
  }

  get done(): boolean {
    return this.pos >= this.buf.length;
  }

  varint(): bigint {
    let result = 0n;
    let shift = 0n;
    for (;;) {
      const byte = this.buf[this.pos++];
      if (byte === undefined) throw new Error("truncated varint");
      result |= BigInt(byte & 0x7f) << shift;
      if ((byte & 0x80) === 0) return result;
      shift += 7n;
    }
  }

  bytes(): Uint8Array {
    const length = Number(this.varint());
    const out = this.buf.subarray(this.pos, this.pos + length);
    if (out.length !== length) throw new Error("truncated field");
    this.pos += length;
    return out;
  }

  skip(wireType: number): void {
    if (wireType === 0) this.varint();
    else if (wireType === 1) this.pos += 8;
    else if (wireType === 2) this.bytes();
    else if (wireType === 5) this.pos += 4;
    else throw new Error(`unsupported wire type ${wireType}`);
  }
}

const text = new TextDecoder();
const epoch = "1970-01-01T00:00:00Z";

function decodeScalar(type: Scalar, reader: Reader, wireType: number): Json | Uint8Array {
  if (type === "int") return Number(BigInt.asIntN(64, reader.varint()));
  if (type === "bool") return reader.varint() !== 0n;
  const bytes = reader.bytes();
  if (wireType !== 2) throw new Error("expected a length-delimited field");
  switch (type) {
    case "string":
      return text.decode(bytes);
    case "bytes":
      return bytes;
    case "time": {
      const t = decode(bytes, { 1: { name: "seconds", type: "int" }, 2: { name: "nanos", type: "int" } });
      return `${new Date(Number(t.seconds ?? 0) * 1000).toISOString().slice(0, 19)}Z`;
    }
    case "intOrString": {
      const v = decode(bytes, {
        1: { name: "type", type: "int" },
        2: { name: "intVal", type: "int" },
        3: { name: "strVal", type: "string" },
      });
      return v.type === 1 ? (v.strVal ?? "") : (v.intVal ?? 0);
    }
    case "stringMap": {
      const entry = decode(bytes, {
        1: { name: "key", type: "string" },
        2: { name: "value", type: "string" },
      });
      return { [String(entry.key ?? "")]: entry.value ?? "" };
    }
  }
}

function decode(buf: Uint8Array, schema: Schema): JsonObject & { raw?: Uint8Array } {
  const out: Record<string, unknown> = {};
  const reader = new Reader(buf);
  while (!reader.done) {
    const tag = Number(reader.varint());
    const number = tag >>> 3;
    const wireType = tag & 7;
    const field = schema[number];
    if (!field) {
      reader.skip(wireType);
      continue;
    }
    const value =
      typeof field.type === "string"
        ? decodeScalar(field.type, reader, wireType)
        : decode(reader.bytes(), field.type);
    // Go always encodes its non-pointer fields; their zero values mean "not set" (omitempty in JSON).
    const zero = value === "" || value === epoch || value === 0 || value === false;
    if (zero && !field.repeated && !field.pointer) continue;
    if (field.type === "stringMap")
      out[field.name] = { ...((out[field.name] as object) ?? {}), ...(value as object) };
    else if (field.repeated) out[field.name] = [...((out[field.name] as unknown[]) ?? []), value];
    else out[field.name] = value;
  }
  return out as JsonObject & { raw?: Uint8Array };
}

const magic = [0x6b, 0x38, 0x73, 0x00];

/** Decodes a protobuf-encoded object of a kind listed above into its JSON form. */
/** Whether the body starts with the "k8s\0" magic of kube's protobuf envelope. */
export function isProtobufEnvelope(body: Buffer): boolean {
  return magic.every((b, i) => body[i] === b);
}

export function decodeProtobufObject(body: Buffer): Json {
  if (!magic.every((b, i) => body[i] === b)) throw unsupportedMediaType();
  let envelope: JsonObject & { raw?: Uint8Array };
  try {
    envelope = decode(body.subarray(magic.length), unknown);
  } catch {
    throw unsupportedMediaType();
  }
  const meta = (envelope.typeMeta ?? {}) as { apiVersion?: string; kind?: string };
  const schema = schemas[`${meta.apiVersion}/${meta.kind}`];
  if (!schema || !envelope.raw) throw unsupportedMediaType();
  const obj = decode(envelope.raw, schema) as JsonObject;
  return { apiVersion: meta.apiVersion ?? "", kind: meta.kind ?? "", ...obj };
}
