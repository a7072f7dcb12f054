// Fixed NLB addresses: Elastic IPs (internet-facing), private IPv4 addresses (internal) or IPv6
// addresses (dualstack), one per subnet. What build() can check before the subnets are known; subnetMappings() checks the rest.
import { type AnnotationValues, annotationTable } from "./annotations.ts";
import { annotationProblem } from "./problems.ts";
import type { InputProblem, LoadBalancerSpec, Scheme } from "./types.ts";

export type FixedAddresses = Pick<
  LoadBalancerSpec,
  "eipAllocations" | "privateIpv4Addresses" | "ipv6Addresses"
>;

/**
 * @param schemeSource where the scheme came from, for messages (an annotation or a flag)
 */
export function fixedAddressesOf(
  values: AnnotationValues,
  scheme: Scheme,
  schemeSource: string,
  object: string,
  problems: InputProblem[],
): FixedAddresses {
  const out: FixedAddresses = {};
  const countFits = (key: string, addresses: string[], one: string): boolean => {
    const subnets = values.subnets;
    if (subnets === undefined || subnets.length === addresses.length) return true;
    const order = key === annotationTable.eipAllocations.key ? "in the same order" : "each inside its subnet";
    problems.push(
      annotationProblem(object, key, {
        value: addresses.join(","),
        allowed: `one ${one} per subnet: ${subnets.length} for the ${subnets.length} subnets of ${annotationTable.subnets.key} (${subnets.join(", ")}), ${order}`,
      }),
    );
    return false;
  };
  const check = (
    key: string,
    addresses: string[] | undefined,
    wantedScheme: Scheme,
    [one, what]: [string, string],
  ): addresses is string[] => {
    if (addresses === undefined) return false;
    let ok = true;
    if (scheme !== wantedScheme) {
      problems.push(
        annotationProblem(object, key, {
          value: addresses.join(","),
          allowed: `${what} only for an ${wantedScheme} NLB, and this one is ${scheme} (${schemeSource})`,
        }),
      );
      ok = false;
    }
    return countFits(key, addresses, one) && ok;
  };
  if (
    check(annotationTable.eipAllocations.key, values.eipAllocations, "internet-facing", [
      "Elastic IP allocation",
      "Elastic IP allocations",
    ])
  )
    out.eipAllocations = values.eipAllocations;
  if (
    check(annotationTable.privateIpv4Addresses.key, values.privateIpv4Addresses, "internal", [
      "private IPv4 address",
      "private IPv4 addresses",
    ])
  )
    out.privateIpv4Addresses = values.privateIpv4Addresses;
  const ipv6 = values.ipv6Addresses;
  const ipAddressType = values.ipAddressType ?? "ipv4";
  const ipv6Key = annotationTable.ipv6Addresses.key;
  if (ipv6 !== undefined && ipAddressType !== "dualstack") {
    problems.push(
      annotationProblem(object, ipv6Key, {
        value: ipv6.join(","),
        allowed: `IPv6 addresses only for a dualstack NLB, and this one is ${ipAddressType} (${annotationTable.ipAddressType.key})`,
      }),
    );
  } else if (ipv6 !== undefined && countFits(ipv6Key, ipv6, "IPv6 address")) {
    // AWS takes chosen IPv6 addresses for internal and internet-facing dualstack NLBs alike.
    out.ipv6Addresses = ipv6;
  }
  return out;
}
