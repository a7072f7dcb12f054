// Parsers for the values of single annotations (the generic shapes live in parse.ts).
import {
  charCount,
  fail,
  integer,
  keyValueMap,
  labelKeyError,
  labelValue,
  list,
  ok,
  type Parser,
  tagKeyError,
  tagValue,
} from "./parse.ts";

export const SUBNET_ID = /^subnet-[0-9a-f]{8,17}$/;

/** AWS load balancer names: 1-32 letters, digits and hyphens, no hyphen at either end, not `internal-...`. */
export const loadBalancerName: Parser<string> = (raw) => {
  const name = raw.trim();
  const allowed =
    "1 to 32 letters, digits or hyphens, not starting or ending with a hyphen, not starting with internal-";
  if (!/^[A-Za-z0-9](?:[A-Za-z0-9-]{0,30}[A-Za-z0-9])?$/.test(name)) return fail(raw, allowed);
  if (/^internal-/i.test(name)) return fail(raw, allowed);
  return ok(name);
};

/** A subnet ID, or else the value of a subnet's Name tag (resolved against the VPC later). */
const subnetEntry: Parser<string> = (entry) =>
  charCount(entry) <= 256
    ? ok(entry)
    : fail(entry, "a subnet ID (subnet-0123abcd) or a Name tag of at most 256 characters");

export const subnetList: Parser<string[]> = list(subnetEntry, "subnet IDs or Name tags");

export type HealthCheckPortValue = "traffic-port" | number | { portName: string };

const PORT_NAME = /^(?=.*[a-z])[a-z0-9]([a-z0-9-]{0,13}[a-z0-9])?$/;
const portNumber = integer(1, 65535);

/** traffic-port, a port number, or the name of a service port (resolved per target type, as LBC does). */
export const healthCheckPort: Parser<HealthCheckPortValue> = (raw) => {
  const text = raw.trim();
  if (text.toLowerCase() === "traffic-port") return ok("traffic-port");
  const number = portNumber(text);
  if (number.ok) return number;
  if (PORT_NAME.test(text) && !text.includes("--")) return ok({ portName: text });
  return fail(raw, "traffic-port, a port number from 1 to 65535, or the name of a service port");
};

export const healthCheckPath: Parser<string> = (raw) => {
  const path = raw.trim();
  return path.length <= 1024 && /^\/[\x21-\x7e]*$/.test(path)
    ? ok(path)
    : fail(raw, "a path starting with / of at most 1024 printable ASCII characters, no spaces");
};

/** NLB HTTP(S) matchers: codes 200-599, as one code, a range, or a comma-separated list of both. */
export const successCodes: Parser<string> = (raw) => {
  const allowed =
    "HTTP codes from 200 to 599: one code (200), a range (200-399) or a comma-separated list (200,202)";
  const parts = raw.split(",").map((part) => part.trim());
  for (const part of parts) {
    const match = /^(\d{3})(?:-(\d{3}))?$/.exec(part);
    if (!match) return fail(raw, allowed);
    const low = Number(match[1]);
    const high = match[2] === undefined ? low : Number(match[2]);
    if (low < 200 || high > 599 || low > high) return fail(raw, allowed);
  }
  return ok(parts.join(","));
};

export const proxyProtocol: Parser<"*"> = (raw) =>
  raw.trim() === "*"
    ? ok("*")
    : fail(raw, '"*" (proxy protocol v2 on every target group), the only supported value');

export const tagMap = keyValueMap({ what: "tags", key: tagKeyError, value: tagValue });

export const labelMap = keyValueMap({ what: "node labels", key: labelKeyError, value: labelValue });
