// IPv4 addresses and CIDR blocks as 32-bit numbers: just enough to place an address in a subnet.

const OCTET = /^(0|[1-9]\d{0,2})$/;

/** Dotted-quad IPv4 address to its 32-bit value; undefined unless exactly four decimal octets 0-255 (no leading zeros). */
export function ipv4ToNumber(text: string): number | undefined {
  const parts = text.split(".");
  if (parts.length !== 4) return undefined;
  let value = 0;
  for (const part of parts) {
    if (!OCTET.test(part)) return undefined;
    const octet = Number(part);
    if (octet > 255) return undefined;
    value = value * 256 + octet;
  }
  return value;
}

export function numberToIpv4(value: number): string {
  return [24, 16, 8, 0].map((shift) => Math.floor(value / 2 ** shift) % 256).join(".");
}

export interface Ipv4Block {
  /** The first address of the block (the network address). */
  first: number;
  /** The last address of the block (the broadcast address). */
  last: number;
  prefixLength: number;
}

/** `a.b.c.d/n` to its first and last address; undefined when malformed or when host bits are set. */
export function parseIpv4Cidr(text: string): Ipv4Block | undefined {
  const match = /^([^/]+)\/(\d{1,2})$/.exec(text.trim());
  if (!match) return undefined;
  const address = ipv4ToNumber(match[1]!);
  const prefixLength = Number(match[2]);
  if (address === undefined || prefixLength > 32) return undefined;
  const size = 2 ** (32 - prefixLength);
  if (address % size !== 0) return undefined;
  return { first: address, last: address + size - 1, prefixLength };
}

export function blockContains(block: Ipv4Block, address: number): boolean {
  return address >= block.first && address <= block.last;
}
