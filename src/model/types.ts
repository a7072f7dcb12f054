// Plain data the pure core works on. Kubernetes inputs mirror the API's JSON shape (a subset),
// so the adapters hand objects over as they come off the wire.

export interface ObjectMeta {
  name: string;
  namespace?: string;
  uid?: string;
  resourceVersion?: string;
  generation?: number;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  finalizers?: string[];
  deletionTimestamp?: string;
}

export interface ServicePort {
  name?: string;
  protocol?: "TCP" | "UDP" | "SCTP";
  port: number;
  targetPort?: number | string;
  nodePort?: number;
}

export interface Service {
  metadata: ObjectMeta;
  spec: {
    type?: string;
    loadBalancerClass?: string;
    ports?: ServicePort[];
    externalTrafficPolicy?: "Cluster" | "Local" | string;
    healthCheckNodePort?: number;
    loadBalancerSourceRanges?: string[];
    ipFamilies?: string[];
    selector?: Record<string, string>;
  };
  status?: { loadBalancer?: { ingress?: LoadBalancerIngress[] }; conditions?: Condition[] };
}

/** A metav1.Condition, as Services carry them in status.conditions. */
export interface Condition {
  type: string;
  status: "True" | "False" | "Unknown";
  reason: string;
  message: string;
  observedGeneration?: number;
  lastTransitionTime: string;
}

export interface LoadBalancerIngress {
  hostname?: string;
  ip?: string;
  ports?: { port: number; protocol: string }[];
}

export interface Endpoint {
  addresses: string[];
  conditions?: { ready?: boolean; serving?: boolean; terminating?: boolean };
  nodeName?: string;
  zone?: string;
  targetRef?: { kind?: string; name?: string; namespace?: string; uid?: string };
}

export interface EndpointSlice {
  metadata: ObjectMeta;
  addressType: "IPv4" | "IPv6" | "FQDN" | string;
  endpoints?: Endpoint[] | null;
  ports?: { name?: string; port?: number; protocol?: string }[] | null;
}

export interface Node {
  metadata: ObjectMeta;
  spec?: {
    providerID?: string;
    unschedulable?: boolean;
    taints?: { key: string; value?: string; effect: string }[];
  };
  status?: {
    conditions?: { type: string; status: string; reason?: string }[];
    addresses?: { type: string; address: string }[];
  };
}

/** What readiness gates need of a Pod. */
export interface Pod {
  metadata: ObjectMeta;
  spec?: { readinessGates?: { conditionType: string }[] };
  status?: {
    podIP?: string;
    conditions?: {
      type: string;
      status: string;
      reason?: string;
      message?: string;
      lastTransitionTime?: string;
    }[];
  };
}

// ---- Controller configuration the pure core needs ----

export interface BuildConfig {
  clusterName: string;
  loadBalancerClass: string; // default service.k8s.aws/nlb
  defaultTargetType: TargetType; // default instance
  defaultScheme: Scheme; // default internal
  /** Tags added to every resource (the --default-tags flag); ownership tags always win. */
  defaultTags?: Record<string, string>;
}

// ---- Desired stack: what build() returns. Serialised as is by `nlb-controller plan -o json`. ----

export type Scheme = "internal" | "internet-facing";
export type TargetType = "instance" | "ip";
export type IpAddressType = "ipv4" | "dualstack";
export type ListenerProtocol = "TCP" | "UDP" | "TCP_UDP" | "TLS";
export type TargetGroupProtocol = "TCP" | "UDP" | "TCP_UDP" | "TLS";
export type HealthCheckProtocol = "TCP" | "HTTP" | "HTTPS";

export interface HealthCheck {
  protocol: HealthCheckProtocol;
  port: "traffic-port" | number;
  path?: string;
  intervalSeconds: number;
  timeoutSeconds: number;
  healthyThresholdCount: number;
  unhealthyThresholdCount: number;
  matcher?: { httpCode: string };
}

export interface Target {
  id: string;
  port: number;
}

export interface LoadBalancerSpec {
  name: string;
  type: "network";
  scheme: Scheme;
  ipAddressType: IpAddressType;
  /** Explicit subnets (IDs or Name tags) from the annotation; absent means discovered by role tag. */
  subnets?: string[];
  /** Elastic IP allocation IDs, one per subnet in subnet order (internet-facing only). */
  eipAllocations?: string[];
  /** Private IPv4 addresses, one per subnet in subnet order, each inside its subnet (internal only). */
  privateIpv4Addresses?: string[];
  /** IPv6 addresses, one per subnet in subnet order, each inside its subnet (internal dualstack only). */
  ipv6Addresses?: string[];
  attributes: Record<string, string>;
  tags: Record<string, string>;
}

export interface ListenerSpec {
  port: number;
  protocol: ListenerProtocol;
  /** The id of the target group its default action forwards to. */
  targetGroup: string;
  certificates?: string[];
  sslPolicy?: string;
  alpnPolicy?: string;
  /** Attributes the listener-attributes annotation sets; absent ones are at AWS's default. */
  attributes?: Record<string, string>;
}

export interface TargetGroupSpec {
  /** `<namespace>/<name>:<service port>`, also the value of the service.k8s.aws/resource tag. */
  id: string;
  name: string;
  targetType: TargetType;
  protocol: TargetGroupProtocol;
  port: number;
  ipAddressType: "ipv4" | "ipv6";
  healthCheck: HealthCheck;
  attributes: Record<string, string>;
  tags: Record<string, string>;
  targets: Target[];
  /** Shared with other clusters: only targets this cluster registered may be deregistered. Absent means false. */
  multiCluster?: true;
}

export interface DesiredStack {
  /** `<namespace>/<name>` */
  service: string;
  loadBalancer: LoadBalancerSpec;
  listeners: ListenerSpec[];
  targetGroups: TargetGroupSpec[];
  securityGroups: SecurityGroupsSpec;
}

/** Where a security group rule lets traffic come from. */
export type RuleSource = { cidr: string } | { prefixList: string } | { group: string };

export interface IngressRule {
  /** For icmp and icmpv6, fromPort is the ICMP type and toPort the code, as AWS takes them. */
  protocol: "tcp" | "udp" | "icmp" | "icmpv6";
  fromPort: number;
  toPort: number;
  source: RuleSource;
}

export interface ManagedSecurityGroupSpec {
  name: string;
  description: string;
  ingress: IngressRule[];
  tags: Record<string, string>;
}

export interface SecurityGroupsSpec {
  /** The frontend group the controller creates and owns; absent when the Service names its own groups. */
  managed?: ManagedSecurityGroupSpec;
  /** IDs or names from the security-groups annotation, used as they are. */
  given?: string[];
  /** Whether the targets' security groups get ingress rules from the NLB's security group. */
  manageBackendRules: boolean;
  /** The security group settings the Service makes (annotations, spec fields), for messages. */
  settings?: string[];
  /** Settings that have no effect with given groups (source ranges, prefix lists). */
  ignored?: string[];
  /** EnforceSecurityGroupInboundRulesOnPrivateLinkTraffic, when the Service sets it. */
  privateLinkInboundRules?: "on" | "off";
}

/** One problem with a user's manifest: names the object, the field or annotation, the value and what is allowed. */
export interface InputProblem {
  object: string; // ns/name
  field: string; // e.g. `annotation service.beta.kubernetes.io/aws-load-balancer-scheme` or `spec.ports[0].protocol`
  value: string;
  allowed: string;
  reason: "InvalidAnnotation" | "InvalidSpec";
  message: string; // one line for humans
}

export type BuildResult = { ok: true; stack: DesiredStack } | { ok: false; problems: InputProblem[] };

// ---- Actual stack: what observe() reads from AWS, by tags. ----

export interface ActualLoadBalancer {
  arn: string;
  name: string;
  dnsName: string;
  type: string;
  scheme: Scheme;
  ipAddressType: string;
  subnets: string[];
  /** Fixed addresses per subnet (EIP allocations, private IPv4, IPv6), as AWS reports them. */
  addresses?: {
    subnetId: string;
    allocationId?: string;
    privateIpv4Address?: string;
    ipv6Address?: string;
  }[];
  /** Whether AWS listed per-subnet addresses at all (some emulators do not): decides if "none" is known. */
  reportsAddresses?: boolean;
  state?: string;
  /** Security group IDs; empty for an NLB created without any (AWS cannot add them later). */
  securityGroups: string[];
  /** Whether its groups filter PrivateLink traffic, when AWS says (absent means AWS's default, on). */
  privateLinkInboundRules?: string;
  attributes: Record<string, string>;
  tags: Record<string, string>;
}

export interface ActualListener {
  arn: string;
  loadBalancerArn: string;
  port: number;
  protocol: string;
  /** ARN of the target group its default forward action points at. */
  targetGroupArn?: string;
  certificates?: string[];
  sslPolicy?: string;
  alpnPolicy?: string;
  /** As DescribeListenerAttributes reports them; absent when they were not read. */
  attributes?: Record<string, string>;
}

export interface ActualTargetGroup {
  arn: string;
  name: string;
  targetType: string;
  protocol: string;
  port: number;
  ipAddressType: string;
  vpcId?: string;
  healthCheck: HealthCheck;
  attributes: Record<string, string>;
  tags: Record<string, string>;
  loadBalancerArns: string[];
}

export interface ActualStack {
  /** Every NLB tagged for this cluster and stack (normally zero or one). */
  loadBalancers: ActualLoadBalancer[];
  listeners: ActualListener[];
  targetGroups: ActualTargetGroup[];
}

export interface Subnet {
  id: string;
  zone: string;
  cidr: string;
  /** The subnet's IPv6 CIDR blocks, if it has any. */
  ipv6Cidrs?: string[];
  vpcId: string;
  tags: Record<string, string>;
}

/** A security group rule as AWS lists it, with the ID it is revoked by. */
export interface ActualRule extends IngressRule {
  id: string;
  /** The security group the rule belongs to. */
  groupId: string;
}

/** A security group on a target's network interface, with the tags that pick one among several. */
export interface TargetSecurityGroup {
  id: string;
  tags: Record<string, string>;
}
