// Parsers for the values of single annotations (the generic shapes live in parse.ts).

import { isIP } from "node:net";
import { ipv4ToNumber, parseIpv4Cidr } from "./ipv4.ts";
import { canonicalIpv6, normalIpv6Cidr } from "./ipv6.ts";
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

const ACM_CERTIFICATE_ARN =
  /^arn:aws(?:-[a-z]+)*:acm:[a-z]{2}(?:-[a-z]+)+-\d+:\d{12}:certificate\/[A-Za-z0-9-]+$/;
const IAM_CERTIFICATE_ARN = /^arn:aws(?:-[a-z]+)*:iam::\d{12}:server-certificate(?:\/[\w+=,.@-]+)+$/;

const certificateArn: Parser<string> = (entry) =>
  entry.length <= 2048 && (ACM_CERTIFICATE_ARN.test(entry) || IAM_CERTIFICATE_ARN.test(entry))
    ? ok(entry)
    : fail(
        entry,
        "an ACM certificate ARN (arn:aws:acm:<region>:<account>:certificate/<id>) or an IAM server certificate ARN (arn:aws:iam::<account>:server-certificate/<name>)",
      );

export const certificateArns: Parser<string[]> = list(certificateArn, "certificate ARNs");

/** A service port by number or by name; `*` stands for every TCP port. */
export type SslPort = number | string;

const sslPortEntry: Parser<SslPort> = (entry) => {
  if (entry === "*") return ok("*");
  const number = portNumber(entry);
  if (number.ok) return number;
  if (PORT_NAME.test(entry) && !entry.includes("--")) return ok(entry);
  return fail(entry, "a service port number from 1 to 65535, the name of a service port, or *");
};

const sslPortList = list(sslPortEntry, "service port numbers or names");

export const sslPorts: Parser<SslPort[]> = (raw) => {
  const parsed = sslPortList(raw);
  if (parsed.ok && parsed.value.includes("*") && parsed.value.length > 1) {
    return fail(raw, "* alone (every TCP port), or a comma-separated list of service port numbers or names");
  }
  return parsed;
};

export const sslPolicy: Parser<string> = (raw) => {
  const name = raw.trim();
  return /^[A-Za-z0-9-]{1,255}$/.test(name)
    ? ok(name)
    : fail(
        raw,
        "the name of an ELB security policy, letters, digits and hyphens (ELBSecurityPolicy-TLS13-1-2-2021-06)",
      );
};

export const servicePortNumbers: Parser<number[]> = list(portNumber, "service port numbers");

const EIP_ALLOCATION_ID = /^eipalloc-[0-9a-f]{8,17}$/;

export const eipAllocationIds: Parser<string[]> = list(
  (entry) =>
    EIP_ALLOCATION_ID.test(entry)
      ? ok(entry)
      : fail(entry, "an Elastic IP allocation ID (eipalloc-0123456789abcdef0)"),
  "Elastic IP allocation IDs",
);

export const ipv4Addresses: Parser<string[]> = list(
  (entry) =>
    ipv4ToNumber(entry) === undefined
      ? fail(entry, "an IPv4 address in dotted decimal (10.0.1.10)")
      : ok(entry),
  "IPv4 addresses",
);

const SECURITY_GROUP_ID = /^sg-[0-9a-f]{8,17}$/;

/** An entry of the security-groups annotation that is an ID (any other is a name to look up). */
export const isSecurityGroupId = (ref: string): boolean => SECURITY_GROUP_ID.test(ref);

/** A security group ID, or else a group name (resolved in the VPC later), as LBC accepts both. */
export const securityGroupRefs: Parser<string[]> = list(
  (entry) =>
    SECURITY_GROUP_ID.test(entry) || (charCount(entry) <= 255 && /^[\x20-\x7e]+$/.test(entry))
      ? ok(entry)
      : fail(
          entry,
          "a security group ID (sg-0123456789abcdef0) or a group name of at most 255 ASCII characters",
        ),
  "security group IDs or names",
);

export const prefixListIds: Parser<string[]> = list(
  (entry) =>
    /^pl-[0-9a-f]{8,17}$/.test(entry)
      ? ok(entry)
      : fail(entry, "a managed prefix list ID (pl-0123456789abcdef0)"),
  "managed prefix list IDs",
);

/** IPv4 or IPv6 CIDR blocks with no host bits set, as a security group rule takes them. */
export const cidrBlocks: Parser<string[]> = list((entry) => {
  const normal = normalCidr(entry);
  return normal === undefined
    ? fail(entry, "an IPv4 or IPv6 CIDR block without host bits (10.0.0.0/8, 2001:db8::/32)")
    : ok(normal);
}, "CIDR blocks");

/** The canonical form of a CIDR block (IPv6 compressed and lower case), or undefined. */
export function normalCidr(text: string): string | undefined {
  const slash = text.indexOf("/");
  if (slash < 0 || !/^\d{1,3}$/.test(text.slice(slash + 1))) return undefined;
  const address = text.slice(0, slash);
  const prefix = Number(text.slice(slash + 1));
  if (isIP(address) === 4) return parseIpv4Cidr(text) ? `${address}/${prefix}` : undefined;
  // Embedded IPv4 (::ffff:1.2.3.4) is not a form AWS takes in a rule.
  if (address.includes(".") || text !== text.trim()) return undefined;
  return normalIpv6Cidr(text);
}

/** Kept in canonical form, so they compare equal to what AWS reports whatever the user's spelling. */
export const ipv6Addresses: Parser<string[]> = list((entry) => {
  const address = canonicalIpv6(entry);
  return address === undefined ? fail(entry, "an IPv6 address (2600:1f13:abc:de00::10)") : ok(address);
}, "IPv6 addresses");
