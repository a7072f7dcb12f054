import type { FieldErrors } from "../errors.ts";
import {
  arrayAt,
  child,
  deepEqual,
  isObject,
  type JsonObject,
  objectAt,
  setDefault,
  stringAt,
} from "../json.ts";
import { dns1123LabelProblems, dns1123SubdomainProblems } from "../names.ts";
import { isIpAddress } from "../net.ts";
import type { KubeObject } from "../object.ts";
import type { KindStrategy } from "../resource.ts";
import { normaliseTimes } from "../times.ts";

const containerLists = ["initContainers", "containers"] as const;

function containersOf(spec: JsonObject | undefined, list: string): JsonObject[] {
  return (arrayAt(spec, list) ?? []).filter(isObject);
}

function qosClass(spec: JsonObject): string {
  const containers = containersOf(spec, "containers");
  const resources = containers.map((c) => objectAt(c, "resources") ?? {});
  const hasAny = resources.some(
    (r) =>
      Object.keys(objectAt(r, "requests") ?? {}).length + Object.keys(objectAt(r, "limits") ?? {}).length > 0,
  );
  if (!hasAny) return "BestEffort";
  const guaranteed = resources.every((r) => {
    const limits = objectAt(r, "limits") ?? {};
    const requests = objectAt(r, "requests") ?? limits;
    return ["cpu", "memory"].every(
      (k) => limits[k] !== undefined && deepEqual(limits[k], requests[k] ?? limits[k]),
    );
  });
  return guaranteed ? "Guaranteed" : "Burstable";
}

function applyDefaults(spec: JsonObject): void {
  setDefault(spec, "restartPolicy", "Always");
  setDefault(spec, "dnsPolicy", "ClusterFirst");
  setDefault(spec, "schedulerName", "default-scheduler");
  setDefault(spec, "terminationGracePeriodSeconds", 30);
  setDefault(spec, "securityContext", {});
  setDefault(spec, "enableServiceLinks", true);
  // What the ServiceAccount, DefaultTolerationSeconds and Priority admission plugins add.
  setDefault(spec, "serviceAccountName", "default");
  setDefault(spec, "serviceAccount", spec.serviceAccountName ?? "default");
  setDefault(spec, "priority", 0);
  setDefault(spec, "preemptionPolicy", "PreemptLowerPriority");
  addDefaultTolerations(spec);
  for (const list of containerLists) {
    for (const c of containersOf(spec, list)) {
      const image = stringAt(c, "image") ?? "";
      const tagged = /:[^/]+$/.test(image.split("@")[0] ?? "");
      setDefault(c, "imagePullPolicy", !tagged || image.endsWith(":latest") ? "Always" : "IfNotPresent");
      setDefault(c, "terminationMessagePath", "/dev/termination-log");
      setDefault(c, "terminationMessagePolicy", "File");
      setDefault(c, "resources", {});
      for (const port of (arrayAt(c, "ports") ?? []).filter(isObject)) setDefault(port, "protocol", "TCP");
    }
  }
}

const defaultTolerations = ["node.kubernetes.io/not-ready", "node.kubernetes.io/unreachable"];

function addDefaultTolerations(spec: JsonObject): void {
  const tolerations = (arrayAt(spec, "tolerations") ?? []).filter(isObject);
  for (const key of defaultTolerations) {
    if (tolerations.some((t) => t.key === key || (t.operator === "Exists" && !t.key))) continue;
    tolerations.push({ key, operator: "Exists", effect: "NoExecute", tolerationSeconds: 300 });
  }
  spec.tolerations = tolerations;
}

/** Pod spec fields an update may change; everything else is immutable. */
function mutableView(spec: JsonObject | undefined): JsonObject {
  const copy = structuredClone(spec ?? {});
  for (const list of containerLists) for (const c of containersOf(copy, list)) delete c.image;
  delete copy.activeDeadlineSeconds;
  delete copy.tolerations;
  delete copy.terminationGracePeriodSeconds;
  return copy;
}

function validatePod(obj: KubeObject, old: KubeObject | undefined, errors: FieldErrors): void {
  const spec = objectAt(obj, "spec");
  const containers = arrayAt(spec, "containers") ?? [];
  if (containers.length === 0) errors.required("spec.containers");
  const names = new Set<string>();
  for (const list of containerLists) {
    (arrayAt(spec, list) ?? []).forEach((c, i) => {
      const field = `spec.${list}[${i}]`;
      if (!isObject(c)) {
        errors.invalid(field, c, "must be an object");
        return;
      }
      const name = stringAt(c, "name") ?? "";
      if (name === "") errors.required(`${field}.name`);
      else for (const p of dns1123LabelProblems(name)) errors.invalid(`${field}.name`, name, p);
      if (names.has(name)) errors.duplicate(`${field}.name`, name);
      names.add(name);
      if (!stringAt(c, "image")) errors.required(`${field}.image`);
    });
  }
  const nodeName = stringAt(spec, "nodeName");
  if (nodeName)
    for (const p of dns1123SubdomainProblems(nodeName)) errors.invalid("spec.nodeName", nodeName, p);
  if (old && !deepEqual(mutableView(spec), mutableView(objectAt(old, "spec")))) {
    errors.forbidden(
      "spec",
      "pod updates may not change fields other than `spec.containers[*].image`,`spec.initContainers[*].image`,`spec.activeDeadlineSeconds`,`spec.tolerations` (only additions to existing tolerations),`spec.terminationGracePeriodSeconds` (allow it to be set to 1 if it was previously negative)",
    );
  }
}

function validatePodStatus(obj: KubeObject, _old: KubeObject, errors: FieldErrors): void {
  const status = objectAt(obj, "status");
  const podIp = status?.podIP;
  if (podIp !== undefined && podIp !== "" && !isIpAddress(podIp))
    errors.invalid("status.podIP", podIp, "must be a valid IP address");
  (arrayAt(status, "podIPs") ?? []).forEach((entry, i) => {
    const ip = isObject(entry) ? entry.ip : undefined;
    if (!isIpAddress(ip)) errors.invalid(`status.podIPs[${i}].ip`, ip ?? "", "must be a valid IP address");
  });
}

const statusField = (field: string) => (obj: KubeObject) => stringAt(objectAt(obj, "status"), field) ?? "";
const specField = (field: string) => (obj: KubeObject) => String(objectAt(obj, "spec")?.[field] ?? "");

export const podStrategy: KindStrategy = {
  decode: (obj) =>
    normaliseTimes(
      obj,
      [
        ["status.startTime", "time"],
        ["status.conditions[].lastProbeTime", "time"],
        ["status.conditions[].lastTransitionTime", "time"],
      ],
      "Pod",
    ),
  nameRule: dns1123SubdomainProblems,
  statusSubresource: true,
  createOnUpdate: false,
  returnDeletedObject: true,
  fieldLabels: {
    "spec.nodeName": specField("nodeName"),
    "spec.restartPolicy": specField("restartPolicy"),
    "spec.schedulerName": specField("schedulerName"),
    "spec.serviceAccountName": specField("serviceAccountName"),
    "spec.hostNetwork": (obj) => String(objectAt(obj, "spec")?.hostNetwork === true),
    "status.phase": statusField("phase"),
    "status.podIP": statusField("podIP"),
    "status.nominatedNodeName": statusField("nominatedNodeName"),
  },
  prepareCreate(obj) {
    const spec = child(obj, "spec");
    applyDefaults(spec);
    obj.status = { phase: "Pending", qosClass: qosClass(spec) };
  },
  prepareUpdate(obj) {
    applyDefaults(child(obj, "spec"));
  },
  bumpsGeneration: (obj, old) => !deepEqual(obj.spec, old.spec),
  prepareStatusUpdate(obj, old) {
    // Old kubelets corrupted owner references through /status, so the real server keeps them.
    if (old.metadata.ownerReferences === undefined) delete obj.metadata.ownerReferences;
    else obj.metadata.ownerReferences = old.metadata.ownerReferences;
    const status = child(obj, "status");
    const oldQos = objectAt(old, "status")?.qosClass;
    if (!status.qosClass && oldQos !== undefined) status.qosClass = oldQos;
  },
  validate: validatePod,
  validateStatus: validatePodStatus,
};
