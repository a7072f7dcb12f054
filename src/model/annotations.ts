// The one table of Service annotations: key, parser, default, docs text and example.
// build() reads values only through parseAnnotations(); docs/annotations.md is rendered from ANNOTATIONS.
import {
  type HealthCheckPortValue,
  healthCheckPath,
  healthCheckPort,
  labelMap,
  loadBalancerName,
  proxyProtocol,
  subnetList,
  successCodes,
  tagMap,
} from "./annotation-values.ts";
import { loadBalancerAttributes, targetGroupAttributes } from "./attributes.ts";
import { boolean, integer, oneOf, type Parser } from "./parse.ts";
import { annotationProblem, textOf } from "./problems.ts";
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
  parse: Parser<T>;
}

type Definition<T> = Omit<AnnotationSpec<T>, "key"> & ({ suffix: string } | { key: string });

function define<T>(definition: Definition<T>): AnnotationSpec<T> {
  if ("suffix" in definition) {
    const { suffix, ...spec } = definition;
    return { ...spec, key: `${ANNOTATION_PREFIX}${suffix}` };
  }
  return definition;
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
} as const;

type Table = typeof annotationTable;
type ValueOf<S> = S extends AnnotationSpec<infer T> ? T : never;

/** The parsed value of every annotation present and valid; absent ones are undefined. */
export type AnnotationValues = { -readonly [K in keyof Table]?: ValueOf<Table[K]> };

/** Every annotation this controller reads, in table order (the docs generator renders this). */
export const ANNOTATIONS: readonly AnnotationSpec[] = Object.values(annotationTable) as AnnotationSpec[];

export const KNOWN_ANNOTATION_KEYS: ReadonlySet<string> = new Set(ANNOTATIONS.map((spec) => spec.key));

export interface ParsedAnnotations {
  values: AnnotationValues;
  problems: InputProblem[];
}

/** Parses every annotation of the table that the Service carries; collects all problems, never throws. */
export function parseAnnotations(service: Service): ParsedAnnotations {
  const object = stackIdOf(service);
  const annotations = service.metadata?.annotations ?? {};
  const values: Record<string, unknown> = {};
  const problems: InputProblem[] = [];
  for (const [field, spec] of Object.entries(annotationTable) as [keyof Table, AnnotationSpec][]) {
    if (!Object.hasOwn(annotations, spec.key)) continue;
    const raw: unknown = annotations[spec.key];
    if (typeof raw !== "string") {
      // Kubernetes only stores strings; a manifest file (plan -f) can hold a map or a number here.
      problems.push(
        annotationProblem(object, spec.key, { value: textOf(raw), allowed: "a string (quote it in YAML)" }),
      );
      continue;
    }
    const parsed = spec.parse(raw);
    if (parsed.ok) values[field] = parsed.value;
    else for (const error of parsed.errors) problems.push(annotationProblem(object, spec.key, error));
  }
  return { values: values as AnnotationValues, problems };
}
