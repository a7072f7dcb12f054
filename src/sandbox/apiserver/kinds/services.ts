// core/v1 Service: defaulting, allocation of cluster IPs and node ports, and validation as
// kube-apiserver does them for a single-stack IPv4 cluster with the default ranges.
import { type FieldErrors, internalError } from "../errors.ts";
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
import { invalidCidrMessage, invalidIpMessage, isCidr, isIpAddress, legacyIpProblems } from "../net.ts";
import { type KubeObject, keyOf } from "../object.ts";
import type { KindStrategy, StrategyContext } from "../resource.ts";
import { normaliseTimes } from "../times.ts";
import { validateLabelMap } from "./common.ts";
import { clusterIpRangeProblem, nodePortRange } from "./service-allocations.ts";

const serviceTypes = ["ClusterIP", "ExternalName", "LoadBalancer", "NodePort"];
const protocols = ["SCTP", "TCP", "UDP"];

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
    // Headless Services without a selector get every family (and so must have both).
    const allFamilies = spec.clusterIP === "None" && !isObject(spec.selector);
    setDefault(spec, "ipFamilyPolicy", allFamilies ? "RequireDualStack" : "SingleStack");
    const families = arrayAt(spec, "ipFamilies");
    if (families === undefined || families.length === 0)
      spec.ipFamilies = allFamilies ? ["IPv4", "IPv6"] : ["IPv4"];
  }
  if (portsOf(spec).length === 0) delete spec.ports;
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
      } else if (!allocations.portFree(given, owner) || (taken.has(given) && !sibling)) {
        errors.invalid(field, given, "provided port is already allocated");
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
      // The real allocator reports a requested health check port it cannot have as a 500.
      const refuse = (why: string) => {
        throw internalError(`failed to allocate requested HealthCheck NodePort ${given}: ${why}`);
      };
      if (given < nodePortRange.min || given > nodePortRange.max) {
        refuse(
          `provided port is not in the valid range. The range of valid ports is ${nodePortRange.min}-${nodePortRange.max}`,
        );
      } else if (!keptFromOld && (!allocations.portFree(given, owner) || taken.has(given))) {
        refuse("provided port is already allocated");
      }
    } else {
      const picked = allocations.pickPort(owner, taken);
      if (picked === undefined)
        errors.invalid("spec.healthCheckNodePort", 0, "failed to allocate a nodePort: range is full");
      else spec.healthCheckNodePort = picked;
    }
  }
}

/** IsValidPortName: every rule an IANA service name breaks, each a separate error. */
function portNameProblems(name: string): string[] {
  const problems: string[] = [];
  if (name.length > 15) problems.push("must be no more than 15 characters");
  if (!/^[-a-z0-9]+$/.test(name))
    problems.push("must contain only alpha-numeric characters (a-z, 0-9), and hyphens (-)");
  if (!/[a-z]/.test(name)) problems.push("must contain at least one letter (a-z)");
  if (name.includes("--")) problems.push("must not contain consecutive hyphens");
  if (name.startsWith("-") || name.endsWith("-")) problems.push("must not begin or end with a hyphen");
  return problems;
}

const portRangeMessage = "must be between 1 and 65535, inclusive";

function validPortNumber(value: unknown): boolean {
  return typeof value === "number" && Number.isInteger(value) && value >= 1 && value <= 65535;
}

/** validateServicePort: name, port, protocol, targetPort, appProtocol, in that order. */
function validatePort(
  raw: JsonObject,
  field: string,
  requireName: boolean,
  names: Set<string>,
  errors: FieldErrors,
): void {
  const name = stringAt(raw, "name") ?? "";
  if (requireName && name === "") errors.required(`${field}.name`);
  else if (name !== "") {
    for (const p of dns1123LabelProblems(name)) errors.invalid(`${field}.name`, name, p);
    if (names.has(name)) errors.duplicate(`${field}.name`, name);
    else names.add(name);
  }
  if (!validPortNumber(raw.port)) errors.invalid(`${field}.port`, raw.port ?? 0, portRangeMessage);
  const protocol = raw.protocol;
  if (typeof protocol !== "string" || !protocols.includes(protocol))
    errors.unsupported(`${field}.protocol`, protocol, protocols);
  const target = raw.targetPort;
  if (typeof target === "string") {
    for (const p of portNameProblems(target)) errors.invalid(`${field}.targetPort`, target, p);
  } else if (!validPortNumber(target)) errors.invalid(`${field}.targetPort`, target ?? 0, portRangeMessage);
  const appProtocol = stringAt(raw, "appProtocol");
  if (appProtocol !== undefined)
    for (const p of qualifiedNameProblems(appProtocol))
      errors.invalid(`${field}.appProtocol`, appProtocol, p);
}

/** The ServicePort a duplicate is reported as: Go's struct with only protocol and port set. */
function portKey(port: JsonObject): string {
  return JSON.stringify({
    Name: "",
    Protocol: port.protocol ?? "",
    AppProtocol: null,
    Port: port.port ?? 0,
    TargetPort: 0,
    NodePort: 0,
  });
}

function validatePorts(spec: JsonObject, errors: FieldErrors): void {
  const ports = portsOf(spec);
  const names = new Set<string>();
  ports.forEach((port, i) => {
    validatePort(port, `spec.ports[${i}]`, ports.length > 1, names, errors);
  });
}

function validatePortDuplicates(spec: JsonObject, errors: FieldErrors): void {
  const ports = portsOf(spec);
  if (typeOf(spec) === "ClusterIP") {
    ports.forEach((port, i) => {
      if (port.nodePort !== undefined && port.nodePort !== 0)
        errors.forbidden(`spec.ports[${i}].nodePort`, "may not be used when `type` is 'ClusterIP'");
    });
  }
  // A node port used twice never gets here: allocation (which runs first on the real server)
  // already refused it as "provided port is already allocated".
  const seen = new Set<string>();
  ports.forEach((port, i) => {
    const key = portKey(port);
    if (seen.has(key)) errors.add("FieldValueDuplicate", `spec.ports[${i}]`, `Duplicate value: ${key}`);
    seen.add(key);
  });
}

function isHeadless(spec: JsonObject): boolean {
  return spec.clusterIP === "None";
}

function validateTypeSpecific(spec: JsonObject, errors: FieldErrors): void {
  const type = typeOf(spec);
  if ((type === "LoadBalancer" || type === "NodePort") && isHeadless(spec)) {
    errors.invalid("spec.clusterIPs[0]", "None", `may not be set to 'None' for ${type} services`);
  }
  if (type !== "ExternalName") return;
  if ((arrayAt(spec, "clusterIPs") ?? []).length > 0)
    errors.forbidden("spec.clusterIPs", "may not be set for ExternalName services");
  if ((arrayAt(spec, "ipFamilies") ?? []).length > 0)
    errors.forbidden("spec.ipFamilies", "may not be set for ExternalName services");
  if (spec.ipFamilyPolicy !== undefined && spec.ipFamilyPolicy !== null)
    errors.forbidden("spec.ipFamilyPolicy", "may not be set for ExternalName services");
  const cname = (stringAt(spec, "externalName") ?? "").replace(/\.$/, "");
  if (cname === "") errors.required("spec.externalName");
  else for (const p of dns1123SubdomainProblems(cname)) errors.invalid("spec.externalName", cname, p);
}

function validateClusterIpFields(spec: JsonObject, errors: FieldErrors): void {
  if (typeOf(spec) === "ExternalName") return;
  const ip = spec.clusterIP;
  if (!isEmptyIp(ip) && ip !== "None" && !isIpAddress(ip))
    errors.invalid("spec.clusterIPs[0]", ip, invalidIpMessage);
  const ips = arrayAt(spec, "clusterIPs");
  if (ips && ips.length > 0 && ips[0] !== ip)
    errors.invalid("spec.clusterIPs", ips, "first value must match `clusterIP`");
  const policy = spec.ipFamilyPolicy;
  if (policy === "RequireDualStack" && !isHeadless(spec)) {
    errors.invalid("spec.ipFamilyPolicy", policy, "this cluster is not configured for dual-stack services");
  } else if (policy !== "SingleStack" && policy !== "PreferDualStack" && policy !== "RequireDualStack") {
    errors.unsupported("spec.ipFamilyPolicy", policy, ["PreferDualStack", "RequireDualStack", "SingleStack"]);
  }
  (arrayAt(spec, "ipFamilies") ?? []).forEach((family, i) => {
    if (family === "IPv6" && !isHeadless(spec))
      errors.invalid(`spec.ipFamilies[${i}]`, family, "not configured on this cluster");
    else if (family !== "IPv4" && family !== "IPv6")
      errors.unsupported(`spec.ipFamilies[${i}]`, family, ["IPv4", "IPv6"]);
  });
}

function validateSourceRanges(spec: JsonObject, errors: FieldErrors): void {
  const ranges = arrayAt(spec, "loadBalancerSourceRanges") ?? [];
  if (ranges.length === 0) return;
  // Sic: the real server names this field with a capital L.
  if (typeOf(spec) !== "LoadBalancer")
    errors.forbidden("spec.LoadBalancerSourceRanges", "may only be used when `type` is 'LoadBalancer'");
  ranges.forEach((r, i) => {
    const value = String(r).trim();
    if (!isCidr(value)) errors.invalid(`spec.LoadBalancerSourceRanges[${i}]`, value, invalidCidrMessage);
  });
}

function validateLoadBalancerClass(spec: JsonObject, old: JsonObject | undefined, errors: FieldErrors): void {
  const lbClass = spec.loadBalancerClass;
  const isLb = typeOf(spec) === "LoadBalancer";
  if (
    old &&
    typeOf(old) === "LoadBalancer" &&
    isLb &&
    (old.loadBalancerClass ?? null) !== (lbClass ?? null)
  ) {
    errors.invalid("spec.loadBalancerClass", lbClass ?? null, "may not change once set");
  }
  if (lbClass === undefined || lbClass === null) return;
  if (!isLb) errors.forbidden("spec.loadBalancerClass", "may only be used when `type` is 'LoadBalancer'");
  else
    for (const p of qualifiedNameProblems(String(lbClass)))
      errors.invalid("spec.loadBalancerClass", lbClass, p);
}

function validateTrafficPolicies(spec: JsonObject, errors: FieldErrors): void {
  const etp = spec.externalTrafficPolicy;
  if (!isNodePortType(spec)) {
    if (etp !== undefined && etp !== "")
      errors.invalid("spec.externalTrafficPolicy", etp, "may only be set for externally-accessible services");
  } else if (etp === undefined || etp === "") errors.required("spec.externalTrafficPolicy");
  else if (etp !== "Cluster" && etp !== "Local")
    errors.unsupported("spec.externalTrafficPolicy", etp, ["Cluster", "Local"]);
  const hc = spec.healthCheckNodePort;
  if (!needsHealthCheckNodePort(spec)) {
    if (hc !== undefined && hc !== 0)
      errors.invalid(
        "spec.healthCheckNodePort",
        hc,
        "may only be set when `type` is 'LoadBalancer' and `externalTrafficPolicy` is 'Local'",
      );
  }
  const itp = spec.internalTrafficPolicy;
  if (itp !== undefined && itp !== "Cluster" && itp !== "Local")
    errors.unsupported("spec.internalTrafficPolicy", itp, ["Cluster", "Local"]);
}

/** validateService of kube-apiserver 1.34, in its order (ValidateServiceCreate/Update). */
function validateService(obj: KubeObject, old: KubeObject | undefined, errors: FieldErrors): void {
  const spec = specOf(obj);
  const oldSpec = old ? (objectAt(old, "spec") ?? {}) : undefined;
  if (oldSpec) validateImmutableClusterIp(spec, oldSpec, errors);
  if (portsOf(spec).length === 0 && !isHeadless(spec) && typeOf(spec) !== "ExternalName")
    errors.required("spec.ports");
  validateTypeSpecific(spec, errors);
  validatePorts(spec, errors);
  const selector = spec.selector;
  if (selector !== undefined && selector !== null) validateLabelMap(selector, "spec.selector", errors);
  const affinity = spec.sessionAffinity;
  if (affinity !== "None" && affinity !== "ClientIP")
    errors.unsupported("spec.sessionAffinity", affinity, ["ClientIP", "None"]);
  validateClusterIpFields(spec, errors);
  const type = typeOf(spec);
  if (!serviceTypes.includes(type)) errors.unsupported("spec.type", type, serviceTypes);
  validatePortDuplicates(spec, errors);
  validateSourceRanges(spec, errors);
  if (spec.allocateLoadBalancerNodePorts !== undefined && type !== "LoadBalancer")
    errors.forbidden("spec.allocateLoadBalancerNodePorts", "may only be used when `type` is 'LoadBalancer'");
  validateLoadBalancerClass(spec, oldSpec, errors);
  validateTrafficPolicies(spec, errors);
}

function validateImmutableClusterIp(spec: JsonObject, oldSpec: JsonObject, errors: FieldErrors): void {
  if (
    needsClusterIp(oldSpec) &&
    needsClusterIp(spec) &&
    !isEmptyIp(oldSpec.clusterIP) &&
    spec.clusterIP !== oldSpec.clusterIP
  ) {
    errors.invalid(
      "spec.clusterIPs[0]",
      spec.clusterIPs ?? [spec.clusterIP ?? ""],
      "may not change once set",
    );
  }
}

/** ValidateLoadBalancerStatus of kube-apiserver 1.34 (ingress ports are not checked there). */
function validateServiceStatus(obj: KubeObject, old: KubeObject, errors: FieldErrors): void {
  const ingress = arrayAt(objectAt(objectAt(obj, "status"), "loadBalancer"), "ingress") ?? [];
  if (ingress.length > 0 && typeOf(objectAt(obj, "spec")) !== "LoadBalancer") {
    errors.forbidden("status.loadBalancer.ingress", "may only be used when `spec.type` is 'LoadBalancer'");
    return;
  }
  const oldIps = (arrayAt(objectAt(objectAt(old, "status"), "loadBalancer"), "ingress") ?? [])
    .filter(isObject)
    .map((i) => i.ip);
  ingress.forEach((raw, i) => {
    const field = `status.loadBalancer.ingress[${i}]`;
    if (!isObject(raw)) return;
    const ip = stringAt(raw, "ip") ?? "";
    if (ip !== "" && !oldIps.includes(ip))
      for (const p of legacyIpProblems(ip)) errors.invalid(`${field}.ip`, ip, p);
    const mode = raw.ipMode;
    if (mode !== undefined && mode !== null) {
      if (ip === "") errors.forbidden(`${field}.ipMode`, "may not be specified when `ip` is not set");
      else if (mode !== "VIP" && mode !== "Proxy")
        errors.unsupported(`${field}.ipMode`, mode, ["Proxy", "VIP"]);
    }
    const hostname = stringAt(raw, "hostname") ?? "";
    if (hostname !== "") {
      for (const p of dns1123SubdomainProblems(hostname)) errors.invalid(`${field}.hostname`, hostname, p);
      if (isIpAddress(hostname))
        errors.invalid(`${field}.hostname`, hostname, "must be a DNS name, not an IP address");
    }
  });
}

/** SetDefaults_LoadBalancerIngress: an ingress IP without a mode is a VIP. */
function defaultIngressModes(obj: KubeObject): void {
  const ingress = arrayAt(objectAt(objectAt(obj, "status"), "loadBalancer"), "ingress") ?? [];
  for (const entry of ingress.filter(isObject))
    if (entry.ip && entry.ipMode === undefined) entry.ipMode = "VIP";
}

export const serviceStrategy: KindStrategy = {
  decode: (obj) => normaliseTimes(obj, [["status.conditions[].lastTransitionTime", "time"]], "Service"),
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
  prepareStatusUpdate: defaultIngressModes,
  validateStatus: validateServiceStatus,
  committed(previous, next, ctx) {
    ctx.allocations.sync(previous, next);
  },
};
