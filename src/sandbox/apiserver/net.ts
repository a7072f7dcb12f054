import { isIP } from "node:net";

export const invalidIpMessage = "must be a valid IP address, (e.g. 10.9.8.7 or 2001:db8::ffff)";
export const invalidCidrMessage = "must be a valid CIDR value, (e.g. 10.9.8.0/24 or 2001:db8::/64)";

export function isIpAddress(value: unknown): boolean {
  return typeof value === "string" && isIP(value) !== 0;
}

export function isIpv4Address(value: unknown): boolean {
  return typeof value === "string" && isIP(value) === 4;
}

export function isIpv6Address(value: unknown): boolean {
  return typeof value === "string" && isIP(value) === 6 && !/^::ffff:\d/i.test(value);
}

export function isCidr(value: unknown): boolean {
  if (typeof value !== "string") return false;
  const [ip, bits, extra] = value.split("/");
  if (extra !== undefined || ip === undefined || bits === undefined || !/^\d{1,3}$/.test(bits)) return false;
  const family = isIP(ip);
  return family !== 0 && Number(bits) <= (family === 4 ? 32 : 128);
}

/** IsValidIPForLegacyField with strict validation, as kube-apiserver 1.34 runs it. */
export function legacyIpProblems(value: string): string[] {
  if (!isIpAddress(value)) return [invalidIpMessage];
  return /^::ffff:\d/i.test(value) ? ["must not be an IPv4-mapped IPv6 address"] : [];
}

function ipv4Octets(ip: string): number[] | undefined {
  if (isIpv4Address(ip)) return ip.split(".").map(Number);
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(ip)?.[1];
  return mapped ? mapped.split(".").map(Number) : undefined;
}

/** ValidateEndpointIP: addresses that make no sense as an endpoint. */
export function endpointIpProblems(ip: string): string[] {
  const v4 = ipv4Octets(ip);
  const v6 = v4 ? undefined : ip.toLowerCase();
  const problems: string[] = [];
  if (v4?.every((o) => o === 0) || v6 === "::") problems.push(`may not be unspecified (${ip})`);
  if ((v4 && v4[0] === 127) || v6 === "::1")
    problems.push("may not be in the loopback range (127.0.0.0/8, ::1/128)");
  if ((v4 && v4[0] === 169 && v4[1] === 254) || (v6 && /^fe[89ab][0-9a-f]?:/.test(v6)))
    problems.push("may not be in the link-local range (169.254.0.0/16, fe80::/10)");
  if ((v4 && v4[0] === 224 && v4[1] === 0 && v4[2] === 0) || (v6 && /^ff[0-9a-f]2:/.test(v6)))
    problems.push("may not be in the link-local multicast range (224.0.0.0/24, ff02::/10)");
  return problems;
}
