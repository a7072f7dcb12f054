import { isIP } from "node:net";

export function isIpAddress(value: unknown): boolean {
  return typeof value === "string" && isIP(value) !== 0;
}

export function isIpv4Address(value: unknown): boolean {
  return typeof value === "string" && isIP(value) === 4;
}

export function isCidr(value: unknown): boolean {
  if (typeof value !== "string") return false;
  const [ip, bits, extra] = value.split("/");
  if (extra !== undefined || ip === undefined || bits === undefined || !/^\d{1,3}$/.test(bits)) return false;
  const family = isIP(ip);
  return family !== 0 && Number(bits) <= (family === 4 ? 32 : 128);
}
