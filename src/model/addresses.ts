// Fixed NLB addresses: Elastic IPs (internet-facing) or private IPv4 addresses (internal), one per
// subnet. What build() can check before the subnets are known; subnetMappings() checks the rest.
import { type AnnotationValues, annotationTable } from "./annotations.ts";
import { annotationProblem } from "./problems.ts";
import type { InputProblem, LoadBalancerSpec, Scheme } from "./types.ts";

export type FixedAddresses = Pick<LoadBalancerSpec, "eipAllocations" | "privateIpv4Addresses">;

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
    const subnets = values.subnets;
    if (subnets !== undefined && subnets.length !== addresses.length) {
      problems.push(
        annotationProblem(object, key, {
          value: addresses.join(","),
          allowed: `one ${one} per subnet: ${subnets.length} for the ${subnets.length} subnets of ${annotationTable.subnets.key} (${subnets.join(", ")}), in the same order`,
        }),
      );
      ok = false;
    }
    return ok;
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
  return out;
}
