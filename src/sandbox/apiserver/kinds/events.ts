// Events are stored once, in core/v1 shape; events.k8s.io/v1 is a second view of the same
// objects with renamed fields, as in kube-apiserver.
import type { FieldErrors } from "../errors.ts";
import { type JsonObject, objectAt, stringAt } from "../json.ts";
import { dns1123SubdomainProblems, qualifiedNameProblems } from "../names.ts";
import type { KubeObject } from "../object.ts";
import type { KindStrategy, VersionConversion } from "../resource.ts";

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

function validateCoreEvent(obj: KubeObject, _old: KubeObject | undefined, errors: FieldErrors): void {
  const namespace = obj.metadata.namespace ?? "";
  const involvedNamespace = stringAt(objectAt(obj, "involvedObject"), "namespace") ?? "";
  const eventTime = obj.eventTime;
  if (eventTime === undefined || eventTime === null || eventTime === "") {
    const matches =
      involvedNamespace === ""
        ? namespace === "" || namespace === "default"
        : namespace === involvedNamespace;
    if (!matches)
      errors.invalid("involvedObject.namespace", involvedNamespace, "does not match event.namespace");
  } else {
    if (involvedNamespace === "" && namespace !== "default" && namespace !== "kube-system") {
      errors.invalid("involvedObject.namespace", involvedNamespace, "does not match event.namespace");
    }
    const controller = text(obj, "reportingComponent");
    if (controller === "") errors.required("reportingComponent");
    else
      for (const p of qualifiedNameProblems(controller)) errors.invalid("reportingComponent", controller, p);
    if (text(obj, "reportingInstance") === "") errors.required("reportingInstance");
    if (text(obj, "action") === "") errors.required("action");
    if (text(obj, "reason") === "") errors.required("reason");
  }
}

export const eventStrategy: KindStrategy = {
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
  validate: validateCoreEvent,
};

function validateEventsV1(obj: KubeObject, errors: FieldErrors): void {
  if (obj.eventTime === undefined || obj.eventTime === null || obj.eventTime === "")
    errors.required("eventTime");
  const type = obj.type;
  if (type !== "Normal" && type !== "Warning") errors.unsupported("type", type, ["Normal", "Warning"]);
  const controller = text(obj, "reportingController");
  if (controller === "") errors.required("reportingController");
  for (const field of ["reportingInstance", "action", "reason"]) {
    const value = text(obj, field);
    if (value === "") errors.required(field);
    else if (value.length > 128) errors.tooLong(field, 128);
  }
  if (text(obj, "note").length > 1024) errors.tooLong("note", 1024);
}

export const eventsV1Conversion: VersionConversion = {
  toStorage: (obj) => rename(obj, renamed, "v1"),
  fromStorage: (obj) =>
    rename(
      obj,
      renamed.map(([a, b]) => [b, a]),
      "events.k8s.io/v1",
    ),
  validate: validateEventsV1,
  fieldLabels: {
    ...Object.fromEntries(refFields.map((f) => [`regarding.${f}`, refField("regarding", f)])),
    reason: (obj) => text(obj, "reason"),
    reportingController: (obj) => text(obj, "reportingController"),
    type: (obj) => text(obj, "type"),
  },
};
