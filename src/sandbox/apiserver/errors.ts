import type { JsonObject } from "./json.ts";

/** One field problem, as in a Status' details.causes. */
export interface FieldCause extends JsonObject {
  reason: string;
  message: string;
  field: string;
}

export interface StatusDetails extends JsonObject {
  name?: string;
  group?: string;
  kind?: string;
  uid?: string;
  causes?: FieldCause[];
  retryAfterSeconds?: number;
}

/** A metav1.Status failure, thrown by handlers and written as the response. */
export class ApiError extends Error {
  readonly code: number;
  readonly reason: string;
  readonly details: StatusDetails | undefined;

  constructor(code: number, reason: string, message: string, details?: StatusDetails) {
    super(message);
    this.code = code;
    this.reason = reason;
    this.details = details;
  }

  toStatus(): JsonObject {
    return failureStatus(this.code, this.reason, this.message, this.details);
  }
}

function failureStatus(code: number, reason: string, message: string, details?: StatusDetails): JsonObject {
  const status: JsonObject = {
    kind: "Status",
    apiVersion: "v1",
    metadata: {},
    status: "Failure",
    message,
    reason,
  };
  if (details) status.details = details;
  status.code = code;
  return status;
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

export function unsupportedMediaType(contentType: string): ApiError {
  return new ApiError(
    415,
    "UnsupportedMediaType",
    `the body of the request was in an unknown format - accepted media types include: application/json-patch+json, application/merge-patch+json, application/strategic-merge-patch+json (got ${contentType})`,
  );
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
    causes: [{ reason: "UnexpectedServerResponse", message, field: "" }],
  });
}

export function expired(message: string): ApiError {
  return new ApiError(410, "Expired", message);
}

export function pathNotFound(): ApiError {
  return new ApiError(404, "NotFound", "the server could not find the requested resource");
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

  get empty(): boolean {
    return this.causes.length === 0;
  }

  /** Throws a 422 Invalid for `kind "name"` when any error was collected. */
  throwIfAny(kind: string, group: string, name: string): void {
    if (this.empty) return;
    const list = this.causes.map((c) => `${c.field}: ${c.message}`);
    const summary = list.length === 1 ? list[0] : `[${list.join(", ")}]`;
    const details: StatusDetails = group ? { name, group, kind } : { name, kind };
    details.causes = this.causes;
    throw new ApiError(422, "Invalid", `${kind} "${name}" is invalid: ${summary}`, details);
  }

  private add(reason: string, field: string, message: string): void {
    this.causes.push({ reason, message, field });
  }
}

function render(value: unknown): string {
  if (typeof value === "string") return JSON.stringify(value);
  if (Array.isArray(value)) return `[]string{${value.map((v) => JSON.stringify(v)).join(", ")}}`;
  return String(value);
}
