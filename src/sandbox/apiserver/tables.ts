// Server-side printing (meta.k8s.io Table), which kubectl asks for on `get`, with the columns
// kube-apiserver prints for each kind.
import { arrayAt, isObject, type Json, type JsonObject, numberAt, objectAt, stringAt } from "./json.ts";
import type { KubeObject } from "./object.ts";
import { groupVersion, type ResourceDefinition } from "./resource.ts";

interface Column {
  name: string;
  type: "string" | "integer" | "date";
  format?: string;
  priority?: number;
  description: string;
  cell(obj: KubeObject, now: number): string | number;
}

export function humanDuration(ms: number): string {
  const seconds = Math.floor(ms / 1000);
  if (seconds < -1) return "<invalid>";
  if (seconds < 0) return "0s";
  if (seconds < 120) return `${seconds}s`;
  const minutes = Math.floor(seconds / 60);
  if (minutes < 10) return seconds % 60 === 0 ? `${minutes}m` : `${minutes}m${seconds % 60}s`;
  if (minutes < 180) return `${minutes}m`;
  const hours = Math.floor(minutes / 60);
  if (hours < 8) return minutes % 60 === 0 ? `${hours}h` : `${hours}h${minutes % 60}m`;
  if (hours < 48) return `${hours}h`;
  const days = Math.floor(hours / 24);
  if (hours < 24 * 8) return hours % 24 === 0 ? `${days}d` : `${days}d${hours % 24}h`;
  if (hours < 24 * 365 * 2) return `${days}d`;
  const years = Math.floor(days / 365);
  if (hours < 24 * 365 * 8) return days % 365 === 0 ? `${years}y` : `${years}y${days % 365}d`;
  return `${years}y`;
}

function since(time: Json | undefined, now: number): string {
  if (typeof time !== "string") return "<unknown>";
  return humanDuration(now - Date.parse(time));
}

const nameColumn: Column = {
  name: "Name",
  type: "string",
  format: "name",
  description: "Name must be unique within a namespace.",
  cell: (obj) => obj.metadata.name ?? "",
};

const ageColumn: Column = {
  name: "Age",
  type: "string",
  description: "CreationTimestamp is a timestamp representing the server time when this object was created.",
  cell: (obj, now) => since(obj.metadata.creationTimestamp, now),
};

function orNone(values: string[]): string {
  return values.length > 0 ? values.join(",") : "<none>";
}

function selectorText(selector: JsonObject | undefined): string {
  if (!selector) return "<none>";
  return orNone(
    Object.entries(selector)
      .map(([k, v]) => `${k}=${String(v)}`)
      .sort(),
  );
}

function serviceExternalIp(obj: KubeObject): string {
  const spec = objectAt(obj, "spec");
  const type = stringAt(spec, "type") ?? "ClusterIP";
  const external = (arrayAt(spec, "externalIPs") ?? []).map(String);
  if (type === "ExternalName") return stringAt(spec, "externalName") ?? "<none>";
  if (type === "LoadBalancer") {
    const ingress = (arrayAt(objectAt(objectAt(obj, "status"), "loadBalancer"), "ingress") ?? []).filter(
      isObject,
    );
    const addresses = [
      ...ingress.map((i) => stringAt(i, "ip") ?? stringAt(i, "hostname") ?? ""),
      ...external,
    ];
    return addresses.length > 0 ? addresses.filter(Boolean).join(",") : "<pending>";
  }
  return orNone(external);
}

function servicePorts(obj: KubeObject): string {
  const ports = (arrayAt(objectAt(obj, "spec"), "ports") ?? []).filter(isObject);
  return orNone(
    ports.map((p) => {
      const nodePort = numberAt(p, "nodePort");
      return `${String(p.port)}${nodePort ? `:${nodePort}` : ""}/${stringAt(p, "protocol") ?? "TCP"}`;
    }),
  );
}

function conditionStatus(obj: KubeObject, type: string): string | undefined {
  const conditions = (arrayAt(objectAt(obj, "status"), "conditions") ?? []).filter(isObject);
  return stringAt(
    conditions.find((c) => c.type === type),
    "status",
  );
}

function nodeStatus(obj: KubeObject): string {
  const ready = conditionStatus(obj, "Ready");
  let status = ready === "True" ? "Ready" : ready === "False" ? "NotReady" : "Unknown";
  if (objectAt(obj, "spec")?.unschedulable === true) status += ",SchedulingDisabled";
  return status;
}

function nodeRoles(obj: KubeObject): string {
  const roles = Object.keys(obj.metadata.labels ?? {})
    .filter((k) => k.startsWith("node-role.kubernetes.io/"))
    .map((k) => k.slice("node-role.kubernetes.io/".length));
  return orNone(roles.sort());
}

function nodeAddress(obj: KubeObject, type: string): string {
  const addresses = (arrayAt(objectAt(obj, "status"), "addresses") ?? []).filter(isObject);
  return (
    stringAt(
      addresses.find((a) => a.type === type),
      "address",
    ) ?? "<none>"
  );
}

function podReady(obj: KubeObject): string {
  const containers = arrayAt(objectAt(obj, "spec"), "containers") ?? [];
  const statuses = (arrayAt(objectAt(obj, "status"), "containerStatuses") ?? []).filter(isObject);
  return `${statuses.filter((s) => s.ready === true).length}/${containers.length}`;
}

function podRestarts(obj: KubeObject): number {
  const statuses = (arrayAt(objectAt(obj, "status"), "containerStatuses") ?? []).filter(isObject);
  return statuses.reduce((sum, s) => sum + (numberAt(s, "restartCount") ?? 0), 0);
}

function eventObject(obj: KubeObject): string {
  const ref = objectAt(obj, "involvedObject") ?? objectAt(obj, "regarding");
  return `${(stringAt(ref, "kind") ?? "").toLowerCase()}/${stringAt(ref, "name") ?? ""}`;
}

function eventLastSeen(obj: KubeObject, now: number): string {
  const series = objectAt(obj, "series");
  const time = series?.lastObservedTime ?? obj.lastTimestamp ?? obj.deprecatedLastTimestamp ?? obj.eventTime;
  return since(time ?? obj.metadata.creationTimestamp, now);
}

function sliceEndpoints(obj: KubeObject): string {
  const addresses = (arrayAt(obj, "endpoints") ?? [])
    .filter(isObject)
    .flatMap((e) => (arrayAt(e, "addresses") ?? []).map(String));
  if (addresses.length === 0) return "<unset>";
  const shown = addresses.slice(0, 3).join(",");
  return addresses.length > 3 ? `${shown} + ${addresses.length - 3} more...` : shown;
}

function slicePorts(obj: KubeObject): string {
  const ports = (arrayAt(obj, "ports") ?? []).filter(isObject);
  if (ports.length === 0) return "<unset>";
  return ports.map((p) => String(p.port ?? "<unset>")).join(",");
}

const text = (name: string, cell: Column["cell"], priority = 0, description = ""): Column => ({
  name,
  type: "string",
  priority,
  description,
  cell,
});

const columnsByResource: Record<string, Column[]> = {
  "/namespaces": [
    nameColumn,
    text("Status", (o) => stringAt(objectAt(o, "status"), "phase") ?? ""),
    ageColumn,
  ],
  "/services": [
    nameColumn,
    text("Type", (o) => stringAt(objectAt(o, "spec"), "type") ?? "ClusterIP"),
    text("Cluster-IP", (o) => stringAt(objectAt(o, "spec"), "clusterIP") || "<none>"),
    text("External-IP", serviceExternalIp),
    text("Port(s)", servicePorts),
    ageColumn,
    text("Selector", (o) => selectorText(objectAt(objectAt(o, "spec"), "selector")), 1),
  ],
  "/nodes": [
    nameColumn,
    text("Status", nodeStatus),
    text("Roles", nodeRoles),
    ageColumn,
    text("Version", (o) => stringAt(objectAt(objectAt(o, "status"), "nodeInfo"), "kubeletVersion") ?? ""),
    text("Internal-IP", (o) => nodeAddress(o, "InternalIP"), 1),
    text("External-IP", (o) => nodeAddress(o, "ExternalIP"), 1),
  ],
  "/pods": [
    nameColumn,
    text("Ready", podReady),
    text("Status", (o) =>
      o.metadata.deletionTimestamp ? "Terminating" : (stringAt(objectAt(o, "status"), "phase") ?? ""),
    ),
    { name: "Restarts", type: "integer", description: "", cell: podRestarts },
    ageColumn,
    text("IP", (o) => stringAt(objectAt(o, "status"), "podIP") || "<none>", 1),
    text("Node", (o) => stringAt(objectAt(o, "spec"), "nodeName") || "<none>", 1),
  ],
  "/events": [
    text("Last Seen", eventLastSeen),
    text("Type", (o) => stringAt(o, "type") ?? ""),
    text("Reason", (o) => stringAt(o, "reason") ?? ""),
    text("Object", eventObject),
    text("Message", (o) => stringAt(o, "message") ?? stringAt(o, "note") ?? ""),
  ],
  "/configmaps": [
    nameColumn,
    {
      name: "Data",
      type: "integer",
      description: "",
      cell: (o) =>
        Object.keys(objectAt(o, "data") ?? {}).length + Object.keys(objectAt(o, "binaryData") ?? {}).length,
    },
    ageColumn,
  ],
  "discovery.k8s.io/endpointslices": [
    nameColumn,
    text("AddressType", (o) => stringAt(o, "addressType") ?? ""),
    text("Ports", slicePorts),
    text("Endpoints", sliceEndpoints),
    ageColumn,
  ],
  "coordination.k8s.io/leases": [
    nameColumn,
    text("Holder", (o) => stringAt(objectAt(o, "spec"), "holderIdentity") ?? ""),
    ageColumn,
  ],
};
columnsByResource["events.k8s.io/events"] = columnsByResource["/events"] ?? [];

function columnsFor(def: ResourceDefinition): Column[] {
  return columnsByResource[`${def.group}/${def.resource}`] ?? [nameColumn, ageColumn];
}

export type IncludeObject = "None" | "Metadata" | "Object";

export function partialMetadata(obj: KubeObject, apiVersion = "meta.k8s.io/v1"): JsonObject {
  return { kind: "PartialObjectMetadata", apiVersion, metadata: obj.metadata };
}

export interface TableOptions {
  tableVersion: string;
  include: IncludeObject;
  resourceVersion?: string;
  withColumns?: boolean;
}

/** A Table of `objects` (already in the request's API version). */
export function toTable(def: ResourceDefinition, objects: KubeObject[], options: TableOptions): JsonObject {
  const columns = columnsFor(def);
  const now = Date.now();
  const rows = objects.map((obj) => {
    const row: JsonObject = { cells: columns.map((c) => c.cell(obj, now)) };
    if (options.include === "Object") row.object = { ...obj, kind: def.kind, apiVersion: groupVersion(def) };
    else if (options.include === "Metadata")
      row.object = partialMetadata(obj, `meta.k8s.io/${options.tableVersion}`);
    return row;
  });
  const table: JsonObject = {
    kind: "Table",
    apiVersion: `meta.k8s.io/${options.tableVersion}`,
    metadata: options.resourceVersion ? { resourceVersion: options.resourceVersion } : {},
  };
  if (options.withColumns !== false) {
    table.columnDefinitions = columns.map((c) => ({
      name: c.name,
      type: c.type,
      format: c.format ?? "",
      description: c.description,
      priority: c.priority ?? 0,
    }));
  }
  table.rows = rows;
  return table;
}
