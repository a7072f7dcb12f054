// Which subnets an NLB goes into: the annotation's list resolved against the VPC, or discovery by
// role tag, one subnet per availability zone.
import { SUBNET_ID } from "./annotation-values.ts";
import { byCodePoint } from "./sorted.ts";
import type { Scheme, Subnet } from "./types.ts";

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
