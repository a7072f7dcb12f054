// The one table of Service annotations: key, parser, default, docs text and example.
// build() reads values only through parseAnnotations(); docs/annotations.md is rendered from ANNOTATIONS.
import {
  certificateArns,
  cidrBlocks,
  eipAllocationIds,
  type HealthCheckPortValue,
  healthCheckPath,
  healthCheckPort,
  ipv4Addresses,
  ipv6Addresses,
  labelMap,
  loadBalancerName,
  prefixListIds,
  proxyProtocol,
  securityGroupRefs,
  servicePortNumbers,
  sslPolicy,
  sslPorts,
  subnetList,
  successCodes,
  tagMap,
} from "./annotation-values.ts";
import {
  listenerAttributes,
  loadBalancerAttributes,
  s3BucketName,
  s3Prefix,
  targetGroupAttributes,
} from "./attributes.ts";
import { boolean, integer, oneOf, type Parser } from "./parse.ts";
import { annotationProblem, textOf, type ValueError } from "./problems.ts";
import { byCodePoint } from "./sorted.ts";
import { stackIdOf } from "./tags.ts";
import type { InputProblem, IpAddressType, Scheme, Service, TargetType } from "./types.ts";

export const ANNOTATION_PREFIX = "service.beta.kubernetes.io/aws-load-balancer-";

/** How the docs describe a value's shape. */
export type ValueShape = "string" | "boolean" | "integer" | "stringList" | "stringMap";

export interface AnnotationSpec<T = unknown> {
  /** The full annotation key. */
  key: string;
  shape: ValueShape;
  /** What applies when the annotation is absent, in words ("" when nothing is set). */
  default: string;
  docs: string;
  /** A value a user could paste. */
  example: string;
  /** Set when the annotation is kept for compatibility only: what to use instead. */
  deprecated?: string;
  /**
   * Set for a family of keys, one per service port: `<keyPrefix><port number>`. `key` then shows
   * the pattern (`...<port>`), and the parsed value is a record from port number to value.
   */
  keyPrefix?: string;
  /**
   * Set when a family's keys end in a listener, `<keyPrefix><PROTOCOL>-<port>`, instead of a port
   * number; the parsed value is then a record from `<PROTOCOL>-<port>` (protocol upper case) to value.
   */
  keyEnd?: "listener";
  parse: Parser<T>;
}

/** An annotation whose key ends in a service port number. */
export type PerPortAnnotationSpec<T> = AnnotationSpec<T> & { keyPrefix: string };

/** An annotation whose key ends in a listener's protocol and port. */
export type PerListenerAnnotationSpec<T> = PerPortAnnotationSpec<T> & { keyEnd: "listener" };

/** The protocols a listener key may name: those of the listeners build() makes. */
export const LISTENER_KEY_PROTOCOLS = ["TCP", "UDP", "TCP_UDP", "TLS"] as const;

type Definition<T> = Omit<AnnotationSpec<T>, "key" | "keyPrefix" | "keyEnd"> &
  ({ suffix: string } | { key: string });

function define<T>(definition: Definition<T>): AnnotationSpec<T> {
  if ("suffix" in definition) {
    const { suffix, ...spec } = definition;
    return { ...spec, key: `${ANNOTATION_PREFIX}${suffix}` };
  }
  return definition;
}

function definePerPort<T>(
  definition: Omit<AnnotationSpec<T>, "key" | "keyPrefix"> & { suffix: string },
): PerPortAnnotationSpec<T> {
  const { suffix, ...spec } = definition;
  const keyPrefix = `${ANNOTATION_PREFIX}${suffix}`;
  return { ...spec, key: `${keyPrefix}<port>`, keyPrefix };
}

function definePerListener<T>(
  definition: Omit<AnnotationSpec<T>, "key" | "keyPrefix" | "keyEnd"> & { suffix: string },
): PerListenerAnnotationSpec<T> {
  const { suffix, ...spec } = definition;
  const keyPrefix = `${ANNOTATION_PREFIX}${suffix}`;
  return { ...spec, key: `${keyPrefix}<protocol>-<port>`, keyPrefix, keyEnd: "listener" };
}

/** The key a docs example shows: the key itself, or for a family the key for (the TCP listener on) port 80. */
export function exampleKeyOf(spec: AnnotationSpec): string {
  if (spec.keyPrefix === undefined) return spec.key;
  return spec.keyEnd === "listener" ? `${spec.keyPrefix}TCP-80` : `${spec.keyPrefix}80`;
}

export const annotationTable = {
  type: define({
    suffix: "type",
    shape: "string",
    default: "",
    docs: "Without spec.loadBalancerClass, `external` (together with nlb-target-type ip or instance) or `nlb-ip` hands the Service to this controller. `nlb-ip` also means ip targets and wins over nlb-target-type. `nlb` belongs to the in-tree cloud provider and is ignored here. Selection compares the value exactly, as the in-tree provider does.",
    example: "external",
    parse: oneOf(["external", "nlb-ip", "nlb"]),
  }),
  targetType: define<TargetType>({
    suffix: "nlb-target-type",
    shape: "string",
    default: "the --default-target-type flag (instance)",
    docs: "`instance` registers each eligible node on the Service's nodePort; `ip` registers the pod IPs of the Service's EndpointSlices.",
    example: "ip",
    parse: oneOf(["instance", "ip"]),
  }),
  name: define({
    suffix: "name",
    shape: "string",
    default: "k8s-<namespace>-<name>-<hash>",
    docs: "The NLB's name instead of the generated one: 1 to 32 letters, digits or hyphens, not starting or ending with a hyphen and not starting with internal-. AWS cannot rename an NLB, so changing it replaces the NLB.",
    example: "my-service-nlb",
    parse: loadBalancerName,
  }),
  scheme: define<Scheme>({
    suffix: "scheme",
    shape: "string",
    default: "the --default-scheme flag (internal)",
    docs: "`internal` or `internet-facing`. AWS cannot change the scheme of an NLB, so changing it replaces the NLB.",
    example: "internet-facing",
    parse: oneOf(["internal", "internet-facing"]),
  }),
  internal: define({
    suffix: "internal",
    shape: "boolean",
    default: "",
    docs: "`true` means scheme internal, `false` internet-facing. Ignored when the scheme annotation is set.",
    example: "true",
    deprecated: `${ANNOTATION_PREFIX}scheme`,
    parse: boolean,
  }),
  ipAddressType: define<IpAddressType>({
    suffix: "ip-address-type",
    shape: "string",
    default: "ipv4",
    docs: "The NLB's IP address type: `ipv4` or `dualstack`.",
    example: "dualstack",
    parse: oneOf(["ipv4", "dualstack"]),
  }),
  subnets: define({
    suffix: "subnets",
    shape: "stringList",
    default:
      "discovered: one subnet per zone tagged kubernetes.io/role/elb (internet-facing) or kubernetes.io/role/internal-elb (internal), preferring subnets tagged for this cluster",
    docs: "The NLB's subnets, by ID or by Name tag, at most one per availability zone.",
    example: "subnet-0123456789abcdef0, private-a",
    parse: subnetList,
  }),
  healthCheckProtocol: define({
    suffix: "healthcheck-protocol",
    shape: "string",
    default: "HTTP for instance targets with externalTrafficPolicy Local, else TCP",
    docs: "`TCP`, `HTTP` or `HTTPS` (any case). With TCP the path and success codes do not apply and are left out; with HTTP(S) and no path or success codes given, the path is `/` and the codes `200-399` (for the Local default, `/healthz`).",
    example: "HTTP",
    parse: oneOf(["TCP", "HTTP", "HTTPS"]),
  }),
  healthCheckPort: define<HealthCheckPortValue>({
    suffix: "healthcheck-port",
    shape: "string",
    default:
      "spec.healthCheckNodePort for instance targets with externalTrafficPolicy Local, else traffic-port",
    docs: "`traffic-port` (each target's own port), a port number, or the name of a service port (its nodePort for instance targets, its numeric targetPort for ip targets).",
    example: "traffic-port",
    parse: healthCheckPort,
  }),
  healthCheckPath: define({
    suffix: "healthcheck-path",
    shape: "string",
    default: "/healthz for instance targets with externalTrafficPolicy Local, else / (HTTP and HTTPS only)",
    docs: "The HTTP(S) health check path. Ignored for TCP health checks.",
    example: "/ready",
    parse: healthCheckPath,
  }),
  healthCheckInterval: define({
    suffix: "healthcheck-interval",
    shape: "integer",
    default: "10",
    docs: "Seconds between health checks, 5 to 300; not below the timeout.",
    example: "10",
    parse: integer(5, 300, " seconds"),
  }),
  healthCheckTimeout: define({
    suffix: "healthcheck-timeout",
    shape: "integer",
    default: "6 for instance targets with externalTrafficPolicy Local, else 10",
    docs: "Seconds a target has to answer a health check, 2 to 120; not above the interval.",
    example: "6",
    parse: integer(2, 120, " seconds"),
  }),
  healthCheckHealthyThreshold: define({
    suffix: "healthcheck-healthy-threshold",
    shape: "integer",
    default: "2 for instance targets with externalTrafficPolicy Local, else 3",
    docs: "Consecutive successes before a target counts as healthy, 2 to 10.",
    example: "3",
    parse: integer(2, 10),
  }),
  healthCheckUnhealthyThreshold: define({
    suffix: "healthcheck-unhealthy-threshold",
    shape: "integer",
    default: "2 for instance targets with externalTrafficPolicy Local, else 3",
    docs: "Consecutive failures before a target counts as unhealthy, 2 to 10.",
    example: "3",
    parse: integer(2, 10),
  }),
  healthCheckSuccessCodes: define({
    suffix: "healthcheck-success-codes",
    shape: "string",
    default: "200-399 (HTTP and HTTPS only)",
    docs: "HTTP codes from 200 to 599 that count as healthy: one code, a range, or a comma-separated list. Ignored for TCP health checks.",
    example: "200-299",
    parse: successCodes,
  }),
  targetGroupAttributes: define({
    suffix: "target-group-attributes",
    shape: "stringMap",
    default: "proxy_protocol_v2.enabled=false",
    docs: "Target group attributes for every target group, e.g. deregistration_delay.timeout_seconds, preserve_client_ip.enabled, stickiness.enabled, stickiness.type, proxy_protocol_v2.enabled. Unknown keys are refused. The proxy-protocol annotation wins over proxy_protocol_v2.enabled given here.",
    example: "deregistration_delay.timeout_seconds=30,preserve_client_ip.enabled=true",
    parse: targetGroupAttributes,
  }),
  attributes: define({
    suffix: "attributes",
    shape: "stringMap",
    default: "",
    docs: "NLB attributes: deletion_protection.enabled, load_balancing.cross_zone.enabled, access_logs.s3.enabled, access_logs.s3.bucket, access_logs.s3.prefix, dns_record.client_routing_policy, ipv6.deny_all_igw_traffic, zonal_shift.config.enabled, secondary_ips.auto_assigned.per_subnet. Only the attributes given are set; the others keep AWS's values. Unknown keys are refused.",
    example: "load_balancing.cross_zone.enabled=true,deletion_protection.enabled=true",
    parse: loadBalancerAttributes,
  }),
  additionalResourceTags: define({
    suffix: "additional-resource-tags",
    shape: "stringMap",
    default: "",
    docs: "Extra tags on the NLB and every target group. They cannot override the ownership tags (elbv2.k8s.aws/cluster, service.k8s.aws/stack, service.k8s.aws/resource) nor the controller's --default-tags. Keys may not start with aws:.",
    example: "team=payments,env=prod",
    parse: tagMap,
  }),
  multiClusterTargetGroup: define({
    suffix: "multi-cluster-target-group",
    shape: "boolean",
    default: "false",
    docs: "`true` lets other clusters (or anything else) register their own targets into this Service's target groups: the controller then deregisters only targets it registered itself, which it records in the ConfigMap `aws-nlb-targets-<service name>` next to the Service (owned by it, written before each registration so a restart never forgets one). The first sync after turning it on deregisters nothing, as it cannot yet tell its own targets from others', and starts the record. Needs ConfigMap access (the Helm chart's rbac.multiClusterTargetGroups). Turn it on, wait for the ConfigMap to appear, and only then let other clusters register into the target groups; turn it off only once they have left. `false` again deregisters every target the Service does not want, foreign ones included, and deletes the record. Deleting the Service still deletes its NLB and target groups, as LBC does.",
    example: "true",
    parse: boolean,
  }),
  targetNodeLabels: define({
    suffix: "target-node-labels",
    shape: "stringMap",
    default: "",
    docs: "Instance targets only: register only the nodes that carry all these labels.",
    example: "node.kubernetes.io/lifecycle=normal",
    parse: labelMap,
  }),
  proxyProtocol: define({
    suffix: "proxy-protocol",
    shape: "string",
    default: "",
    docs: "`*` turns on proxy protocol v2 (proxy_protocol_v2.enabled=true) on every target group, whatever target-group-attributes says.",
    example: "*",
    parse: proxyProtocol,
  }),
  targetGroupAttributesPerPort: definePerPort({
    suffix: "target-group-attributes.",
    shape: "stringMap",
    default: "",
    docs: "Target group attributes for the target group of one service port, given by number at the end of the key; merged over target-group-attributes for that target group only. The same keys and values as target-group-attributes. A port the Service does not have is refused. The proxy-protocol annotations win over proxy_protocol_v2.enabled given here.",
    example: "deregistration_delay.timeout_seconds=0,preserve_client_ip.enabled=false",
    parse: targetGroupAttributes,
  }),
  proxyProtocolPerTargetGroup: define({
    suffix: "proxy-protocol-per-target-group",
    shape: "stringList",
    default: "",
    docs: "Service port numbers whose target groups get proxy protocol v2 (proxy_protocol_v2.enabled=true), whatever the target group attributes say. A port the Service does not have is refused. proxy-protocol `*` still turns it on everywhere.",
    example: "80",
    parse: servicePortNumbers,
  }),
  sslCert: define({
    suffix: "ssl-cert",
    shape: "stringList",
    default: "",
    docs: "ACM or IAM server certificate ARNs for TLS listeners; the first is the listener's default certificate. The listeners of the ports in ssl-ports (all TCP ports when ssl-ports is not set) terminate TLS; UDP and TCP_UDP listeners are never TLS.",
    example: "arn:aws:acm:us-west-2:123456789012:certificate/12345678-1234-1234-1234-123456789012",
    parse: certificateArns,
  }),
  sslPorts: define({
    suffix: "ssl-ports",
    shape: "stringList",
    default: "every TCP port, when ssl-cert is set",
    docs: "The service ports, by number or by name, whose listeners are TLS; `*` means every TCP port. Needs ssl-cert. A port the Service does not have, a UDP port, or a port shared by TCP and UDP (a TCP_UDP listener) is refused.",
    example: "443",
    parse: sslPorts,
  }),
  sslNegotiationPolicy: define({
    suffix: "ssl-negotiation-policy",
    shape: "string",
    default: "ELBSecurityPolicy-2016-08 (TLS listeners only)",
    docs: "The security policy of the TLS listeners: which TLS versions and ciphers they accept. Has no effect without ssl-cert.",
    example: "ELBSecurityPolicy-TLS13-1-2-2021-06",
    parse: sslPolicy,
  }),
  backendProtocol: define({
    suffix: "backend-protocol",
    shape: "string",
    default: "tcp",
    docs: "`tcp` or `ssl`. With `ssl` the target groups behind TLS listeners are TLS too, so the NLB speaks TLS to the targets; other target groups are unchanged. AWS cannot change a target group's protocol, so switching replaces those target groups.",
    example: "ssl",
    parse: oneOf(["tcp", "ssl"]),
  }),
  alpnPolicy: define({
    suffix: "alpn-policy",
    shape: "string",
    default: "",
    docs: "The ALPN policy of the TLS listeners: `HTTP1Only`, `HTTP2Only`, `HTTP2Optional`, `HTTP2Preferred` or `None`. Has no effect without ssl-cert.",
    example: "HTTP2Preferred",
    parse: oneOf(["HTTP1Only", "HTTP2Only", "HTTP2Optional", "HTTP2Preferred", "None"]),
  }),
  crossZoneLoadBalancingEnabled: define({
    suffix: "cross-zone-load-balancing-enabled",
    shape: "boolean",
    default: "",
    docs: "Sets the NLB attribute load_balancing.cross_zone.enabled. The attributes annotation wins when it sets the same attribute.",
    example: "true",
    deprecated: `${ANNOTATION_PREFIX}attributes`,
    parse: boolean,
  }),
  accessLogEnabled: define({
    suffix: "access-log-enabled",
    shape: "boolean",
    default: "",
    docs: "Sets the NLB attribute access_logs.s3.enabled; `true` needs a bucket (access-log-s3-bucket-name or access_logs.s3.bucket in attributes). The attributes annotation wins when it sets the same attribute.",
    example: "false",
    deprecated: `${ANNOTATION_PREFIX}attributes`,
    parse: boolean,
  }),
  accessLogS3BucketName: define({
    suffix: "access-log-s3-bucket-name",
    shape: "string",
    default: "",
    docs: "Sets the NLB attribute access_logs.s3.bucket. The attributes annotation wins when it sets the same attribute.",
    example: "my-access-logs",
    deprecated: `${ANNOTATION_PREFIX}attributes`,
    parse: (raw) => s3BucketName(raw.trim()),
  }),
  accessLogS3BucketPrefix: define({
    suffix: "access-log-s3-bucket-prefix",
    shape: "string",
    default: "",
    docs: "Sets the NLB attribute access_logs.s3.prefix. The attributes annotation wins when it sets the same attribute.",
    example: "nlb/shop",
    deprecated: `${ANNOTATION_PREFIX}attributes`,
    parse: (raw) =>
      /[\p{Zl}\p{Zp}]/u.test(raw)
        ? { ok: false, errors: [{ value: raw, allowed: "text of at most 1024 characters on one line" }] }
        : s3Prefix(raw.trim()),
  }),
  eipAllocations: define({
    suffix: "eip-allocations",
    shape: "stringList",
    default: "",
    docs: "Elastic IP allocation IDs for an internet-facing NLB, one per subnet, in the order of the NLB's subnets. Refused for an internal NLB, and when the count differs from the number of subnets. AWS cannot change an NLB's addresses, so changing them replaces the NLB.",
    example: "eipalloc-0123456789abcdef0,eipalloc-0123456789abcdef1",
    parse: eipAllocationIds,
  }),
  privateIpv4Addresses: define({
    suffix: "private-ipv4-addresses",
    shape: "stringList",
    default: "",
    docs: "Private IPv4 addresses for an internal NLB, one per subnet: each goes to the subnet whose CIDR holds it, and may not be one of the five addresses AWS reserves there. Refused for an internet-facing NLB, when an address is in none of the NLB's subnets or two are in one, and when the count differs from the number of subnets. AWS cannot change an NLB's addresses, so changing them replaces the NLB.",
    example: "10.0.1.10",
    parse: ipv4Addresses,
  }),
  securityGroups: define({
    suffix: "security-groups",
    shape: "stringList",
    default: "a managed frontend security group",
    docs: "The NLB's security groups, by ID or name, used as they are: no managed frontend group is created, the source ranges and prefix lists do not apply, and backend rules are added only when manage-backend-security-group-rules is true (they then allow traffic from the first group listed). AWS can only give an NLB security groups when it is created: an NLB made without any keeps having none.",
    example: "sg-0123456789abcdef0,my-nlb-clients",
    parse: securityGroupRefs,
  }),
  manageBackendSecurityGroupRules: define({
    suffix: "manage-backend-security-group-rules",
    shape: "boolean",
    default: "true with the managed security group, false with the security-groups annotation",
    docs: "Whether the security groups of the targets (the nodes' primary network interfaces for instance targets, the pods' network interfaces for ip targets) get ingress rules from the NLB's security group on the traffic and health-check ports. Rules are added before old ones are revoked, and rules the controller did not add are never revoked. Where a network interface has several security groups, the one tagged kubernetes.io/cluster/<cluster name> gets the rules.",
    example: "false",
    parse: boolean,
  }),
  securityGroupPrefixLists: define({
    suffix: "security-group-prefix-lists",
    shape: "stringList",
    default: "",
    docs: "Managed prefix lists allowed to reach the listener ports through the managed frontend security group. With prefix lists and no source ranges, only the prefix lists are allowed.",
    example: "pl-0123456789abcdef0",
    parse: prefixListIds,
  }),
  icmpForPathMtuDiscovery: define({
    suffix: "enable-icmp-for-path-mtu-discovery",
    shape: "string",
    default: "off",
    docs: '`on` lets ICMP "fragmentation needed" messages (IPv4 type 3 code 4; IPv6 "packet too big", ICMPv6 type 2 code 0) from the source ranges through the managed frontend security group, so clients can discover the path MTU. No effect with the security-groups annotation.',
    example: "on",
    parse: oneOf(["on", "off"]),
  }),
  inboundRulesOnPrivateLinkTraffic: define<"on" | "off">({
    suffix: "inbound-sg-rules-on-private-link-traffic",
    shape: "string",
    default: "on (AWS's default)",
    docs: "Whether the NLB's security groups also filter traffic that arrives through AWS PrivateLink (an endpoint service in front of the NLB): `on` or `off`. Needs security groups on the NLB (managed or given). Only set when the annotation is given.",
    example: "off",
    parse: oneOf(["on", "off"]),
  }),
  sourceRanges: define({
    key: "service.beta.kubernetes.io/load-balancer-source-ranges",
    shape: "stringList",
    default: "0.0.0.0/0, plus ::/0 for a dualstack NLB (unless prefix lists are given)",
    docs: "Client CIDR blocks allowed to reach the listener ports through the managed frontend security group. spec.loadBalancerSourceRanges wins when set. IPv6 blocks need ip-address-type dualstack.",
    example: "10.0.0.0/8,192.168.0.0/16",
    parse: cidrBlocks,
  }),
  ipv6Addresses: define({
    suffix: "ipv6-addresses",
    shape: "stringList",
    default: "",
    docs: "IPv6 addresses for a dualstack NLB (internal or internet-facing), one per subnet: each goes to the subnet whose IPv6 CIDR holds it, and may not be one of the five addresses AWS reserves there (the first four and the last). Refused unless ip-address-type is dualstack, when an address is in none of the NLB's subnets or two are in one, and when the count differs from the number of subnets. AWS cannot change an NLB's addresses, so changing them replaces the NLB.",
    example: "2600:1f13:abc:de00::10",
    parse: ipv6Addresses,
  }),
  listenerAttributes: definePerListener({
    suffix: "listener-attributes.",
    shape: "stringMap",
    default: "tcp.idle_timeout.seconds=350 (AWS's default) on TCP listeners",
    docs: "Attributes of the listener with that protocol and port, named at the end of the key (`TCP-80`; the protocol in any case). The protocol must be the one the listener really has: TLS for ports in ssl-ports, TCP_UDP for a TCP and a UDP port with the same number. Only TCP listeners take attributes: tcp.idle_timeout.seconds, 60 to 6000 seconds. Only the attributes given are set: removing the annotation leaves the listener as it is (give tcp.idle_timeout.seconds=350 to go back to AWS's default).",
    example: "tcp.idle_timeout.seconds=600",
    parse: listenerAttributes,
  }),
} as const;

/**
 * Keys refused outright, with what to do instead. Empty on purpose: an annotation that has no effect
 * on an NLB (e.g. access-log-emit-interval, Classic/ALB only) gets a Warning event and is ignored, so
 * manifests written for the AWS Load Balancer Controller apply unchanged.
 */
export const REFUSED_ANNOTATIONS: Readonly<Record<string, string>> = {};

type Table = typeof annotationTable;
type ValueOf<S> =
  S extends PerListenerAnnotationSpec<infer T>
    ? Record<string, T>
    : S extends PerPortAnnotationSpec<infer T>
      ? Record<number, T>
      : S extends AnnotationSpec<infer T>
        ? T
        : never;

/**
 * The parsed value of every annotation present and valid; absent ones are undefined. A per-port
 * family holds a record from service port number to value, a per-listener one from `<PROTOCOL>-<port>`.
 */
export type AnnotationValues = { -readonly [K in keyof Table]?: ValueOf<Table[K]> };

/** Every annotation this controller reads, in table order (the docs generator renders this). */
export const ANNOTATIONS: readonly AnnotationSpec[] = Object.values(annotationTable) as AnnotationSpec[];

/** The exact keys of the table; per-port families are matched by isKnownAnnotationKey(). */
export const KNOWN_ANNOTATION_KEYS: ReadonlySet<string> = new Set(
  ANNOTATIONS.filter((spec) => spec.keyPrefix === undefined).map((spec) => spec.key),
);

const PER_PORT_SPECS = ANNOTATIONS.filter(
  (spec): spec is PerPortAnnotationSpec<unknown> => spec.keyPrefix !== undefined,
);

/** Whether this controller reads (or deliberately refuses) the key. */
export function isKnownAnnotationKey(key: string): boolean {
  return (
    KNOWN_ANNOTATION_KEYS.has(key) ||
    Object.hasOwn(REFUSED_ANNOTATIONS, key) ||
    PER_PORT_SPECS.some((spec) => key.startsWith(spec.keyPrefix))
  );
}

export interface ParsedAnnotations {
  values: AnnotationValues;
  problems: InputProblem[];
}

const PORT_SUFFIX = /^[1-9]\d{0,4}$/;
const LISTENER_SUFFIX = /^([A-Za-z_]+)-([1-9]\d{0,4})$/;

/** What a family key's end stands for: a port number, or `<PROTOCOL>-<port>`; a problem otherwise. */
function familyMember(
  spec: AnnotationSpec & { keyPrefix: string },
  suffix: string,
): string | number | ValueError {
  if (spec.keyEnd !== "listener") {
    const port = Number(suffix);
    return PORT_SUFFIX.test(suffix) && port <= 65535
      ? port
      : {
          value: suffix,
          allowed: `a key ending in a service port number from 1 to 65535 (${spec.keyPrefix}443)`,
        };
  }
  const match = LISTENER_SUFFIX.exec(suffix);
  const protocol = LISTENER_KEY_PROTOCOLS.find((p) => p === match?.[1]?.toUpperCase());
  const port = Number(match?.[2]);
  return protocol !== undefined && port <= 65535
    ? `${protocol}-${port}`
    : {
        value: suffix,
        allowed: `a key ending in <protocol>-<port>: one of ${LISTENER_KEY_PROTOCOLS.join(", ")}, a hyphen and a service port number from 1 to 65535 (${spec.keyPrefix}TCP-80)`,
      };
}

/** Parses every annotation of the table that the Service carries; collects all problems, never throws. */
export function parseAnnotations(service: Service): ParsedAnnotations {
  const object = stackIdOf(service);
  const annotations = service.metadata?.annotations ?? {};
  const values: Record<string, unknown> = {};
  const problems: InputProblem[] = [];
  /** The value of one key, or undefined after recording its problems. */
  const parseOne = (spec: AnnotationSpec, key: string): { value: unknown } | undefined => {
    const raw: unknown = annotations[key];
    if (typeof raw !== "string") {
      // Kubernetes only stores strings; a manifest file (plan -f) can hold a map or a number here.
      problems.push(
        annotationProblem(object, key, { value: textOf(raw), allowed: "a string (quote it in YAML)" }),
      );
      return undefined;
    }
    const parsed = spec.parse(raw);
    if (parsed.ok) return { value: parsed.value };
    for (const error of parsed.errors) problems.push(annotationProblem(object, key, error));
    return undefined;
  };

  const keys = Object.keys(annotations).sort(byCodePoint);
  for (const [field, spec] of Object.entries(annotationTable) as [keyof Table, AnnotationSpec][]) {
    if (spec.keyPrefix !== undefined) {
      const byPort: Record<string | number, unknown> = {};
      const keyOfMember = new Map<string | number, string>();
      for (const key of keys.filter((k) => k.startsWith(spec.keyPrefix!))) {
        const member = familyMember(
          spec as AnnotationSpec & { keyPrefix: string },
          key.slice(spec.keyPrefix.length),
        );
        if (typeof member === "object") {
          problems.push(annotationProblem(object, key, member));
          continue;
        }
        const other = keyOfMember.get(member);
        if (other !== undefined) {
          // Listener keys differ in the protocol's case only (TCP-80 and tcp-80).
          problems.push(
            annotationProblem(object, key, {
              value: key,
              allowed: `one key per listener; ${other} names the same`,
            }),
          );
          continue;
        }
        keyOfMember.set(member, key);
        const parsed = parseOne(spec, key);
        if (parsed) byPort[member] = parsed.value;
      }
      if (Object.keys(byPort).length > 0) values[field] = byPort;
      continue;
    }
    if (!Object.hasOwn(annotations, spec.key)) continue;
    const parsed = parseOne(spec, spec.key);
    if (parsed) values[field] = parsed.value;
  }
  for (const key of keys) {
    if (!Object.hasOwn(REFUSED_ANNOTATIONS, key)) continue;
    const instead = REFUSED_ANNOTATIONS[key]!;
    problems.push(annotationProblem(object, key, { value: textOf(annotations[key]), allowed: instead }));
  }
  return { values: values as AnnotationValues, problems };
}

/**
 * Whether the Service's target groups are shared with other clusters. Any value but a valid `false`
 * counts as shared: a mistyped value must never let foreign targets be deregistered.
 */
export function sharesTargetGroups(service: Service): boolean {
  const raw: unknown = service.metadata?.annotations?.[annotationTable.multiClusterTargetGroup.key];
  if (raw === undefined) return false;
  const parsed = typeof raw === "string" ? annotationTable.multiClusterTargetGroup.parse(raw) : undefined;
  return !(parsed?.ok && parsed.value === false);
}
