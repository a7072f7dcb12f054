// discovery.k8s.io/v1 EndpointSlice: defaulting, the stored shape and validation as in
// pkg/apis/discovery/validation of kube-apiserver 1.34.
import { type FieldErrors, undecodable } from "../errors.ts";
import { arrayAt, deepEqual, isObject, type JsonObject, setDefault, stringAt } from "../json.ts";
import { dns1123LabelProblems, dns1123SubdomainProblems, qualifiedNameProblems } from "../names.ts";
import { endpointIpProblems, isIpv4Address, isIpv6Address, legacyIpProblems } from "../net.ts";
import type { KubeObject } from "../object.ts";
import type { KindStrategy } from "../resource.ts";

const addressTypes = ["FQDN", "IPv4", "IPv6"];
const protocols = ["SCTP", "TCP", "UDP"];
const maxEndpoints = 1000;
const maxAddresses = 100;
const maxPorts = 20000;

/** The fields a typed decoder would refuse, checked before anything else. */
function decode(obj: KubeObject): void {
  for (const endpoint of (arrayAt(obj, "endpoints") ?? []).filter(isObject)) {
    const conditions = endpoint.conditions;
    if (!isObject(conditions)) continue;
    for (const key of ["ready", "serving", "terminating"]) {
      const v = conditions[key];
      if (v !== undefined && v !== null && typeof v !== "boolean") {
        throw undecodable(
          "EndpointSlice",
          "v1",
          `json: cannot unmarshal ${typeof v} into Go struct field EndpointConditions.endpoints.conditions.${key} of type bool`,
        );
      }
    }
  }
}

/**
 * Defaults, and the shape etcd hands back: `endpoints` and `ports` have no omitempty, so an
 * empty list reads back as null; every endpoint has a (possibly empty) conditions object.
 */
function normalise(obj: KubeObject): void {
  const endpoints = (arrayAt(obj, "endpoints") ?? []).filter(isObject);
  for (const endpoint of endpoints) if (!isObject(endpoint.conditions)) endpoint.conditions = {};
  obj.endpoints = endpoints.length > 0 ? endpoints : null;
  const ports = (arrayAt(obj, "ports") ?? []).filter(isObject);
  for (const port of ports) {
    setDefault(port, "protocol", "TCP");
    port.name ??= "";
  }
  obj.ports = ports.length > 0 ? ports : null;
}

function validateAddresses(type: string, endpoint: JsonObject, field: string, errors: FieldErrors): void {
  const addresses = arrayAt(endpoint, "addresses") ?? [];
  if (addresses.length === 0) errors.required(field, "must contain at least 1 address");
  else if (addresses.length > maxAddresses) errors.tooMany(field, addresses.length, maxAddresses);
  addresses.forEach((raw, i) => {
    const address = String(raw);
    const at = `${field}[${i}]`;
    if (type === "FQDN") {
      for (const p of dns1123SubdomainProblems(address)) errors.invalid(at, address, p);
      return;
    }
    const problems = legacyIpProblems(address);
    if (problems.length > 0) {
      for (const p of problems) errors.invalid(at, address, p);
      return;
    }
    const family = type === "IPv4" ? isIpv4Address(address) : isIpv6Address(address);
    if (!family) errors.invalid(field, address, `must be an ${type} address`);
    for (const p of endpointIpProblems(address)) errors.invalid(at, address, p);
  });
}

function validateEndpoints(obj: KubeObject, errors: FieldErrors): void {
  const endpoints = arrayAt(obj, "endpoints") ?? [];
  if (endpoints.length > maxEndpoints) {
    errors.tooMany("endpoints", endpoints.length, maxEndpoints);
    return;
  }
  const type = String(obj.addressType ?? "");
  endpoints.forEach((endpoint, i) => {
    if (!isObject(endpoint)) return;
    const field = `endpoints[${i}]`;
    validateAddresses(type, endpoint, `${field}.addresses`, errors);
    const nodeName = stringAt(endpoint, "nodeName");
    if (nodeName !== undefined)
      for (const p of dns1123SubdomainProblems(nodeName)) errors.invalid(`${field}.nodeName`, nodeName, p);
    const hostname = stringAt(endpoint, "hostname");
    if (hostname !== undefined)
      for (const p of dns1123LabelProblems(hostname)) errors.invalid(`${field}.hostname`, hostname, p);
  });
}

function validatePorts(obj: KubeObject, errors: FieldErrors): void {
  const ports = arrayAt(obj, "ports") ?? [];
  if (ports.length > maxPorts) {
    errors.tooMany("ports", ports.length, maxPorts);
    return;
  }
  const names: string[] = [];
  ports.forEach((port, i) => {
    if (!isObject(port)) return;
    const field = `ports[${i}]`;
    const name = stringAt(port, "name") ?? "";
    if (name !== "") for (const p of dns1123LabelProblems(name)) errors.invalid(`${field}.name`, name, p);
    if (names.includes(name)) errors.duplicate(`${field}.name`, name);
    else names.push(name);
    if (typeof port.protocol !== "string" || !protocols.includes(port.protocol))
      errors.unsupported(`${field}.protocol`, port.protocol, protocols);
    const appProtocol = stringAt(port, "appProtocol");
    if (appProtocol !== undefined)
      for (const p of qualifiedNameProblems(appProtocol))
        errors.invalid(`${field}.appProtocol`, appProtocol, p);
  });
}

function validateSlice(obj: KubeObject, old: KubeObject | undefined, errors: FieldErrors): void {
  const type = obj.addressType;
  if (type === undefined || type === null || type === "") errors.required("addressType");
  else if (typeof type !== "string" || !addressTypes.includes(type))
    errors.unsupported("addressType", type, addressTypes);
  validatePorts(obj, errors);
  // Endpoints a client did not change are not checked again (validation ratcheting).
  if (!old || !deepEqual(obj.endpoints, old.endpoints)) validateEndpoints(obj, errors);
  if (old && old.addressType !== obj.addressType)
    errors.invalid("addressType", obj.addressType ?? "", "field is immutable");
}

export const endpointSliceStrategy: KindStrategy = {
  nameRule: dns1123SubdomainProblems,
  statusSubresource: false,
  createOnUpdate: false,
  fieldLabels: { addressType: (obj) => stringAt(obj, "addressType") ?? "" },
  decode,
  prepareCreate: normalise,
  prepareUpdate: normalise,
  bumpsGeneration: (obj, old) =>
    !deepEqual({ ...obj, metadata: {} }, { ...old, metadata: {} }) ||
    !deepEqual(obj.metadata.labels ?? {}, old.metadata.labels ?? {}),
  validate: validateSlice,
};
