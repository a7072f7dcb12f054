import type { AwsClients } from "../aws/clients.ts";
import type { OwnedResources } from "../aws/inventory.ts";
import type { OwnedSecurityState } from "../aws/security-groups.ts";
import type { TargetSecurityGroups } from "../aws/target-security-groups.ts";
import type { TargetRegistry } from "../aws/targets.ts";
import type { Informer } from "../kube/informer.ts";
import type { TargetRecords } from "../kube/target-records.ts";
import type { ServiceWriter } from "../kube/writers.ts";
import type { BuildConfig, EndpointSlice, Node, Pod, Service, Subnet } from "../model/types.ts";
import type { Logger } from "../observability/logger.ts";
import type { Metrics } from "../observability/metrics.ts";
import type { GatePoller } from "./readiness-gates.ts";
import type { BackendRuleMemo } from "./security-groups.ts";

/** Everything a reconciler reads and writes through, wired once by the manager. */
export interface ControllerContext {
  build: BuildConfig;
  aws: AwsClients;
  vpcId: string;
  owned: OwnedResources;
  targets: TargetRegistry;
  /** Per Service: the targets it registered into target groups shared with other clusters. */
  records: TargetRecords;
  services: Informer<Service>;
  slices: Informer<EndpointSlice>;
  nodes: Informer<Node>;
  /** Pods, slimmed to what readiness gates need. */
  pods: Informer<Pod>;
  gates: GatePoller;
  writer: ServiceWriter;
  log: Logger;
  metrics: Metrics;
  /** Per Service key: target group id -> ARN, as of its last stack reconcile. */
  stackTargetGroups: Map<string, Map<string, string>>;
  /** Keys whose next stack reconcile must describe AWS in full (set at each sync period). */
  fullObserve: Set<string>;
  /** Per Service key: the backend rules in place as of its last stack reconcile (when it manages them). */
  backendRules: Map<string, BackendRuleMemo>;
  targetSecurityGroups: TargetSecurityGroups;
  /** Per Service key: the targets whose security group is unknown, as last reported in an event. */
  unresolvedTargets: Map<string, string>;
  /** The cluster's security groups and rules by stack, as scanned at start: used once per stack, while fresh. */
  securityGroupSnapshot?: { at: number; byStack: Map<string, OwnedSecurityState>; used: Set<string> };
  /** The VPC's subnets, cached for a few minutes; `refresh` re-reads them. */
  subnets: (refresh?: boolean) => Promise<Subnet[]>;
}
