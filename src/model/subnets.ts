// Which subnets an NLB goes into: the annotation's list resolved against the VPC, or discovery by
// role tag, one subnet per availability zone.
import { SUBNET_ID } from "./annotation-values.ts";
import { annotationTable } from "./annotations.ts";
import { blockContains, ipv4ToNumber, numberToIpv4, parseIpv4Cidr } from "./ipv4.ts";
import { ipv6InCidr, ipv6Reserved } from "./ipv6.ts";
import { byCodePoint } from "./sorted.ts";
import type { LoadBalancerSpec, Scheme, Subnet } from "./types.ts";

export const PUBLIC_ROLE_TAG = "kubernetes.io/role/elb";
export const INTERNAL_ROLE_TAG = "kubernetes.io/role/internal-elb";
export const CLUSTER_TAG_PREFIX = "kubernetes.io/cluster/";

export interface SubnetChoiceOptions {
  clusterName: string;
  scheme: Scheme;
  /** Subnet IDs or Name tag values from the subnets annotation. */
  explicit?: string[];
  /** The VPC searched, for messages; defaults to the candidates' VPC. */
  vpcId?: string;
}

export type SubnetChoice = { ok: true; subnets: Subnet[] } | { ok: false; message: string };

export function chooseSubnets(candidates: Subnet[], options: SubnetChoiceOptions): SubnetChoice {
  const vpc = options.vpcId ?? candidates[0]?.vpcId ?? "the VPC";
  return options.explicit !== undefined
    ? resolveExplicit(candidates, options.explicit, vpc)
    : discover(candidates, options, vpc);
}

function resolveExplicit(candidates: Subnet[], entries: string[], vpc: string): SubnetChoice {
  if (entries.length === 0) return { ok: false, message: "the subnets annotation names no subnet" };
  const chosen = new Map<string, Subnet>();
  for (const entry of entries) {
    const byId = candidates.find((subnet) => subnet.id === entry);
    const matches = byId ? [byId] : candidates.filter((subnet) => subnet.tags?.Name === entry);
    if (matches.length === 0) {
      const looksLikeId = SUBNET_ID.test(entry);
      return {
        ok: false,
        message: `subnet ${JSON.stringify(entry)} was not found in ${vpc} (looked for a subnet ${looksLikeId ? "with this ID" : "with this ID or Name tag"})`,
      };
    }
    if (matches.length > 1) {
      const ids = matches.map((subnet) => subnet.id).sort(byCodePoint);
      return {
        ok: false,
        message: `subnet Name ${JSON.stringify(entry)} is ambiguous in ${vpc}: ${ids.join(", ")} all carry it; use subnet IDs`,
      };
    }
    const subnet = matches[0]!;
    chosen.set(subnet.id, subnet);
  }
  const byZone = new Map<string, string>();
  for (const subnet of chosen.values()) {
    const other = byZone.get(subnet.zone);
    if (other !== undefined) {
      const [first, second] = [other, subnet.id].sort(byCodePoint);
      return {
        ok: false,
        message: `subnets ${first} and ${second} are both in ${subnet.zone}; an NLB takes at most one subnet per availability zone`,
      };
    }
    byZone.set(subnet.zone, subnet.id);
  }
  return { ok: true, subnets: inZoneOrder([...chosen.values()]) };
}

function discover(candidates: Subnet[], options: SubnetChoiceOptions, vpc: string): SubnetChoice {
  const roleTag = options.scheme === "internet-facing" ? PUBLIC_ROLE_TAG : INTERNAL_ROLE_TAG;
  const wanted = `${roleTag}=1 (for an ${options.scheme} NLB)`;
  const ourTag = `${CLUSTER_TAG_PREFIX}${options.clusterName}`;
  const withRole = candidates.filter((subnet) => {
    const value = subnet.tags?.[roleTag];
    return value === "1" || value === "";
  });
  if (withRole.length === 0) return { ok: false, message: `no subnet in ${vpc} is tagged ${wanted}` };

  const isOurs = (subnet: Subnet) => Object.hasOwn(subnet.tags ?? {}, ourTag);
  const isOtherClusters = (subnet: Subnet) =>
    !isOurs(subnet) && Object.keys(subnet.tags ?? {}).some((key) => key.startsWith(CLUSTER_TAG_PREFIX));
  const usable = withRole.filter((subnet) => !isOtherClusters(subnet));
  if (usable.length === 0) {
    const ids = withRole.map((subnet) => subnet.id).sort(byCodePoint);
    return {
      ok: false,
      message: `no subnet in ${vpc} is tagged ${wanted} without belonging to another cluster: ${ids.join(", ")} ${ids.length === 1 ? "carries" : "carry"} another cluster's ${CLUSTER_TAG_PREFIX}<name> tag but not ${ourTag}`,
    };
  }

  const best = new Map<string, Subnet>();
  for (const subnet of usable) {
    const current = best.get(subnet.zone);
    if (current === undefined || preferred(subnet, current, isOurs)) best.set(subnet.zone, subnet);
  }
  return { ok: true, subnets: inZoneOrder([...best.values()]) };
}

/** Tagged for this cluster first, then the lexically smallest ID, so the choice is deterministic. */
function preferred(a: Subnet, b: Subnet, isOurs: (subnet: Subnet) => boolean): boolean {
  if (isOurs(a) !== isOurs(b)) return isOurs(a);
  return byCodePoint(a.id, b.id) < 0;
}

function inZoneOrder(subnets: Subnet[]): Subnet[] {
  return subnets.sort((a, b) => byCodePoint(a.zone, b.zone) || byCodePoint(a.id, b.id));
}

export interface SubnetMapping {
  subnetId: string;
  allocationId?: string;
  privateIpv4Address?: string;
  ipv6Address?: string;
}

export type SubnetMappings = { ok: true; mappings: SubnetMapping[] } | { ok: false; message: string };

/** AWS keeps the first four addresses and the last address of every subnet for itself. */
const RESERVED_AT_START = 4;

/**
 * One mapping per chosen subnet, in order, with the NLB's Elastic IP, private IPv4 or IPv6 address
 * for that subnet: the i-th address goes to the i-th subnet. Refuses a count that differs from the
 * subnets, a private address outside its subnet's CIDR or among the addresses AWS reserves, and an
 * IPv6 address outside its subnet's IPv6 CIDRs.
 */
export function subnetMappings(subnets: Subnet[], lb: LoadBalancerSpec): SubnetMappings {
  const subnetList = subnets.map((subnet) => subnet.id).join(", ");
  const countProblem = (key: string, addresses: string[], what: string): string | undefined =>
    addresses.length === subnets.length
      ? undefined
      : `annotation ${key} gives ${addresses.length} ${what} but the NLB has ${subnets.length} subnet${subnets.length === 1 ? "" : "s"} (${subnetList || "none"}); give one per subnet (Elastic IPs in the subnets' order, addresses each inside its subnet)`;

  const eips = lb.eipAllocations;
  const privateIps = lb.privateIpv4Addresses;
  const ipv6s = lb.ipv6Addresses;
  const problem =
    (eips && countProblem(annotationTable.eipAllocations.key, eips, "Elastic IP allocations")) ??
    (privateIps &&
      countProblem(annotationTable.privateIpv4Addresses.key, privateIps, "private IPv4 addresses")) ??
    (ipv6s && countProblem(annotationTable.ipv6Addresses.key, ipv6s, "IPv6 addresses"));
  if (problem) return { ok: false, message: problem };

  const ipv4In = (address: string, subnet: Subnet) => {
    const block = parseIpv4Cidr(subnet.cidr);
    const value = ipv4ToNumber(address);
    return block !== undefined && value !== undefined && blockContains(block, value);
  };
  const ipv6In = (address: string, subnet: Subnet) =>
    (subnet.ipv6Cidrs ?? []).some((cidr) => ipv6InCidr(address, cidr));
  const privateBySubnet =
    privateIps && bySubnet(privateIps, subnets, ipv4In, annotationTable.privateIpv4Addresses.key);
  if (privateBySubnet && !privateBySubnet.ok) return privateBySubnet;
  const ipv6BySubnet = ipv6s && bySubnet(ipv6s, subnets, ipv6In, annotationTable.ipv6Addresses.key);
  if (ipv6BySubnet && !ipv6BySubnet.ok) return ipv6BySubnet;

  const mappings: SubnetMapping[] = [];
  for (const [i, subnet] of subnets.entries()) {
    const mapping: SubnetMapping = { subnetId: subnet.id };
    // Elastic IPs belong to no subnet: they go in subnet order. Addresses go to the subnet holding them.
    const allocationId = eips?.[i];
    if (allocationId !== undefined) mapping.allocationId = allocationId;
    const address = privateBySubnet?.ok ? privateBySubnet.bySubnet.get(subnet.id) : undefined;
    if (address !== undefined) {
      const message = privateAddressProblem(address, subnet);
      if (message) return { ok: false, message };
      mapping.privateIpv4Address = address;
    }
    const ipv6Address = ipv6BySubnet?.ok ? ipv6BySubnet.bySubnet.get(subnet.id) : undefined;
    if (ipv6Address !== undefined) {
      const message = ipv6AddressProblem(ipv6Address, subnet);
      if (message) return { ok: false, message };
      mapping.ipv6Address = ipv6Address;
    }
    mappings.push(mapping);
  }
  return { ok: true, mappings };
}

/** Each address to the subnet whose CIDR holds it (as LBC pairs them): exactly one per subnet. */
function bySubnet(
  addresses: string[],
  subnets: Subnet[],
  contains: (address: string, subnet: Subnet) => boolean,
  key: string,
): { ok: true; bySubnet: Map<string, string> } | { ok: false; message: string } {
  const out = new Map<string, string>();
  const where = subnets.map((s) => `${s.id} ${[s.cidr, ...(s.ipv6Cidrs ?? [])].join(" ")}`).join(", ");
  for (const address of addresses) {
    const subnet = subnets.find((s) => contains(address, s));
    if (!subnet)
      return {
        ok: false,
        message: `address ${address} (annotation ${key}) is inside none of the NLB's subnets (${where})`,
      };
    const other = out.get(subnet.id);
    if (other !== undefined)
      return {
        ok: false,
        message: `addresses ${other} and ${address} (annotation ${key}) are both inside subnet ${subnet.id}; give one per subnet`,
      };
    out.set(subnet.id, address);
  }
  return { ok: true, bySubnet: out };
}

function privateAddressProblem(address: string, subnet: Subnet): string | undefined {
  const where = `private IPv4 address ${address} (annotation ${annotationTable.privateIpv4Addresses.key})`;
  const value = ipv4ToNumber(address);
  if (value === undefined) return `${where} is not an IPv4 address`;
  const block = parseIpv4Cidr(subnet.cidr);
  if (block === undefined)
    return `${where}: subnet ${subnet.id} has no IPv4 CIDR block to check it against (${JSON.stringify(subnet.cidr)})`;
  if (!blockContains(block, value))
    return `${where} is not inside subnet ${subnet.id}, whose CIDR is ${subnet.cidr}`;
  const firstFree = block.first + RESERVED_AT_START;
  if (value < firstFree || value === block.last) {
    return `${where} is reserved by AWS in subnet ${subnet.id} (${subnet.cidr}): the first four addresses (${numberToIpv4(block.first)} to ${numberToIpv4(firstFree - 1)}) and the last (${numberToIpv4(block.last)}) cannot be assigned`;
  }
  return undefined;
}

function ipv6AddressProblem(address: string, subnet: Subnet): string | undefined {
  const where = `IPv6 address ${address} (annotation ${annotationTable.ipv6Addresses.key})`;
  const cidrs = subnet.ipv6Cidrs ?? [];
  if (cidrs.length === 0) return `${where}: subnet ${subnet.id} has no IPv6 CIDR block`;
  const cidr = cidrs.find((c) => ipv6InCidr(address, c));
  if (cidr === undefined)
    return `${where} is not inside subnet ${subnet.id}, whose IPv6 CIDR${cidrs.length === 1 ? " is" : "s are"} ${cidrs.join(", ")}`;
  if (ipv6Reserved(address, cidr))
    return `${where} is reserved by AWS in subnet ${subnet.id} (${cidr}): the first four addresses and the last of the block cannot be assigned`;
  return undefined;
}
