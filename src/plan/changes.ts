import type { HealthCheck, ListenerSpec, LoadBalancerSpec, Target, TargetGroupSpec } from "../model/types.ts";

/** A reference to a target group: one that exists (by ARN) or one this plan creates (by desired id). */
export type TargetGroupRef = { arn: string } | { id: string };

export type Change =
  | { kind: "deleteLoadBalancer"; arn: string; name: string }
  | { kind: "createTargetGroup"; spec: TargetGroupSpec }
  | { kind: "modifyTargetGroupHealthCheck"; arn: string; id: string; healthCheck: HealthCheck }
  /** arn is empty for a group this plan creates: it is looked up by id. */
  | { kind: "modifyTargetGroupAttributes"; arn: string; id: string; attributes: Record<string, string> }
  | {
      kind: "createLoadBalancer";
      spec: LoadBalancerSpec;
      subnetMappings: SubnetMapping[];
      securityGroups?: string[];
    }
  | {
      kind: "setSecurityGroups";
      /** Empty for the NLB this plan creates. */
      arn: string;
      securityGroups: string[];
      privateLinkInboundRules?: "on" | "off";
    }
  | { kind: "setSubnets"; arn: string; subnetIds: string[] }
  | { kind: "setIpAddressType"; arn: string; ipAddressType: string }
  | { kind: "modifyLoadBalancerAttributes"; arn: string; attributes: Record<string, string> }
  | { kind: "updateTags"; arn: string; resource: string; add: Record<string, string>; remove: string[] }
  | { kind: "deleteListener"; arn: string; port: number }
  | { kind: "createListener"; spec: ListenerSpec; targetGroup: TargetGroupRef; tags: Record<string, string> }
  | { kind: "modifyListener"; arn: string; spec: ListenerSpec; targetGroup: TargetGroupRef; fields: string[] }
  | { kind: "deleteTargetGroup"; arn: string; id: string; name: string }
  | { kind: "registerTargets"; targetGroup: TargetGroupRef; id: string; targets: Target[] }
  /** Listener attributes that differ from what the listener has (or, for a new one, from AWS's defaults). */
  | {
      kind: "modifyListenerAttributes";
      listener: ListenerRef;
      port: number;
      attributes: Record<string, string>;
    }
  /** A TLS listener's certificates beyond the default one. */
  | { kind: "setListenerCertificates"; listener: ListenerRef; add: string[]; remove: string[] };

/** A listener that exists (by ARN) or one this plan creates (by port). */
export type ListenerRef = { arn: string } | { port: number };

/** One subnet of an NLB, with the fixed address it gets there, if any. */
export interface SubnetMapping {
  subnetId: string;
  allocationId?: string;
  privateIpv4Address?: string;
  ipv6Address?: string;
}

/** Something AWS cannot modify in place; the plan deletes and recreates it. */
export interface Replacement {
  resource: string;
  field: string;
  from: string;
  to: string;
}

export interface Plan {
  changes: Change[];
  replacements: Replacement[];
}

export const replacementMessage = (r: Replacement): string =>
  `${r.resource} must be replaced: ${r.field} changes from ${r.from} to ${r.to}, which AWS cannot modify in place`;
