// core/v1 Service: defaulting, allocation of cluster IPs and node ports, and validation as
// kube-apiserver does them for a single-stack IPv4 cluster with the default ranges.
import type { FieldErrors } from "../errors.ts";
import {
  arrayAt,
  child,
  deepEqual,
  isObject,
  type Json,
  type JsonObject,
  numberAt,
  objectAt,
  setDefault,
  stringAt,
} from "../json.ts";
import {
  dns1035LabelProblems,
  dns1123LabelProblems,
  dns1123SubdomainProblems,
  qualifiedNameProblems,
} from "../names.ts";
import { isCidr, isIpAddress } from "../net.ts";
import { type KubeObject, keyOf } from "../object.ts";
import type { KindStrategy, StrategyContext } from "../resource.ts";
import { validateLabelMap } from "./common.ts";
import { clusterIpRangeProblem, nodePortRange } from "./service-allocations.ts";

const serviceTypes = ["ClusterIP", "NodePort", "LoadBalancer", "ExternalName"];
const protocols = ["TCP", "UDP", "SCTP"];

function specOf(obj: KubeObject): JsonObject {
  return child(obj, "spec");
}

function portsOf(spec: JsonObject): JsonObject[] {
  return (arrayAt(spec, "ports") ?? []).filter(isObject);
}

function typeOf(spec: JsonObject | undefined): string {
  return stringAt(spec, "type") || "ClusterIP";
}

function needsClusterIp(spec: JsonObject): boolean {
  return typeOf(spec) !== "ExternalName";
}

function isNodePortType(spec: JsonObject): boolean {
  const type = typeOf(spec);
  return type === "NodePort" || type === "LoadBalancer";
}

function allocatesNodePorts(spec: JsonObject): boolean {
  const type = typeOf(spec);
  return type === "NodePort" || (type === "LoadBalancer" && spec.allocateLoadBalancerNodePorts !== false);
}

function needsHealthCheckNodePort(spec: JsonObject): boolean {
  return typeOf(spec) === "LoadBalancer" && spec.externalTrafficPolicy === "Local";
}

function isEmptyIp(value: Json | undefined): boolean {
  return value === undefined || value === null || value === "";
}

/** On update, fill in what the client left out but the server allocated before. */
function patchAllocatedValues(spec: JsonObject, old: JsonObject): void {
  if (needsClusterIp(old) && needsClusterIp(spec)) {
    if (isEmptyIp(spec.clusterIP)) spec.clusterIP = old.clusterIP;
    const ips = arrayAt(spec, "clusterIPs");
    if ((ips === undefined || ips.length === 0) && spec.clusterIP === old.clusterIP && old.clusterIPs) {
      spec.clusterIPs = structuredClone(old.clusterIPs);
    }
  }
  if (isNodePortType(old) && isNodePortType(spec)) {
    const oldByName = new Map<string, number>();
    for (const port of portsOf(old)) {
      const np = numberAt(port, "nodePort");
      if (np) oldByName.set(stringAt(port, "name") ?? "", np);
    }
    const used = new Set(
      portsOf(spec)
        .map((p) => numberAt(p, "nodePort"))
        .filter((n) => n !== undefined),
    );
    for (const port of portsOf(spec)) {
      if (numberAt(port, "nodePort")) continue;
      const previous = oldByName.get(stringAt(port, "name") ?? "");
      if (previous !== undefined && !used.has(previous)) {
        port.nodePort = previous;
        used.add(previous);
      }
    }
  }
  if (
    needsHealthCheckNodePort(old) &&
    needsHealthCheckNodePort(spec) &&
    !numberAt(spec, "healthCheckNodePort")
  ) {
    spec.healthCheckNodePort = old.healthCheckNodePort;
  }
}

/** On a type change, drop fields the new type cannot have, unless the client changed them. */
function dropTypeDependentFields(spec: JsonObject, old: JsonObject): void {
  if (needsClusterIp(old) && !needsClusterIp(spec)) {
    if (deepEqual(spec.clusterIP, old.clusterIP)) delete spec.clusterIP;
    if (deepEqual(spec.clusterIPs, old.clusterIPs)) delete spec.clusterIPs;
    if (deepEqual(spec.ipFamilies, old.ipFamilies)) delete spec.ipFamilies;
    if (deepEqual(spec.ipFamilyPolicy, old.ipFamilyPolicy)) delete spec.ipFamilyPolicy;
    if (deepEqual(spec.internalTrafficPolicy, old.internalTrafficPolicy)) delete spec.internalTrafficPolicy;
  }
  if (isNodePortType(old) && !isNodePortType(spec)) {
    const oldPorts = new Map(portsOf(old).map((p) => [stringAt(p, "name") ?? "", numberAt(p, "nodePort")]));
    for (const port of portsOf(spec)) {
      if (port.nodePort !== undefined && oldPorts.get(stringAt(port, "name") ?? "") === port.nodePort) {
        delete port.nodePort;
      }
    }
    if (deepEqual(spec.externalTrafficPolicy, old.externalTrafficPolicy)) delete spec.externalTrafficPolicy;
  }
  if (needsHealthCheckNodePort(old) && !needsHealthCheckNodePort(spec)) {
    if (spec.healthCheckNodePort === old.healthCheckNodePort) delete spec.healthCheckNodePort;
  }
  if (typeOf(old) === "LoadBalancer" && typeOf(spec) !== "LoadBalancer") {
    if (spec.allocateLoadBalancerNodePorts === old.allocateLoadBalancerNodePorts) {
      delete spec.allocateLoadBalancerNodePorts;
    }
    if (spec.loadBalancerClass === old.loadBalancerClass) delete spec.loadBalancerClass;
  }
}

function applyDefaults(spec: JsonObject): void {
  setDefault(spec, "type", "ClusterIP");
  setDefault(spec, "sessionAffinity", "None");
  for (const port of portsOf(spec)) {
    setDefault(port, "protocol", "TCP");
    if (port.targetPort === undefined || port.targetPort === 0 || port.targetPort === "") {
      port.targetPort = port.port ?? 0;
    }
  }
  if (typeOf(spec) !== "ExternalName") setDefault(spec, "internalTrafficPolicy", "Cluster");
  if (isNodePortType(spec)) setDefault(spec, "externalTrafficPolicy", "Cluster");
  if (typeOf(spec) === "LoadBalancer") setDefault(spec, "allocateLoadBalancerNodePorts", true);
  if (needsClusterIp(spec)) {
    const ips = arrayAt(spec, "clusterIPs");
    if (!isEmptyIp(spec.clusterIP) && (ips === undefined || ips.length === 0))
      spec.clusterIPs = [spec.clusterIP ?? ""];
    else if (isEmptyIp(spec.clusterIP) && ips && ips.length > 0) spec.clusterIP = ips[0];
    setDefault(spec, "ipFamilyPolicy", "SingleStack");
    const families = arrayAt(spec, "ipFamilies");
    if (families === undefined || families.length === 0) spec.ipFamilies = ["IPv4"];
  }
}

function allocate(
  obj: KubeObject,
  old: KubeObject | undefined,
  errors: FieldErrors,
  ctx: StrategyContext,
): void {
  const spec = specOf(obj);
  const oldSpec = old ? objectAt(old, "spec") : undefined;
  const owner = keyOf(obj);
  const { allocations } = ctx;

  if (needsClusterIp(spec) && spec.clusterIP !== "None") {
    const keptFromOld = oldSpec && needsClusterIp(oldSpec) && spec.clusterIP === oldSpec.clusterIP;
    if (!keptFromOld) {
      if (isEmptyIp(spec.clusterIP)) {
        const ip = allocations.pickIp(owner, new Set());
        if (ip === undefined)
          errors.invalid("spec.clusterIPs", [], "failed to allocate a service IP: range is full");
        else {
          spec.clusterIP = ip;
          spec.clusterIPs = [ip];
        }
      } else {
        const ip = String(spec.clusterIP);
        const problem =
          clusterIpRangeProblem(ip) ??
          (allocations.ipFree(ip, owner) ? undefined : "provided IP is already allocated");
        if (problem) errors.invalid("spec.clusterIPs", [ip], `failed to allocate IP ${ip}: ${problem}`);
      }
    }
  } else if (spec.clusterIP === "None") {
    spec.clusterIPs = ["None"];
  }

  const taken = new Set<number>();
  if (isNodePortType(spec)) {
    const ports = portsOf(spec);
    ports.forEach((port, i) => {
      const given = numberAt(port, "nodePort");
      if (!given) return;
      const field = `spec.ports[${i}].nodePort`;
      const sibling = ports
        .slice(0, i)
        .some((p) => p.nodePort === given && p.port === port.port && p.protocol !== port.protocol);
      if (given < nodePortRange.min || given > nodePortRange.max) {
        errors.invalid(
          field,
          given,
          `provided port is not in the valid range. The range of valid ports is ${nodePortRange.min}-${nodePortRange.max}`,
        );
      } else if (!allocations.portFree(given, owner)) {
        errors.invalid(field, given, "provided port is already allocated");
      } else if (taken.has(given) && !sibling) {
        errors.duplicate(field, given);
      }
      taken.add(given);
    });
    if (allocatesNodePorts(spec)) {
      ports.forEach((port, i) => {
        if (numberAt(port, "nodePort")) return;
        const sibling = ports
          .slice(0, i)
          .find((p) => p.port === port.port && p.protocol !== port.protocol && numberAt(p, "nodePort"));
        const picked = sibling ? numberAt(sibling, "nodePort") : allocations.pickPort(owner, taken);
        if (picked === undefined) {
          errors.invalid(`spec.ports[${i}].nodePort`, 0, "failed to allocate a nodePort: range is full");
          return;
        }
        port.nodePort = picked;
        taken.add(picked);
      });
    }
  }

  if (needsHealthCheckNodePort(spec)) {
    const given = numberAt(spec, "healthCheckNodePort");
    if (given) {
      const keptFromOld =
        oldSpec && needsHealthCheckNodePort(oldSpec) && oldSpec.healthCheckNodePort === given;
      if (given < nodePortRange.min || given > nodePortRange.max) {
        errors.invalid(
          "spec.healthCheckNodePort",
          given,
          `provided port is not in the valid range. The range of valid ports is ${nodePortRange.min}-${nodePortRange.max}`,
        );
      } else if (!keptFromOld && (!allocations.portFree(given, owner) || taken.has(given))) {
        errors.invalid("spec.healthCheckNodePort", given, "provided port is already allocated");
      }
    } else {
      const picked = allocations.pickPort(owner, taken);
      if (picked === undefined)
        errors.invalid("spec.healthCheckNodePort", 0, "failed to allocate a nodePort: range is full");
      else spec.healthCheckNodePort = picked;
    }
  }
}

const ianaServiceName = /^[a-z0-9]([a-z0-9-]{0,13}[a-z0-9])?$/;

function validatePorts(spec: JsonObject, errors: FieldErrors): void {
  const ports = arrayAt(spec, "ports") ?? [];
  const type = typeOf(spec);
  if (ports.length === 0 && type !== "ExternalName" && spec.clusterIP !== "None")
    errors.required("spec.ports");
  const names = new Set<string>();
  const seen = new Set<string>();
  ports.forEach((raw, i) => {
    const field = `spec.ports[${i}]`;
    if (!isObject(raw)) {
      errors.invalid(field, raw, "must be an object");
      return;
    }
    const name = stringAt(raw, "name") ?? "";
    if (ports.length > 1 && name === "") errors.required(`${field}.name`);
    if (name !== "") {
      for (const p of dns1123LabelProblems(name)) errors.invalid(`${field}.name`, name, p);
      if (names.has(name)) errors.duplicate(`${field}.name`, name);
      names.add(name);
    }
    const port = raw.port;
    if (typeof port !== "number" || !Number.isInteger(port) || port < 1 || port > 65535) {
      if (port === undefined) errors.required(`${field}.port`);
      else errors.invalid(`${field}.port`, port, "must be between 1 and 65535, inclusive");
    }
    const protocol = raw.protocol;
    if (typeof protocol !== "string" || !protocols.includes(protocol))
      errors.unsupported(`${field}.protocol`, protocol, protocols);
    const target = raw.targetPort;
    if (typeof target === "number") {
      if (!Number.isInteger(target) || target < 1 || target > 65535) {
        errors.invalid(`${field}.targetPort`, target, "must be between 1 and 65535, inclusive");
      }
    } else if (typeof target === "string") {
      if (!ianaServiceName.test(target) || !/[a-z]/.test(target) || target.includes("--")) {
        errors.invalid(
          `${field}.targetPort`,
          target,
          "must contain only alpha-numeric characters (a-z, 0-9), and hyphens (-), at most 15 characters, at least one letter",
        );
      }
    }
    const nodePort = raw.nodePort;
    if (nodePort !== undefined && nodePort !== 0 && type === "ClusterIP") {
      errors.forbidden(`${field}.nodePort`, "may not be used when `type` is 'ClusterIP'");
    }
    const identity = `${String(port)}/${String(protocol)}`;
    if (seen.has(identity)) errors.duplicate(field, `${String(port)}/${String(protocol)}`);
    seen.add(identity);
  });
}

function validateService(obj: KubeObject, old: KubeObject | undefined, errors: FieldErrors): void {
  const spec = specOf(obj);
  const type = typeOf(spec);
  if (!serviceTypes.includes(type)) errors.unsupported("spec.type", type, serviceTypes);
  validatePorts(spec, errors);

  const affinity = spec.sessionAffinity;
  if (affinity !== "None" && affinity !== "ClientIP")
    errors.unsupported("spec.sessionAffinity", affinity, ["ClientIP", "None"]);

  const etp = spec.externalTrafficPolicy;
  if (isNodePortType(spec)) {
    if (etp !== "Cluster" && etp !== "Local")
      errors.unsupported("spec.externalTrafficPolicy", etp, ["Cluster", "Local"]);
  } else if (etp !== undefined && etp !== "") {
    errors.invalid(
      "spec.externalTrafficPolicy",
      etp,
      "may only be set when `type` is 'NodePort' or 'LoadBalancer'",
    );
  }
  const itp = spec.internalTrafficPolicy;
  if (itp !== undefined && itp !== "Cluster" && itp !== "Local") {
    errors.unsupported("spec.internalTrafficPolicy", itp, ["Cluster", "Local"]);
  }

  const hc = spec.healthCheckNodePort;
  if (hc !== undefined && hc !== 0 && !needsHealthCheckNodePort(spec)) {
    errors.invalid(
      "spec.healthCheckNodePort",
      hc,
      "may only be set when `type` is 'LoadBalancer' and `externalTrafficPolicy` is 'Local'",
    );
  }

  const lbClass = spec.loadBalancerClass;
  if (lbClass !== undefined && lbClass !== null) {
    if (type !== "LoadBalancer")
      errors.forbidden("spec.loadBalancerClass", "may only be used when `type` is 'LoadBalancer'");
    else if (typeof lbClass !== "string")
      errors.invalid("spec.loadBalancerClass", lbClass, "must be a string");
    else for (const p of qualifiedNameProblems(lbClass)) errors.invalid("spec.loadBalancerClass", lbClass, p);
  }
  if (spec.allocateLoadBalancerNodePorts !== undefined && type !== "LoadBalancer") {
    errors.forbidden("spec.allocateLoadBalancerNodePorts", "may only be used when `type` is 'LoadBalancer'");
  }
  const ranges = arrayAt(spec, "loadBalancerSourceRanges");
  if (ranges && ranges.length > 0) {
    if (type !== "LoadBalancer")
      errors.forbidden("spec.loadBalancerSourceRanges", "may only be used when `type` is 'LoadBalancer'");
    ranges.forEach((r, i) => {
      if (!isCidr(String(r).trim()))
        errors.invalid(`spec.loadBalancerSourceRanges[${i}]`, r, "must be a valid CIDR");
    });
  }

  if (type === "ExternalName") {
    const name = stringAt(spec, "externalName");
    if (!name) errors.required("spec.externalName");
    else
      for (const p of dns1123SubdomainProblems(name.replace(/\.$/, "")))
        errors.invalid("spec.externalName", name, p);
    if (!isEmptyIp(spec.clusterIP))
      errors.forbidden("spec.clusterIP", "may not be set for ExternalName services");
  } else {
    const ip = spec.clusterIP;
    if (!isEmptyIp(ip) && ip !== "None" && !isIpAddress(ip))
      errors.invalid("spec.clusterIPs[0]", ip, "must be a valid IP address");
    const ips = arrayAt(spec, "clusterIPs");
    if (ips && ips.length > 0 && ips[0] !== ip)
      errors.invalid("spec.clusterIPs", ips, "first value must match `clusterIP`");
    const policy = spec.ipFamilyPolicy;
    if (policy === "RequireDualStack") {
      errors.invalid("spec.ipFamilyPolicy", policy, "this cluster is not configured for dual-stack services");
    } else if (policy !== "SingleStack" && policy !== "PreferDualStack") {
      errors.unsupported("spec.ipFamilyPolicy", policy, [
        "PreferDualStack",
        "RequireDualStack",
        "SingleStack",
      ]);
    }
    (arrayAt(spec, "ipFamilies") ?? []).forEach((family, i) => {
      if (family === "IPv6")
        errors.invalid(`spec.ipFamilies[${i}]`, family, "not configured on this cluster");
      else if (family !== "IPv4") errors.unsupported(`spec.ipFamilies[${i}]`, family, ["IPv4", "IPv6"]);
    });
  }

  const selector = spec.selector;
  if (selector !== undefined && selector !== null) validateLabelMap(selector, "spec.selector", errors);

  if (old) {
    const oldSpec = objectAt(old, "spec") ?? {};
    if (
      needsClusterIp(oldSpec) &&
      needsClusterIp(spec) &&
      !isEmptyIp(oldSpec.clusterIP) &&
      spec.clusterIP !== oldSpec.clusterIP
    ) {
      errors.invalid("spec.clusterIPs[0]", spec.clusterIP ?? "", "may not change once set");
    }
    if (
      typeOf(oldSpec) === "LoadBalancer" &&
      type === "LoadBalancer" &&
      (oldSpec.loadBalancerClass ?? null) !== (spec.loadBalancerClass ?? null)
    ) {
      errors.invalid("spec.loadBalancerClass", spec.loadBalancerClass ?? "null", "may not change once set");
    }
  }
}

function validateServiceStatus(obj: KubeObject, errors: FieldErrors): void {
  const ingress = arrayAt(objectAt(objectAt(obj, "status"), "loadBalancer"), "ingress") ?? [];
  ingress.forEach((raw, i) => {
    const field = `status.loadBalancer.ingress[${i}]`;
    if (!isObject(raw)) {
      errors.invalid(field, raw, "must be an object");
      return;
    }
    const ip = raw.ip;
    if (ip !== undefined && ip !== "" && !isIpAddress(ip))
      errors.invalid(`${field}.ip`, ip, "must be a valid IP address");
    const hostname = raw.hostname;
    if (typeof hostname === "string" && hostname !== "") {
      for (const p of dns1123SubdomainProblems(hostname)) errors.invalid(`${field}.hostname`, hostname, p);
      if (isIpAddress(hostname))
        errors.invalid(`${field}.hostname`, hostname, "must be a DNS name, not an IP address");
    }
    const mode = raw.ipMode;
    if (mode !== undefined) {
      if (mode !== "VIP" && mode !== "Proxy") errors.unsupported(`${field}.ipMode`, mode, ["Proxy", "VIP"]);
      if (ip === undefined || ip === "")
        errors.forbidden(`${field}.ipMode`, "may not be specified when `ip` is not");
    }
    (arrayAt(raw, "ports") ?? []).forEach((port, j) => {
      const pf = `${field}.ports[${j}]`;
      if (!isObject(port)) return;
      const n = port.port;
      if (typeof n !== "number" || n < 1 || n > 65535)
        errors.invalid(`${pf}.port`, n, "must be between 1 and 65535, inclusive");
      if (typeof port.protocol !== "string" || !protocols.includes(port.protocol)) {
        errors.unsupported(`${pf}.protocol`, port.protocol, protocols);
      }
    });
  });
}

export const serviceStrategy: KindStrategy = {
  nameRule: dns1035LabelProblems,
  statusSubresource: true,
  createOnUpdate: true,
  returnDeletedObject: true,
  fieldLabels: {
    "spec.clusterIP": (obj) => stringAt(objectAt(obj, "spec"), "clusterIP") ?? "",
    "spec.type": (obj) => stringAt(objectAt(obj, "spec"), "type") ?? "",
  },
  prepareCreate(obj) {
    obj.status = { loadBalancer: {} };
    applyDefaults(specOf(obj));
  },
  prepareUpdate(obj, old) {
    const spec = specOf(obj);
    const oldSpec = objectAt(old, "spec") ?? {};
    patchAllocatedValues(spec, oldSpec);
    dropTypeDependentFields(spec, oldSpec);
    applyDefaults(spec);
  },
  validate: validateService,
  allocate,
  validateStatus: validateServiceStatus,
  committed(previous, next, ctx) {
    ctx.allocations.sync(previous, next);
  },
};
