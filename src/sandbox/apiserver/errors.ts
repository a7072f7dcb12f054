import type { JsonObject } from "./json.ts";

/** One field problem, as in a Status' details.causes. */
export interface FieldCause extends JsonObject {
  reason: string;
  message: string;
  field: string;
}

/** A cause of a failure that is no field's (a 500's, a 504's). */
export interface Cause extends JsonObject {
  reason?: string;
  message: string;
  field?: string;
}

export interface StatusDetails extends JsonObject {
  name?: string;
  group?: string;
  kind?: string;
  uid?: string;
  causes?: Cause[];
  retryAfterSeconds?: number;
}

/** A metav1.Status failure, thrown by handlers and written as the response. */
export class ApiError extends Error {
  readonly code: number;
  readonly reason: string;
  readonly details: StatusDetails | undefined;
  /** The Status' own list metadata (an expired continue token offers a new one there). */
  readonly listMeta: JsonObject;

  constructor(
    code: number,
    reason: string,
    message: string,
    details?: StatusDetails,
    listMeta: JsonObject = {},
  ) {
    super(message);
    this.code = code;
    this.reason = reason;
    this.details = details;
    this.listMeta = listMeta;
  }

  toStatus(): JsonObject {
    const status: JsonObject = {
      kind: "Status",
      apiVersion: "v1",
      metadata: this.listMeta,
      status: "Failure",
      message: this.message,
    };
    // A reason the real server has no name for is left out ("" is StatusReasonUnknown).
    if (this.reason) status.reason = this.reason;
    if (this.details) status.details = this.details;
    status.code = this.code;
    return status;
  }
}

/** How a resource names itself in messages: "services", "endpointslices.discovery.k8s.io". */
export interface ResourceName {
  group: string;
  resource: string;
}

function qualified(r: ResourceName): string {
  return r.group ? `${r.resource}.${r.group}` : r.resource;
}

function details(r: ResourceName, name: string): StatusDetails {
  return r.group ? { name, group: r.group, kind: r.resource } : { name, kind: r.resource };
}

export function notFound(r: ResourceName, name: string): ApiError {
  return new ApiError(404, "NotFound", `${qualified(r)} "${name}" not found`, details(r, name));
}

export function alreadyExists(r: ResourceName, name: string): ApiError {
  return new ApiError(409, "AlreadyExists", `${qualified(r)} "${name}" already exists`, details(r, name));
}

export function conflict(r: ResourceName, name: string, why: string): ApiError {
  return new ApiError(
    409,
    "Conflict",
    `Operation cannot be fulfilled on ${qualified(r)} "${name}": ${why}`,
    details(r, name),
  );
}

export const staleObjectMessage =
  "the object has been modified; please apply your changes to the latest version and try again";

export function forbidden(r: ResourceName, name: string, why: string): ApiError {
  return new ApiError(403, "Forbidden", `${qualified(r)} "${name}" is forbidden: ${why}`, details(r, name));
}

export function badRequest(message: string): ApiError {
  return new ApiError(400, "BadRequest", message);
}

export function methodNotAllowed(
  message = "the server does not allow this method on the requested resource",
): ApiError {
  return new ApiError(405, "MethodNotAllowed", message);
}

/** A create or update body in a media type the server does not decode. */
export function unsupportedBody(): ApiError {
  return new ApiError(
    415,
    "UnsupportedMediaType",
    "the body of the request was in an unknown format - accepted media types include: application/json, application/yaml, application/vnd.kubernetes.protobuf",
  );
}

/** A patch of a type the server does not apply. */
export function unsupportedMediaType(): ApiError {
  return new ApiError(415, "UnsupportedMediaType", "415: Unsupported Media Type", {});
}

export function notAcceptable(): ApiError {
  return new ApiError(
    406,
    "NotAcceptable",
    "only the following media types are accepted: application/json, application/yaml",
  );
}

export function internalError(message: string): ApiError {
  return new ApiError(500, "InternalError", `Internal error occurred: ${message}`, {
    causes: [{ message }],
  });
}

export function expired(message: string, listMeta: JsonObject = {}): ApiError {
  return new ApiError(410, "Expired", message, undefined, listMeta);
}

/** A list or watch at a version the store has not reached (storage.NewTooLargeResourceVersionError). */
export function tooLargeResourceVersion(wanted: number, current: number): ApiError {
  return new ApiError(504, "Timeout", `Timeout: Too large resource version: ${wanted}, current: ${current}`, {
    causes: [{ reason: "ResourceVersionTooLarge", message: "Too large resource version" }],
    retryAfterSeconds: 1,
  });
}

export function pathNotFound(): ApiError {
  return new ApiError(404, "NotFound", "the server could not find the requested resource", {});
}

/** Collects field errors the way validation.ErrorList does, then turns them into a 422. */
export class FieldErrors {
  readonly causes: FieldCause[] = [];

  required(field: string, detail = ""): void {
    this.add("FieldValueRequired", field, `Required value${detail ? `: ${detail}` : ""}`);
  }

  invalid(field: string, value: unknown, detail: string): void {
    this.add("FieldValueInvalid", field, `Invalid value: ${render(value)}: ${detail}`);
  }

  unsupported(field: string, value: unknown, allowed: string[]): void {
    const list = allowed.map((a) => `"${a}"`).join(", ");
    this.add(
      "FieldValueNotSupported",
      field,
      `Unsupported value: ${render(value)}: supported values: ${list}`,
    );
  }

  duplicate(field: string, value: unknown): void {
    this.add("FieldValueDuplicate", field, `Duplicate value: ${render(value)}`);
  }

  forbidden(field: string, detail: string): void {
    this.add("FieldValueForbidden", field, `Forbidden: ${detail}`);
  }

  tooLong(field: string, max: number): void {
    this.add("FieldValueTooLong", field, `Too long: may not be more than ${max} bytes`);
  }

  tooMany(field: string, actual: number, max: number): void {
    this.add("FieldValueTooMany", field, `Too many: ${actual}: must have at most ${max} items`);
  }

  get empty(): boolean {
    return this.causes.length === 0;
  }

  /** Throws a 422 Invalid for `kind "name"` when any error was collected. */
  throwIfAny(kind: string, group: string, name: string): void {
    if (this.empty) return;
    throw invalid(kind, group, name, this.causes);
  }

  add(reason: string, field: string, message: string): void {
    this.causes.push({ reason, message, field });
  }
}

/** A 422 Invalid as errors.NewInvalid makes it: `Kind.group "name" is invalid: ...`. */
export function invalid(kind: string, group: string, name: string, causes: FieldCause[]): ApiError {
  // Like ErrorList.ToAggregate, the message lists a repeated problem once; the causes keep all.
  const list = [...new Set(causes.map((c) => `${c.field}: ${c.message}`))];
  const summary = list.length === 1 ? list[0] : `[${list.join(", ")}]`;
  const details: StatusDetails = {};
  if (name) details.name = name;
  if (group) details.group = group;
  details.kind = kind;
  details.causes = causes;
  const qualified = group ? `${kind}.${group}` : kind;
  return new ApiError(422, "Invalid", `${qualified} "${name}" is invalid: ${summary}`, details);
}

/** A body the typed decoder refuses, as the real server words it. */
export function undecodable(kind: string, version: string, detail: string): ApiError {
  return badRequest(`${kind} in version "${version}" cannot be handled as a ${kind}: ${detail}`);
}

/** A bad value as field.Error shows it: strings quoted, numbers bare, anything else as JSON. */
function render(value: unknown): string {
  if (typeof value === "string") return JSON.stringify(value);
  if (typeof value === "object" && value !== null) return JSON.stringify(value);
  return String(value);
}
