// IPv6 addresses and CIDR blocks: just enough to place an address in a subnet. node:net does the
// parsing and matching; nothing here does I/O.
import { BlockList, isIPv6 } from "node:net";

/** The canonical text of an IPv6 address (RFC 5952: lower case, longest zero run as ::); undefined if not one. */
export function canonicalIpv6(text: string): string | undefined {
  // A zone index (fe80::1%eth0) names an interface of one host: no place in an NLB's address.
  if (!isIPv6(text) || text.includes("%")) return undefined;
  return new URL(`http://[${text}]/`).hostname.slice(1, -1);
}

/** `addr/n` in canonical form (`2001:db8::/32`); undefined when malformed or when host bits are set. */
export function normalIpv6Cidr(text: string): string | undefined {
  const match = /^([^/]+)\/(\d{1,3})$/.exec(text.trim());
  const network = match && canonicalIpv6(match[1]!);
  const prefixLength = Number(match?.[2]);
  if (!network || !(prefixLength <= 128)) return undefined;
  const bits = expandIpv6(network)
    .map((group) => group.toString(2).padStart(16, "0"))
    .join("");
  return bits.slice(prefixLength).includes("1") ? undefined : `${network}/${prefixLength}`;
}

/** `addr/n` as a matcher; undefined when malformed or when host bits are set. */
export function parseIpv6Cidr(text: string): BlockList | undefined {
  const normal = normalIpv6Cidr(text);
  if (normal === undefined) return undefined;
  const [network = "", length = ""] = normal.split("/");
  const block = new BlockList();
  block.addSubnet(network, Number(length), "ipv6");
  return block;
}

/** The eight 16-bit groups of a canonical IPv6 address. */
function expandIpv6(address: string): number[] {
  const [head = "", tail] = address.split("::");
  const part = (text: string) => (text === "" ? [] : text.split(":").map((g) => Number.parseInt(g, 16)));
  const left = part(head);
  const right = tail === undefined ? [] : part(tail);
  return [...left, ...Array<number>(8 - left.length - right.length).fill(0), ...right];
}

export function ipv6InCidr(address: string, cidr: string): boolean {
  return parseIpv6Cidr(cidr)?.check(address, "ipv6") ?? false;
}

/** An IPv6 address as a 128-bit number; undefined unless it is one. */
function ipv6ToBigInt(text: string): bigint | undefined {
  const canonical = canonicalIpv6(text);
  if (canonical === undefined) return undefined;
  return expandIpv6(canonical).reduce((value, group) => (value << 16n) + BigInt(group), 0n);
}

/** Whether AWS reserves the address in the block: the first four and the last, as in IPv4 subnets. */
export function ipv6Reserved(address: string, cidr: string): boolean {
  const [network = "", length = ""] = cidr.split("/");
  const value = ipv6ToBigInt(address);
  const first = ipv6ToBigInt(network);
  if (value === undefined || first === undefined || !/^\d+$/.test(length)) return false;
  const last = first + (1n << BigInt(128 - Number(length))) - 1n;
  return (value >= first && value < first + 4n) || value === last;
}
