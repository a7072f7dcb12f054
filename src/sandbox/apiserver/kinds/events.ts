// Events are stored once, in core/v1 shape; events.k8s.io/v1 is a second view of the same
// objects with renamed fields, as in kube-apiserver.
import type { FieldErrors } from "../errors.ts";
import { type JsonObject, objectAt, stringAt } from "../json.ts";
import { dns1123SubdomainProblems, qualifiedNameProblems } from "../names.ts";
import type { KubeObject } from "../object.ts";
import type { KindStrategy, VersionConversion } from "../resource.ts";
import { normaliseTimes, type TimeKind } from "../times.ts";

/** events.k8s.io/v1 field -> core/v1 field. */
const renamed: [string, string][] = [
  ["regarding", "involvedObject"],
  ["note", "message"],
  ["reportingController", "reportingComponent"],
  ["deprecatedSource", "source"],
  ["deprecatedFirstTimestamp", "firstTimestamp"],
  ["deprecatedLastTimestamp", "lastTimestamp"],
  ["deprecatedCount", "count"],
];

function rename(obj: KubeObject, pairs: [string, string][], apiVersion: string): KubeObject {
  const out: JsonObject = { kind: "Event", apiVersion };
  const map = new Map(pairs);
  for (const [key, value] of Object.entries(obj)) {
    if (key === "kind" || key === "apiVersion" || value === undefined) continue;
    out[map.get(key) ?? key] = value;
  }
  return out as KubeObject;
}

function text(obj: KubeObject, field: string): string {
  return stringAt(obj, field) ?? "";
}

function refField(ref: string, field: string) {
  return (obj: KubeObject) => stringAt(objectAt(obj, ref), field) ?? "";
}

const refFields = ["kind", "namespace", "name", "uid", "apiVersion", "resourceVersion", "fieldPath"];

const limits = { reportingInstance: 128, action: 128, reason: 128, message: 1024 };

/** legacyValidateEvent: what every Event create passes, whichever API version it came in. */
function validateLegacy(obj: KubeObject, controllerField: string, errors: FieldErrors): void {
  const namespace = obj.metadata.namespace ?? "";
  const involvedNamespace = stringAt(objectAt(obj, "involvedObject"), "namespace") ?? "";
  const mismatch = () =>
    errors.invalid("involvedObject.namespace", involvedNamespace, "does not match event.namespace");
  if (!hasEventTime(obj)) {
    if (
      involvedNamespace === "" ? namespace !== "" && namespace !== "default" : namespace !== involvedNamespace
    )
      mismatch();
  } else {
    if (involvedNamespace === "" && namespace !== "default" && namespace !== "kube-system") mismatch();
    const controller = text(obj, "reportingComponent");
    if (controller === "") errors.required(controllerField);
    for (const p of qualifiedNameProblems(controller)) errors.invalid(controllerField, controller, p);
    for (const field of ["reportingInstance", "action", "reason"] as const) {
      const value = text(obj, field);
      if (value === "") errors.required(field);
      if (value.length > limits[field])
        errors.invalid(field, "", `can have at most ${limits[field]} characters`);
    }
    if (text(obj, "message").length > limits.message)
      errors.invalid("message", "", `can have at most ${limits.message} characters`);
  }
  for (const p of dns1123SubdomainProblems(namespace)) errors.invalid("namespace", namespace, p);
}

function hasEventTime(obj: KubeObject): boolean {
  return obj.eventTime !== undefined && obj.eventTime !== null && obj.eventTime !== "";
}

/** The stricter rules of a create through events.k8s.io/v1 (ValidateEventCreate). */
function validateStrict(obj: KubeObject, errors: FieldErrors): void {
  if (!hasEventTime(obj)) errors.required("eventTime");
  const type = obj.type;
  if (type !== "Normal" && type !== "Warning")
    errors.invalid("type", "", `has invalid value: ${String(type ?? "")}`);
  for (const field of ["firstTimestamp", "lastTimestamp"])
    if (obj[field] !== undefined && obj[field] !== null) errors.invalid(field, "", "needs to be unset");
  if (typeof obj.count === "number" && obj.count !== 0) errors.invalid("count", "", "needs to be unset");
  const source = objectAt(obj, "source");
  if (stringAt(source, "component") || stringAt(source, "host"))
    errors.invalid("source", "", "needs to be unset");
}

function validateEvent(
  obj: KubeObject,
  old: KubeObject | undefined,
  errors: FieldErrors,
  group: string,
): void {
  const strict = group === "events.k8s.io";
  validateLegacy(obj, strict ? "reportingController" : "reportingComponent", errors);
  if (strict && !old) validateStrict(obj, errors);
}

/** Time fields of both shapes (core/v1 and events.k8s.io/v1 names differ). */
const eventTimes: [string, TimeKind][] = [
  ["eventTime", "micro"],
  ["series.lastObservedTime", "micro"],
  ["firstTimestamp", "time"],
  ["lastTimestamp", "time"],
  ["deprecatedFirstTimestamp", "time"],
  ["deprecatedLastTimestamp", "time"],
];

export const eventStrategy: KindStrategy = {
  decode: (obj) => normaliseTimes(obj, eventTimes, "Event"),
  nameRule: dns1123SubdomainProblems,
  statusSubresource: false,
  createOnUpdate: true,
  fieldLabels: {
    ...Object.fromEntries(refFields.map((f) => [`involvedObject.${f}`, refField("involvedObject", f)])),
    reason: (obj) => text(obj, "reason"),
    reportingComponent: (obj) => text(obj, "reportingComponent"),
    source: (obj) => stringAt(objectAt(obj, "source"), "component") ?? "",
    type: (obj) => text(obj, "type"),
  },
  validate: validateEvent,
};

export const eventsV1Conversion: VersionConversion = {
  toStorage: (obj) => rename(obj, renamed, "v1"),
  fromStorage: (obj) =>
    rename(
      obj,
      renamed.map(([a, b]) => [b, a]),
      "events.k8s.io/v1",
    ),
  fieldLabels: {
    ...Object.fromEntries(refFields.map((f) => [`regarding.${f}`, refField("regarding", f)])),
    reason: (obj) => text(obj, "reason"),
    reportingController: (obj) => text(obj, "reportingController"),
    type: (obj) => text(obj, "type"),
  },
};
