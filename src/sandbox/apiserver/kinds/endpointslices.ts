import type { FieldErrors } from "../errors.ts";
import { arrayAt, isObject, type JsonObject, setDefault, stringAt } from "../json.ts";
import { dns1123LabelProblems, dns1123SubdomainProblems } from "../names.ts";
import { isIpAddress, isIpv4Address } from "../net.ts";
import type { KubeObject } from "../object.ts";
import type { KindStrategy } from "../resource.ts";

const addressTypes = ["IPv4", "IPv6", "FQDN"];
const protocols = ["TCP", "UDP", "SCTP"];
const maxEndpoints = 1000;
const maxPorts = 100;

function applyDefaults(obj: KubeObject): void {
  for (const port of (arrayAt(obj, "ports") ?? []).filter(isObject)) {
    setDefault(port, "protocol", "TCP");
    port.name ??= "";
  }
}

function validateAddress(type: string, address: unknown, field: string, errors: FieldErrors): void {
  if (type === "IPv4" && !isIpv4Address(address))
    errors.invalid(field, address, "must be a valid IPv4 address");
  else if (type === "IPv6" && (!isIpAddress(address) || isIpv4Address(address))) {
    errors.invalid(field, address, "must be a valid IPv6 address");
  } else if (
    type === "FQDN" &&
    (typeof address !== "string" || dns1123SubdomainProblems(address).length > 0)
  ) {
    errors.invalid(field, address, "must be a valid FQDN");
  }
}

function validateEndpoint(type: string, endpoint: JsonObject, field: string, errors: FieldErrors): void {
  const addresses = arrayAt(endpoint, "addresses") ?? [];
  if (addresses.length === 0) errors.required(`${field}.addresses`, "must contain at least 1 address");
  if (addresses.length > 100)
    errors.invalid(`${field}.addresses`, addresses.length, "must have at most 100 items");
  for (const [j, a] of addresses.entries()) validateAddress(type, a, `${field}.addresses[${j}]`, errors);
  const nodeName = stringAt(endpoint, "nodeName");
  if (nodeName)
    for (const p of dns1123SubdomainProblems(nodeName)) errors.invalid(`${field}.nodeName`, nodeName, p);
  const conditions = endpoint.conditions;
  if (isObject(conditions)) {
    for (const key of ["ready", "serving", "terminating"]) {
      const v = conditions[key];
      if (v !== undefined && v !== null && typeof v !== "boolean")
        errors.invalid(`${field}.conditions.${key}`, v, "must be a boolean");
    }
  }
}

function validateSlice(obj: KubeObject, old: KubeObject | undefined, errors: FieldErrors): void {
  const type = obj.addressType;
  if (type === undefined) errors.required("addressType");
  else if (typeof type !== "string" || !addressTypes.includes(type))
    errors.unsupported("addressType", type, addressTypes);
  const endpoints = arrayAt(obj, "endpoints") ?? [];
  if (endpoints.length > maxEndpoints)
    errors.invalid("endpoints", endpoints.length, `must have at most ${maxEndpoints} items`);
  endpoints.forEach((e, i) => {
    if (!isObject(e)) errors.invalid(`endpoints[${i}]`, e, "must be an object");
    else validateEndpoint(String(type), e, `endpoints[${i}]`, errors);
  });
  const ports = arrayAt(obj, "ports") ?? [];
  if (ports.length > maxPorts) errors.invalid("ports", ports.length, `must have at most ${maxPorts} items`);
  const names = new Set<string>();
  ports.forEach((p, i) => {
    if (!isObject(p)) {
      errors.invalid(`ports[${i}]`, p, "must be an object");
      return;
    }
    const name = stringAt(p, "name") ?? "";
    if (name !== "")
      for (const problem of dns1123LabelProblems(name)) errors.invalid(`ports[${i}].name`, name, problem);
    if (names.has(name)) errors.duplicate(`ports[${i}].name`, name);
    names.add(name);
    const port = p.port;
    if (port !== undefined && port !== null && (typeof port !== "number" || port < 0 || port > 65535)) {
      errors.invalid(`ports[${i}].port`, port, "must be between 0 and 65535, inclusive");
    }
    if (typeof p.protocol !== "string" || !protocols.includes(p.protocol))
      errors.unsupported(`ports[${i}].protocol`, p.protocol, protocols);
  });
  if (old && old.addressType !== obj.addressType)
    errors.invalid("addressType", obj.addressType ?? "", "field is immutable");
}

export const endpointSliceStrategy: KindStrategy = {
  nameRule: dns1123SubdomainProblems,
  statusSubresource: false,
  createOnUpdate: false,
  fieldLabels: { addressType: (obj) => stringAt(obj, "addressType") ?? "" },
  prepareCreate: applyDefaults,
  prepareUpdate: applyDefaults,
  validate: validateSlice,
};
