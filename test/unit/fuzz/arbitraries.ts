// Generators for the fuzz suites (Services, EndpointSlices, Nodes, annotation values, drift of an
// actual stack) and a small pure ELBv2 simulator that carries a plan's changes into an ActualStack,
// refusing what AWS refuses, so plan() can be checked for convergence without any server.
import fc from "fast-check";
import { healthCheckInput, healthCheckOf, recordToTags, tagsToRecord } from "../../../src/aws/convert.ts";
import { annotationTable } from "../../../src/model/annotations.ts";
import { LOAD_BALANCER_ATTRIBUTES, TARGET_GROUP_ATTRIBUTES } from "../../../src/model/attributes.ts";
import { canonicalIpv6 } from "../../../src/model/ipv6.ts";
import { RESOURCE_TAG, STACK_TAG } from "../../../src/model/tags.ts";
import type {
  ActualListener,
  ActualLoadBalancer,
  ActualStack,
  ActualTargetGroup,
  BuildConfig,
  EndpointSlice,
  HealthCheck,
  Node,
  Service,
  ServicePort,
  Target,
} from "../../../src/model/types.ts";
import type { Change, TargetGroupRef } from "../../../src/plan/changes.ts";

// ---- Run budget ----

/** Fixed seed so a failure reproduces; FC_SEED explores other corners. */
const SEED = Number(process.env.FC_SEED ?? 20250611);

/** The default budget FC_NUM_RUNS is measured against (test/unit/model/build.property.test.ts runs 300). */
const REFERENCE_RUNS = 300;

/**
 * numRuns for one property: its small default, or, with FC_NUM_RUNS=N, N for a property whose
 * default is 300 and the others in proportion (FC_NUM_RUNS=6000 runs everything twenty times longer).
 */
function runs(base: number): number {
  const wanted = Number(process.env.FC_NUM_RUNS);
  if (!Number.isFinite(wanted) || wanted <= 0) return base;
  return Math.max(1, Math.round((base * wanted) / REFERENCE_RUNS));
}

export const fuzzOptions = (base: number) => ({ seed: SEED, numRuns: runs(base) });

// ---- Configuration ----

export const CONFIG: BuildConfig = {
  clusterName: "prod-eu",
  loadBalancerClass: "service.k8s.aws/nlb",
  defaultTargetType: "instance",
  defaultScheme: "internal",
};

export const configArbitrary: fc.Arbitrary<BuildConfig> = fc.record({
  clusterName: fc.constantFrom("prod-eu", "a", "cluster_with.dots:and/slashes", "x".repeat(100)),
  loadBalancerClass: fc.constant("service.k8s.aws/nlb"),
  defaultTargetType: fc.constantFrom("instance" as const, "ip" as const),
  defaultScheme: fc.constantFrom("internal" as const, "internet-facing" as const),
  defaultTags: fc.option(
    fc.dictionary(
      fc.constantFrom("owner", "cost-center", "env", "team"),
      fc.constantFrom("", "platform", "42"),
    ),
    { nil: undefined },
  ),
});

// ---- Annotation values ----

type AnnotationField = keyof typeof annotationTable;

const keyOf = (field: AnnotationField) => annotationTable[field].key;

const dnsLabel = fc.stringMatching(/^[a-z]([-a-z0-9]{0,14}[a-z0-9])?$/);
const tagText = fc.stringMatching(/^[A-Za-z0-9 _.:/=+@-]{0,12}$/);
const joined = (items: fc.Arbitrary<string[]>, separators = [",", ", ", " , "]) =>
  fc.tuple(items, fc.constantFrom(...separators)).map(([parts, sep]) => parts.join(sep));
const padded = (value: fc.Arbitrary<string>) =>
  fc
    .tuple(fc.constantFrom("", " ", "\t"), value, fc.constantFrom("", " ", "  "))
    .map(([a, v, b]) => `${a}${v}${b}`);
const caseOf = (values: string[]) =>
  fc
    .tuple(fc.constantFrom(...values), fc.constantFrom("as-is", "upper", "title"))
    .map(([v, how]) =>
      how === "upper" ? v.toUpperCase() : how === "title" ? v.charAt(0).toUpperCase() + v.slice(1) : v,
    );
const integerIn = (min: number, max: number) => fc.integer({ min, max }).map(String);

/** Candidate values per attribute key: mostly what AWS accepts, some near misses. */
const attributeValue = (key: string): fc.Arbitrary<string> => {
  if (key.endsWith(".enabled")) return fc.constantFrom("true", "false", "TRUE", "1", "0", "yes");
  if (key.endsWith(".bucket")) return fc.constantFrom("my-logs", "logs.example", "", "Bad_Bucket", "ab");
  if (key.endsWith(".prefix")) return fc.constantFrom("", "nlb/", "a b", "x".repeat(1025));
  if (key.endsWith("timeout_seconds")) return fc.oneof(integerIn(0, 3600), fc.constantFrom("3601", "-1"));
  if (key.endsWith("per_subnet")) return fc.oneof(integerIn(0, 7), fc.constant("8"));
  if (key.endsWith(".type")) return fc.constantFrom("source_ip", "lb_cookie");
  if (key.endsWith("client_routing_policy"))
    return fc.constantFrom("any_availability_zone", "availability_zone_affinity", "nearest");
  if (key.endsWith(".count")) return fc.oneof(integerIn(1, 1000), fc.constantFrom("off", "0"));
  if (key.endsWith(".percentage")) return fc.oneof(integerIn(1, 100), fc.constantFrom("off", "101"));
  if (key.endsWith("draining_interval_seconds")) return integerIn(0, 360000);
  return fc.constantFrom("true", "false", "use_load_balancer_configuration");
};

const attributeMap = (known: Readonly<Record<string, unknown>>) =>
  joined(
    fc
      .uniqueArray(fc.constantFrom(...Object.keys(known)), { maxLength: 4 })
      .chain((keys) => fc.tuple(...keys.map((k) => attributeValue(k).map((v) => `${k}=${v}`)))),
  );

const subnetId = fc.stringMatching(/^[0-9a-f]{8}([0-9a-f]{9})?$/).map((hex) => `subnet-${hex}`);

/** Values each annotation accepts, with the spelling freedom the parsers allow (the two attribute maps also draw near misses). */
export const validAnnotationValue: Record<AnnotationField, fc.Arbitrary<string>> = {
  type: padded(caseOf(["external", "nlb-ip"])),
  targetType: padded(caseOf(["instance", "ip"])),
  name: fc
    .stringMatching(/^[A-Za-z0-9]([A-Za-z0-9-]{0,30}[A-Za-z0-9])?$/)
    .filter((name) => !/^internal-/i.test(name)),
  scheme: padded(caseOf(["internal", "internet-facing"])),
  internal: padded(caseOf(["true", "false", "t", "f", "1", "0"])),
  ipAddressType: padded(caseOf(["ipv4", "dualstack"])),
  subnets: joined(fc.uniqueArray(fc.oneof(subnetId, dnsLabel), { minLength: 1, maxLength: 4 })),
  healthCheckProtocol: padded(caseOf(["TCP", "HTTP", "HTTPS", "http"])),
  healthCheckPort: fc.oneof(
    padded(fc.constantFrom("traffic-port", "Traffic-Port")),
    integerIn(1, 65535),
    fc.constantFrom("p0", "p1", "http", "dns"),
  ),
  healthCheckPath: fc.stringMatching(/^\/[\x21-\x7e]{0,40}$/),
  healthCheckInterval: integerIn(5, 300),
  healthCheckTimeout: integerIn(2, 120),
  healthCheckHealthyThreshold: integerIn(2, 10),
  healthCheckUnhealthyThreshold: integerIn(2, 10),
  healthCheckSuccessCodes: joined(
    fc.array(
      fc.oneof(
        fc.integer({ min: 200, max: 599 }).map(String),
        fc
          .tuple(fc.integer({ min: 200, max: 599 }), fc.integer({ min: 0, max: 100 }))
          .map(([low, span]) => `${low}-${Math.min(599, low + span)}`),
      ),
      { minLength: 1, maxLength: 3 },
    ),
  ),
  targetGroupAttributes: attributeMap(TARGET_GROUP_ATTRIBUTES),
  attributes: attributeMap(LOAD_BALANCER_ATTRIBUTES),
  additionalResourceTags: joined(
    fc
      .uniqueArray(fc.stringMatching(/^[A-Za-z0-9_.:/+@-]{1,20}$/), { maxLength: 6 })
      .map((keys) => keys.filter((k) => !/^aws:/i.test(k)))
      .chain((keys) => fc.tuple(...keys.map((k) => tagText.map((v) => `${k}=${v.trim()}`)))),
  ),
  multiClusterTargetGroup: padded(caseOf(["true", "false", "t", "f", "1", "0"])),
  targetNodeLabels: joined(
    fc
      .uniqueArray(fc.constantFrom("pool", "topology.kubernetes.io/zone", "node.kubernetes.io/lifecycle"), {
        maxLength: 2,
      })
      .chain((keys) =>
        fc.tuple(...keys.map((k) => fc.constantFrom("edge", "normal", "").map((v) => `${k}=${v}`))),
      ),
  ),
  proxyProtocol: padded(fc.constant("*")),
  // Only values AWS accepts: the fuzz suite expects this generator to be valid throughout.
  targetGroupAttributesPerPort: joined(
    fc
      .uniqueArray(
        fc.constantFrom(
          "deregistration_delay.timeout_seconds",
          "preserve_client_ip.enabled",
          "proxy_protocol_v2.enabled",
          "stickiness.enabled",
        ),
        { maxLength: 3 },
      )
      .chain((keys) =>
        fc.tuple(
          ...keys.map((k) =>
            (k.endsWith("timeout_seconds") ? integerIn(0, 3600) : caseOf(["true", "false"])).map(
              (v) => `${k}=${v}`,
            ),
          ),
        ),
      ),
  ),
  proxyProtocolPerTargetGroup: joined(
    fc
      .uniqueArray(fc.oneof(fc.constantFrom(80, 443, 53), fc.integer({ min: 1, max: 65535 })), {
        minLength: 1,
        maxLength: 3,
      })
      .map((ports) => ports.map(String)),
  ),
  sslCert: joined(
    fc.uniqueArray(
      fc.oneof(
        fc
          .tuple(
            fc.constantFrom("aws", "aws-cn", "aws-us-gov"),
            fc.constantFrom("us-west-2", "eu-central-1"),
            fc.uuid(),
          )
          .map(([partition, region, id]) => `arn:${partition}:acm:${region}:123456789012:certificate/${id}`),
        fc
          .stringMatching(/^[A-Za-z0-9+=.@_-]{1,20}$/)
          .map((name) => `arn:aws:iam::000000000000:server-certificate/${name}`),
      ),
      { minLength: 1, maxLength: 3 },
    ),
  ),
  sslPorts: fc.oneof(
    padded(fc.constant("*")),
    joined(
      fc.uniqueArray(fc.oneof(fc.constantFrom("443", "p0", "p1", "https"), integerIn(1, 65535)), {
        minLength: 1,
        maxLength: 3,
      }),
    ),
  ),
  sslNegotiationPolicy: padded(
    fc.constantFrom(
      "ELBSecurityPolicy-2016-08",
      "ELBSecurityPolicy-TLS13-1-2-2021-06",
      "ELBSecurityPolicy-FS-1-2-Res-2020-10",
    ),
  ),
  backendProtocol: padded(caseOf(["tcp", "ssl"])),
  alpnPolicy: padded(caseOf(["HTTP1Only", "HTTP2Only", "HTTP2Optional", "HTTP2Preferred", "None"])),
  crossZoneLoadBalancingEnabled: padded(caseOf(["true", "false", "1", "0"])),
  accessLogEnabled: padded(caseOf(["true", "false"])),
  accessLogS3BucketName: fc.stringMatching(/^[a-z0-9][a-z0-9.-]{1,20}[a-z0-9]$/),
  accessLogS3BucketPrefix: fc.stringMatching(/^[A-Za-z0-9/_.-]{0,20}$/),
  eipAllocations: joined(
    fc.uniqueArray(
      fc.stringMatching(/^[0-9a-f]{8}([0-9a-f]{9})?$/).map((hex) => `eipalloc-${hex}`),
      { minLength: 1, maxLength: 3 },
    ),
  ),
  privateIpv4Addresses: joined(fc.uniqueArray(fc.ipV4(), { minLength: 1, maxLength: 3 })),
  securityGroups: joined(
    fc.uniqueArray(
      fc.oneof(
        fc.stringMatching(/^[0-9a-f]{17}$/).map((hex) => `sg-${hex}`),
        fc.stringMatching(/^[a-z][a-z0-9-]{0,20}$/),
      ),
      { minLength: 1, maxLength: 3 },
    ),
  ),
  manageBackendSecurityGroupRules: padded(caseOf(["true", "false"])),
  icmpForPathMtuDiscovery: padded(caseOf(["on", "off"])),
  inboundRulesOnPrivateLinkTraffic: padded(caseOf(["on", "off"])),
  securityGroupPrefixLists: joined(
    fc.uniqueArray(
      fc.stringMatching(/^[0-9a-f]{8}$/).map((hex) => `pl-${hex}`),
      { minLength: 1, maxLength: 2 },
    ),
  ),
  sourceRanges: joined(
    fc.uniqueArray(
      fc.tuple(fc.integer({ min: 1, max: 223 }), fc.constantFrom(8, 16, 24)).map(([a]) => `${a}.0.0.0/8`),
      { minLength: 1, maxLength: 3 },
    ),
  ),
  ipv6Addresses: joined(
    fc.uniqueArray(fc.ipV6(), { minLength: 1, maxLength: 3, selector: (a) => canonicalIpv6(a) }),
  ),
  listenerAttributes: padded(integerIn(60, 6000).map((v) => `tcp.idle_timeout.seconds=${v}`)),
};

/** Values that break something: shape, range, characters, size, separators, repeated keys. */
export const wildAnnotationValue: fc.Arbitrary<string> = fc.oneof(
  fc.constantFrom(
    "",
    " ",
    "\t",
    "\n",
    ",",
    ",,",
    "=",
    "a=",
    "=b",
    "a=1,a=2",
    "a=1,,b=2",
    "a=1;b=2",
    "a:1",
    "0",
    "-1",
    "1",
    "4",
    "65536",
    "4294967296",
    "99999999999",
    "1e3",
    "0x10",
    "+5",
    " 7 ",
    "NaN",
    "Infinity",
    "traffic-port ,",
    "/\u00e9",
    "aws:tag=x",
    "internal-x",
    "-lb",
    "lb-",
    "\u2028",
    "\u0085",
    "\u0000",
    "http--x",
  ),
  fc.integer({ min: -100_000, max: 100_000 }).map(String),
  fc.string({ unit: "grapheme", maxLength: 40 }),
  fc.string({ unit: "binary", maxLength: 40 }),
  fc
    .array(fc.tuple(fc.string({ maxLength: 8 }), fc.string({ maxLength: 8 })), { maxLength: 6 })
    .map((pairs) => pairs.map(([k, v]) => `${k}=${v}`).join(",")),
  fc.nat({ max: 20_000 }).map((n) => "x".repeat(n)),
  fc.nat({ max: 300 }).map((n) => `k=${"\u00e9".repeat(n)}`),
);

/** Every character some program takes for the end of a line. */
export const LINE_BREAKS = ["\n", "\r\n", "\v", "\f", "\u0085", "\u2028", "\u2029"];

/** A valid value made wrong in one way, which exercises each parser's edges. */
const mangled = (valid: fc.Arbitrary<string>) =>
  fc
    .tuple(
      valid,
      fc.constantFrom("dup", "trailing-comma", "unicode", "repeat", "upper", "cut", "line-break"),
      fc.constantFrom(...LINE_BREAKS),
    )
    .map(([v, how, lineBreak]) => {
      switch (how) {
        case "line-break":
          return `${v.slice(0, 1)}${lineBreak}${v.slice(1)}`;
        case "dup":
          return `${v},${v}`;
        case "trailing-comma":
          return `${v},`;
        case "unicode":
          return `${v}\u00e9\u{1f600}`;
        case "repeat":
          return v.repeat(40);
        case "upper":
          return v.toUpperCase();
        default:
          return v.slice(0, Math.floor(v.length / 2));
      }
    });

export const annotationValueFor = (field: AnnotationField): fc.Arbitrary<string> =>
  fc.oneof(
    { weight: 5, arbitrary: validAnnotationValue[field] },
    { weight: 2, arbitrary: mangled(validAnnotationValue[field]) },
    { weight: 2, arbitrary: wildAnnotationValue },
  );

/**
 * Fields the generated annotation maps leave out, for now: fixed addresses need subnets that the
 * plan simulator does not model; per-port keys need the generated Service's port numbers.
 * Their parsers are still fuzzed through validAnnotationValue and annotationValueFor.
 */
const NOT_IN_GENERATED_MAPS = new Set<AnnotationField>([
  "eipAllocations",
  "privateIpv4Addresses",
  "ipv6Addresses",
  "targetGroupAttributesPerPort",
  "listenerAttributes",
]);

const FIELDS = (Object.keys(annotationTable) as AnnotationField[]).filter(
  (f) => !NOT_IN_GENERATED_MAPS.has(f),
);

/** A map of annotations: known keys with mixed values, plus some keys this controller does not read. */
const annotationsArbitrary = (
  valuesFor: (field: AnnotationField) => fc.Arbitrary<string> = annotationValueFor,
  maxKeys = 8,
): fc.Arbitrary<Record<string, string>> =>
  fc
    .tuple(
      fc
        .uniqueArray(fc.constantFrom(...FIELDS), { maxLength: maxKeys })
        .chain((fields) => fc.tuple(...fields.map((f) => valuesFor(f).map((v) => [keyOf(f), v] as const)))),
      fc.array(
        fc.tuple(
          fc.oneof(
            fc.constantFrom(
              "kubectl.kubernetes.io/last-applied-configuration",
              "service.beta.kubernetes.io/aws-load-balancer-ssl-cert",
              "service.beta.kubernetes.io/aws-load-balancer-backend-protocol",
            ),
            fc.string({ maxLength: 30 }).map((s) => `service.beta.kubernetes.io/aws-load-balancer-${s}`),
            fc.string({ unit: "grapheme", maxLength: 20 }),
          ),
          wildAnnotationValue,
        ),
        { maxLength: 2 },
      ),
    )
    .map(([known, other]) => Object.fromEntries([...other, ...known]));

/** Annotations that each parse: build() may still refuse their combination (timeout above interval). */
const validAnnotationsArbitrary = annotationsArbitrary((field) => validAnnotationValue[field], 6);

// ---- Services ----

/** Names the API server accepts for a Service or a namespace (DNS labels). */
export const kubernetesName = fc.oneof(
  { weight: 6, arbitrary: fc.stringMatching(/^[a-z]([-a-z0-9]{0,61}[a-z0-9])?$/) },
  { weight: 1, arbitrary: fc.constantFrom("a", "web", "x".repeat(63), "a-b-c-d-e-f-g-h-i") },
);

/** Names only a manifest file can carry (`plan -f`): long, unicode, punctuation. */
export const manifestOnlyName = fc.oneof(
  fc.constantFrom("x".repeat(253), "-", "a.b", "Web", "a_b"),
  fc.string({ unit: "grapheme", minLength: 1, maxLength: 80 }),
  fc.nat({ max: 400 }).map((n) => `n${"\u00fc".repeat(n)}`),
);

const portNumber = fc.oneof(
  { weight: 8, arbitrary: fc.integer({ min: 1, max: 65535 }) },
  { weight: 2, arbitrary: fc.constantFrom(0, -1, -80, 65536, 70000, 80, 443, 53, 1.5) },
);

const wildPort: fc.Arbitrary<ServicePort> = fc.record(
  {
    name: fc.oneof(fc.constantFrom("p0", "p1", "http", "dns", ""), fc.string({ maxLength: 10 })),
    protocol: fc.constantFrom("TCP" as const, "UDP" as const, "SCTP" as const),
    port: portNumber,
    targetPort: fc.oneof(portNumber, fc.constantFrom("http", "8080", "0", "", "dns", "Bad Name")),
    nodePort: fc.oneof(fc.integer({ min: 30000, max: 32767 }), portNumber),
  },
  { requiredKeys: ["port"] },
);

/** Services with every field drawn wide: most are refused, each for its own reasons. */
export const wildServiceArbitrary = (names: fc.Arbitrary<string> = kubernetesName): fc.Arbitrary<Service> =>
  fc
    .record({
      name: names,
      namespace: fc.option(names, { nil: undefined }),
      uid: fc.option(fc.uuid(), { nil: undefined }),
      annotations: annotationsArbitrary(),
      type: fc.constantFrom("LoadBalancer", "LoadBalancer", "NodePort", "ClusterIP", undefined),
      loadBalancerClass: fc.constantFrom("service.k8s.aws/nlb", "metallb.io/metallb", "", undefined),
      externalTrafficPolicy: fc.constantFrom("Cluster", "Local", "local", "", undefined),
      healthCheckNodePort: fc.option(portNumber, { nil: undefined }),
      ports: fc.oneof(
        fc.array(wildPort, { maxLength: 8 }),
        fc.array(wildPort, { minLength: 45, maxLength: 60 }),
      ),
    })
    .map(({ name, namespace, uid, annotations, ports, ...spec }) => ({
      metadata: { name, namespace, uid, annotations },
      spec: { ...dropUndefined(spec), ports },
    }));

export interface PlausibleOptions {
  /** Force metadata, so two Services describe one stack at two moments. */
  metadata?: { name: string; namespace: string; uid: string };
}

/**
 * Services build() mostly accepts: unique port/protocol pairs, allocated nodePorts, annotations
 * that each parse. Port names are p<port>-<protocol> so health check port names may resolve.
 */
export const plausibleServiceArbitrary = (options: PlausibleOptions = {}): fc.Arbitrary<Service> =>
  fc
    .record({
      metadata: options.metadata
        ? fc.constant(options.metadata)
        : fc.record({ name: kubernetesName, namespace: dnsLabel, uid: fc.uuid() }),
      annotations: validAnnotationsArbitrary,
      externalTrafficPolicy: fc.constantFrom("Cluster", "Local"),
      healthCheckNodePort: fc.integer({ min: 30000, max: 32767 }),
      ports: fc.uniqueArray(
        fc.record({
          port: fc.oneof(fc.constantFrom(80, 443, 53, 8080), fc.integer({ min: 1, max: 65535 })),
          protocol: fc.constantFrom("TCP" as const, "UDP" as const),
          targetPort: fc.oneof(fc.integer({ min: 1, max: 65535 }), fc.constantFrom("http", "8080")),
          nodePort: fc.integer({ min: 30000, max: 32767 }),
        }),
        { minLength: 1, maxLength: 6, selector: (p) => `${p.port}/${p.protocol}` },
      ),
    })
    .map(({ metadata, annotations, externalTrafficPolicy, healthCheckNodePort, ports }) => ({
      metadata: { ...metadata, annotations },
      spec: {
        type: "LoadBalancer",
        loadBalancerClass: "service.k8s.aws/nlb",
        externalTrafficPolicy,
        healthCheckNodePort,
        // A TCP and a UDP port with one number share a target group, so they share the nodePort too.
        ports: ports.map((port, i) => ({
          name: i < 2 ? `p${i}` : `${port.protocol.toLowerCase()}-${port.port}`,
          ...port,
          nodePort: ports.find((other) => other.port === port.port)!.nodePort,
          targetPort:
            ports.find((other) => other.port === port.port && other.protocol === "TCP")?.targetPort ??
            port.targetPort,
        })),
      },
    }));

// ---- Nodes and EndpointSlices ----

const providerId = fc.oneof(
  {
    weight: 4,
    arbitrary: fc.stringMatching(/^[0-9a-f]{8}([0-9a-f]{9})?$/).map((h) => `aws:///eu-west-1a/i-${h}`),
  },
  {
    weight: 1,
    arbitrary: fc.constantFrom(
      "",
      "aws:///i-",
      "aws:///eu-west-1a/i-XYZ",
      "aws:///eu-west-1a/",
      "gce://project/zone/vm",
      "aws://eu-west-1a/i-0123456789abcdef0/",
      "i-0123456789abcdef0",
      "aws:///fargate-ip-10-0-0-1",
    ),
  },
  { weight: 1, arbitrary: fc.string({ unit: "grapheme", maxLength: 40 }) },
);

export const nodeArbitrary: fc.Arbitrary<Node> = fc.record(
  {
    metadata: fc.record(
      {
        name: fc.stringMatching(/^ip-10-0-[0-9]{1,3}-[0-9]{1,3}$/),
        labels: fc.dictionary(
          fc.constantFrom(
            "pool",
            "node.kubernetes.io/exclude-from-external-load-balancers",
            "eks.amazonaws.com/compute-type",
            "node.kubernetes.io/lifecycle",
            "topology.kubernetes.io/zone",
          ),
          fc.constantFrom("edge", "normal", "fargate", "ec2", "", "true"),
          { maxKeys: 3 },
        ),
      },
      { requiredKeys: ["name"] },
    ),
    spec: fc.record(
      {
        providerID: providerId,
        unschedulable: fc.boolean(),
        taints: fc.array(
          fc.record({
            key: fc.constantFrom(
              "ToBeDeletedByClusterAutoscaler",
              "dedicated",
              "node.kubernetes.io/not-ready",
            ),
            value: fc.constantFrom("1", "gpu"),
            effect: fc.constantFrom("NoSchedule", "NoExecute", "PreferNoSchedule"),
          }),
          { maxLength: 2 },
        ),
      },
      { requiredKeys: [] },
    ),
    status: fc.record(
      {
        conditions: fc.array(
          fc.record({
            type: fc.constantFrom("Ready", "Ready", "DiskPressure", "MemoryPressure"),
            status: fc.constantFrom("True", "True", "False", "Unknown", "true"),
          }),
          { maxLength: 3 },
        ),
      },
      { requiredKeys: [] },
    ),
  },
  { requiredKeys: ["metadata"] },
);

const endpointArbitrary = fc.record(
  {
    addresses: fc.array(fc.oneof(fc.ipV4(), fc.ipV6(), fc.constantFrom("", "pod.example")), { maxLength: 2 }),
    conditions: fc.record(
      { ready: fc.boolean(), serving: fc.boolean(), terminating: fc.boolean() },
      { requiredKeys: [] },
    ),
    nodeName: fc.constantFrom("ip-10-0-1-1", "ip-10-0-2-2"),
  },
  { requiredKeys: ["addresses"] },
);

/** EndpointSlices, most of them the Service's own (same namespace, service-name label, its port names). */
const sliceName = fc.stringMatching(/^[a-z]{1,8}-[a-z0-9]{5}$/);
const slicePortNumber = fc.oneof(fc.integer({ min: 1, max: 65535 }), portNumber);

export const slicesFor = (service: Service): fc.Arbitrary<EndpointSlice[]> => {
  const portNames = (service.spec.ports ?? []).map((p) => p.name ?? "");
  return fc.array(
    fc.record({
      metadata: fc.record({
        name: sliceName,
        namespace: fc.constantFrom(service.metadata.namespace ?? "default", "default", "other"),
        labels: fc.record({
          "kubernetes.io/service-name": fc.constantFrom(
            service.metadata.name,
            service.metadata.name,
            "other",
          ),
        }),
      }),
      addressType: fc.constantFrom("IPv4", "IPv4", "IPv6", "FQDN"),
      ports: fc.oneof(
        fc.array(
          fc.record(
            {
              name: fc.constantFrom(...portNames, "", "http", "unmatched"),
              port: slicePortNumber,
              protocol: fc.constantFrom("TCP", "UDP"),
            },
            { requiredKeys: [] },
          ),
          { maxLength: 3 },
        ),
        fc.constant(null),
      ),
      endpoints: fc.oneof(
        { weight: 6, arbitrary: fc.array(endpointArbitrary, { maxLength: 5 }) },
        fc.constant(null),
      ),
    }),
    { maxLength: 3 },
  );
};

export interface Scenario {
  service: Service;
  slices: EndpointSlice[];
  nodes: Node[];
}

export const scenarioOf = (services: fc.Arbitrary<Service>): fc.Arbitrary<Scenario> =>
  services.chain((service) =>
    fc.record({
      service: fc.constant(service),
      slices: slicesFor(service),
      nodes: fc.array(nodeArbitrary, { maxLength: 5 }),
    }),
  );

// ---- A pure ELBv2 ----

/** Thrown for a call AWS would refuse: a plan that needs one is wrong. */
export class AwsRefusal extends Error {
  override name = "AwsRefusal";
}

export const emptyStack = (): ActualStack => ({ loadBalancers: [], listeners: [], targetGroups: [] });

/** Attribute values a new NLB reports. */
const LOAD_BALANCER_DEFAULTS: Record<string, string> = {
  "access_logs.s3.enabled": "false",
  "access_logs.s3.bucket": "",
  "access_logs.s3.prefix": "",
  "deletion_protection.enabled": "false",
  "dns_record.client_routing_policy": "any_availability_zone",
  "ipv6.deny_all_igw_traffic": "false",
  "load_balancing.cross_zone.enabled": "false",
  "zonal_shift.config.enabled": "false",
};

/** Attribute values a new NLB target group reports. */
function targetGroupDefaults(targetType: string, protocol: string): Record<string, string> {
  return {
    "deregistration_delay.connection_termination.enabled": "false",
    "deregistration_delay.timeout_seconds": "300",
    "load_balancing.cross_zone.enabled": "use_load_balancer_configuration",
    "preserve_client_ip.enabled": targetType === "instance" || protocol !== "TCP" ? "true" : "false",
    "proxy_protocol_v2.enabled": "false",
    "stickiness.enabled": "false",
    "stickiness.type": "source_ip",
    "target_group_health.dns_failover.minimum_healthy_targets.count": "1",
    "target_group_health.dns_failover.minimum_healthy_targets.percentage": "off",
    "target_group_health.unhealthy_state_routing.minimum_healthy_targets.count": "1",
    "target_group_health.unhealthy_state_routing.minimum_healthy_targets.percentage": "off",
    "target_health_state.unhealthy.connection_termination.enabled": "true",
    "target_health_state.unhealthy.draining_interval_seconds": "0",
  };
}

const AWS_NAME = /^[A-Za-z0-9](?:[A-Za-z0-9-]{0,30}[A-Za-z0-9])?$/;
const TAG_KEY = /^[\p{L}\p{Z}\p{N}_.:/=+\-@]{1,128}$/u;
const TAG_VALUE = /^[\p{L}\p{Z}\p{N}_.:/=+\-@]{0,256}$/u;

/** The tags AWS would store, or the reason it refuses them; `existing` ones were accepted before (AWS's own aws: tags). */
function storedTags(
  tags: Record<string, string>,
  existing: Record<string, string> = {},
): Record<string, string> {
  const entries = Object.entries(tags);
  if (entries.length > 50) throw new AwsRefusal(`TooManyTags: ${entries.length}`);
  for (const [key, value] of entries) {
    if (Object.hasOwn(existing, key) && existing[key] === value) continue;
    if (!TAG_KEY.test(key) || [...key].length > 128 || /^aws:/i.test(key))
      throw new AwsRefusal(`ValidationError: tag key ${JSON.stringify(key)}`);
    if (!TAG_VALUE.test(value) || [...value].length > 256)
      throw new AwsRefusal(`ValidationError: tag value ${JSON.stringify(value)}`);
  }
  return tagsToRecord(recordToTags(tags));
}

/** What DescribeTargetGroups reports after a health check was set: the same input/output conversions apply uses. */
function storedHealthCheck(check: HealthCheck): HealthCheck {
  const input = healthCheckInput(check);
  const { intervalSeconds: interval, timeoutSeconds: timeout } = check;
  if (interval < 5 || interval > 300 || timeout < 2 || timeout > 120 || timeout > interval)
    throw new AwsRefusal(`ValidationError: health check interval ${interval} / timeout ${timeout}`);
  for (const count of [check.healthyThresholdCount, check.unhealthyThresholdCount])
    if (count < 2 || count > 10) throw new AwsRefusal(`ValidationError: threshold ${count}`);
  if (
    check.port !== "traffic-port" &&
    !(Number.isInteger(check.port) && check.port >= 1 && check.port <= 65535)
  )
    throw new AwsRefusal(`ValidationError: health check port ${check.port}`);
  return healthCheckOf(input);
}

const LISTENER_FITS: Record<string, string[]> = {
  TCP: ["TCP"],
  UDP: ["UDP"],
  TCP_UDP: ["TCP_UDP"],
  TLS: ["TCP", "TLS"],
};

export interface Simulation {
  actual: ActualStack;
  /** Targets registered per target group ARN. */
  registered: Map<string, Target[]>;
  /** How many changes were carried out. */
  applied: number;
}

/**
 * Carries out changes in order on a copy of `actual`, as ELBv2 would: new ARNs, default
 * attributes, listeners going with their NLB, and refusals (AwsRefusal) for an unknown ARN, a
 * duplicate name or listener port, a target group in use or serving two NLBs, a listener whose
 * protocol does not fit its target group, or out-of-range values. `limit` stops after that many
 * changes, as a controller killed mid-apply would.
 */
export function simulateApply(actual: ActualStack, changes: readonly Change[], limit = Infinity): Simulation {
  const state: ActualStack = structuredClone(actual);
  const registered = new Map<string, Target[]>();
  const created = new Map<string, string>();
  // The NLB listeners go to: the one this apply created, else the one the stack keeps.
  let lbArn: string | undefined;
  let sequence = Math.max(0, ...allArns(state).map((arn) => Number(/\/(\d+)$/.exec(arn)?.[1] ?? 0))) + 1;
  const nextArn = (kind: string, name: string) =>
    `arn:sim:elasticloadbalancing:${kind}/${name}/${sequence++}`;

  const lbOf = (arn: string) => {
    const lb = state.loadBalancers.find((l) => l.arn === arn);
    if (!lb) throw new AwsRefusal(`LoadBalancerNotFound: ${arn}`);
    return lb;
  };
  const tgOf = (arn: string) => {
    const tg = state.targetGroups.find((t) => t.arn === arn);
    if (!tg) throw new AwsRefusal(`TargetGroupNotFound: ${arn}`);
    return tg;
  };
  const arnOf = (ref: TargetGroupRef) => {
    if ("arn" in ref) return ref.arn;
    const arn = created.get(ref.id);
    if (!arn) throw new AwsRefusal(`target group ${ref.id} used before it was created`);
    return arn;
  };
  const forward = (lbArnOfListener: string, port: number, protocol: string, tgArn: string) => {
    const tg = tgOf(tgArn);
    if (!LISTENER_FITS[protocol]?.includes(tg.protocol))
      throw new AwsRefusal(`IncompatibleProtocols: ${protocol} listener, ${tg.protocol} target group`);
    const elsewhere = state.listeners.find(
      (l) => l.targetGroupArn === tgArn && l.loadBalancerArn !== lbArnOfListener,
    );
    if (elsewhere) throw new AwsRefusal(`TargetGroupAssociationLimit: ${tgArn} serves another NLB`);
    if (port < 1 || port > 65535) throw new AwsRefusal(`ValidationError: listener port ${port}`);
  };

  let applied = 0;
  for (const change of changes) {
    if (applied >= limit) break;
    switch (change.kind) {
      case "deleteLoadBalancer":
        lbOf(change.arn);
        state.loadBalancers = state.loadBalancers.filter((l) => l.arn !== change.arn);
        state.listeners = state.listeners.filter((l) => l.loadBalancerArn !== change.arn);
        if (lbArn === change.arn) lbArn = undefined;
        break;
      case "createTargetGroup": {
        const s = change.spec;
        if (!AWS_NAME.test(s.name)) throw new AwsRefusal(`ValidationError: target group name ${s.name}`);
        if (state.targetGroups.some((t) => t.name === s.name))
          throw new AwsRefusal(`DuplicateTargetGroupName: ${s.name}`);
        if (!Number.isInteger(s.port) || s.port < 1 || s.port > 65535)
          throw new AwsRefusal(`ValidationError: target group port ${s.port}`);
        const arn = nextArn("targetgroup", s.name);
        state.targetGroups.push({
          arn,
          name: s.name,
          targetType: s.targetType,
          protocol: s.protocol,
          port: s.port,
          ipAddressType: s.ipAddressType,
          vpcId: "vpc-0sim",
          healthCheck: storedHealthCheck(s.healthCheck),
          attributes: targetGroupDefaults(s.targetType, s.protocol),
          tags: storedTags(s.tags),
          loadBalancerArns: [],
        });
        created.set(s.id, arn);
        break;
      }
      case "modifyTargetGroupHealthCheck":
        tgOf(change.arn).healthCheck = storedHealthCheck(change.healthCheck);
        break;
      case "modifyTargetGroupAttributes": {
        const tg = tgOf(change.arn || arnOf({ id: change.id }));
        for (const key of Object.keys(change.attributes))
          if (!Object.hasOwn(TARGET_GROUP_ATTRIBUTES, key))
            throw new AwsRefusal(`ValidationError: target group attribute ${key}`);
        Object.assign(tg.attributes, change.attributes);
        break;
      }
      case "createLoadBalancer": {
        const s = change.spec;
        if (!AWS_NAME.test(s.name) || /^internal-/i.test(s.name))
          throw new AwsRefusal(`ValidationError: load balancer name ${s.name}`);
        if (state.loadBalancers.some((l) => l.name === s.name))
          throw new AwsRefusal(`DuplicateLoadBalancerName: ${s.name}`);
        if (change.subnetMappings.length === 0) throw new AwsRefusal("ValidationError: no subnets");
        for (const key of Object.keys(s.attributes))
          if (!Object.hasOwn(LOAD_BALANCER_ATTRIBUTES, key))
            throw new AwsRefusal(`ValidationError: load balancer attribute ${key}`);
        const arn = nextArn("loadbalancer/net", s.name);
        state.loadBalancers.push({
          arn,
          name: s.name,
          dnsName: `${s.name}-${sequence}.elb.eu-west-1.amazonaws.com`.toLowerCase(),
          type: s.type,
          scheme: s.scheme,
          ipAddressType: s.ipAddressType,
          subnets: change.subnetMappings.map((m) => m.subnetId),
          securityGroups: change.securityGroups ?? [],
          state: "provisioning",
          attributes: { ...LOAD_BALANCER_DEFAULTS, ...s.attributes },
          tags: storedTags(s.tags),
        });
        lbArn = arn;
        break;
      }
      case "setSubnets":
        lbOf(change.arn).subnets = [...change.subnetIds];
        break;
      case "setSecurityGroups": {
        const arn = change.arn || lbArn;
        if (!arn) throw new AwsRefusal("ValidationError: no load balancer");
        if (lbOf(arn).securityGroups.length === 0)
          throw new AwsRefusal("InvalidConfigurationRequest: the NLB was created without security groups");
        lbOf(arn).securityGroups = [...change.securityGroups];
        break;
      }
      case "setIpAddressType":
        lbOf(change.arn).ipAddressType = change.ipAddressType;
        break;
      case "modifyLoadBalancerAttributes":
        Object.assign(lbOf(change.arn).attributes, change.attributes);
        break;
      case "updateTags": {
        const resource =
          state.loadBalancers.find((l) => l.arn === change.arn) ??
          state.targetGroups.find((t) => t.arn === change.arn);
        if (!resource) throw new AwsRefusal(`ResourceNotFound: ${change.arn}`);
        const tags = { ...resource.tags, ...change.add };
        for (const key of change.remove) delete tags[key];
        resource.tags = storedTags(tags, resource.tags);
        break;
      }
      case "deleteListener":
        if (!state.listeners.some((l) => l.arn === change.arn))
          throw new AwsRefusal(`ListenerNotFound: ${change.arn}`);
        state.listeners = state.listeners.filter((l) => l.arn !== change.arn);
        break;
      case "createListener": {
        const owner = lbArn ?? (state.loadBalancers.length === 1 ? state.loadBalancers[0]!.arn : undefined);
        if (!owner) throw new AwsRefusal("no load balancer to add a listener to");
        const tgArn = arnOf(change.targetGroup);
        if (state.listeners.some((l) => l.loadBalancerArn === owner && l.port === change.spec.port))
          throw new AwsRefusal(`DuplicateListener: port ${change.spec.port}`);
        if (state.listeners.filter((l) => l.loadBalancerArn === owner).length >= 50)
          throw new AwsRefusal("TooManyListeners");
        forward(owner, change.spec.port, change.spec.protocol, tgArn);
        storedTags(change.tags);
        const listener: ActualListener = {
          arn: nextArn("listener/net", String(change.spec.port)),
          loadBalancerArn: owner,
          port: change.spec.port,
          protocol: change.spec.protocol,
          targetGroupArn: tgArn,
          certificates: change.spec.certificates?.[0] ? [change.spec.certificates[0]] : [],
          ...(change.spec.sslPolicy ? { sslPolicy: change.spec.sslPolicy } : {}),
          ...(change.spec.alpnPolicy ? { alpnPolicy: change.spec.alpnPolicy } : {}),
        };
        state.listeners.push(listener);
        break;
      }
      case "setListenerCertificates": {
        const listener =
          "arn" in change.listener
            ? state.listeners.find((l) => l.arn === (change.listener as { arn: string }).arn)
            : state.listeners.find((l) => l.port === (change.listener as { port: number }).port);
        if (!listener) throw new AwsRefusal("ListenerNotFound for certificates");
        const [first, ...extras] = listener.certificates ?? [];
        const kept = extras.filter((c) => !change.remove.includes(c));
        listener.certificates = [
          ...(first ? [first] : []),
          ...kept,
          ...change.add.filter((c) => !kept.includes(c)),
        ];
        break;
      }
      case "modifyListener": {
        const listener = state.listeners.find((l) => l.arn === change.arn);
        if (!listener) throw new AwsRefusal(`ListenerNotFound: ${change.arn}`);
        const tgArn = arnOf(change.targetGroup);
        forward(listener.loadBalancerArn, change.spec.port, change.spec.protocol, tgArn);
        listener.protocol = change.spec.protocol;
        listener.port = change.spec.port;
        listener.targetGroupArn = tgArn;
        const extras = (listener.certificates ?? []).slice(1);
        listener.certificates = change.spec.certificates?.[0] ? [change.spec.certificates[0], ...extras] : [];
        listener.sslPolicy = change.spec.sslPolicy;
        listener.alpnPolicy = change.spec.alpnPolicy;
        break;
      }
      case "deleteTargetGroup": {
        tgOf(change.arn);
        if (state.listeners.some((l) => l.targetGroupArn === change.arn))
          throw new AwsRefusal(`ResourceInUse: ${change.arn} is a listener's default action`);
        state.targetGroups = state.targetGroups.filter((t) => t.arn !== change.arn);
        registered.delete(change.arn);
        break;
      }
      case "registerTargets": {
        const arn = arnOf(change.targetGroup);
        tgOf(arn);
        const have = registered.get(arn) ?? [];
        const keys = new Set(have.map((t) => `${t.id}:${t.port}`));
        registered.set(arn, [...have, ...change.targets.filter((t) => !keys.has(`${t.id}:${t.port}`))]);
        break;
      }
    }
    applied++;
  }
  for (const tg of state.targetGroups) {
    const lbs = state.listeners.filter((l) => l.targetGroupArn === tg.arn).map((l) => l.loadBalancerArn);
    tg.loadBalancerArns = [...new Set(lbs)];
  }
  return { actual: state, registered, applied };
}

export function allArns(stack: ActualStack): string[] {
  return [
    ...stack.loadBalancers.map((l) => l.arn),
    ...stack.listeners.map((l) => l.arn),
    ...stack.targetGroups.map((t) => t.arn),
  ];
}

// ---- Drift: what people and other tools do to a stack between reconciles ----

export type Drift =
  | { kind: "healthCheck"; pick: number; field: keyof HealthCheck; value: number | string }
  | { kind: "targetGroupAttribute"; pick: number; key: string; value: string | undefined }
  | { kind: "loadBalancerAttribute"; key: string; value: string }
  | { kind: "tag"; pick: number; key: string; value: string | undefined }
  | { kind: "deleteListener"; pick: number }
  | { kind: "retargetListener"; pick: number; to: number }
  | { kind: "subnets"; subnets: readonly string[] }
  | { kind: "ipAddressType"; value: string }
  | { kind: "staleTargetGroup"; port: number }
  | { kind: "extraLoadBalancer"; name: string }
  | { kind: "deleteTargetGroup"; pick: number }
  | { kind: "deleteLoadBalancer" };

export const driftArbitrary: fc.Arbitrary<Drift> = fc.oneof(
  fc.record({
    kind: fc.constant("healthCheck" as const),
    pick: fc.nat(),
    field: fc.constantFrom<keyof HealthCheck>(
      "intervalSeconds",
      "timeoutSeconds",
      "healthyThresholdCount",
      "unhealthyThresholdCount",
      "port",
      "path",
      "protocol",
    ),
    value: fc.oneof(fc.integer({ min: 2, max: 30 }), fc.constantFrom("HTTP", "TCP", "/x", "traffic-port")),
  }),
  fc.record({
    kind: fc.constant("targetGroupAttribute" as const),
    pick: fc.nat(),
    key: fc.constantFrom(...Object.keys(TARGET_GROUP_ATTRIBUTES)),
    value: fc.constantFrom("true", "false", "0", "30", undefined),
  }),
  fc.record({
    kind: fc.constant("loadBalancerAttribute" as const),
    key: fc.constantFrom(...Object.keys(LOAD_BALANCER_ATTRIBUTES)),
    value: fc.constantFrom("true", "false", "availability_zone_affinity"),
  }),
  fc.record({
    kind: fc.constant("tag" as const),
    pick: fc.nat(),
    key: fc.constantFrom("team", "aws:cloudformation:stack-name", "env", "owner"),
    value: fc.constantFrom("x", "", undefined),
  }),
  fc.record({ kind: fc.constant("deleteListener" as const), pick: fc.nat() }),
  fc.record({ kind: fc.constant("retargetListener" as const), pick: fc.nat(), to: fc.nat() }),
  fc.record({
    kind: fc.constant("subnets" as const),
    subnets: fc.constantFrom(["subnet-aaaa1111"], ["subnet-cccc3333", "subnet-aaaa1111", "subnet-bbbb2222"]),
  }),
  fc.record({ kind: fc.constant("ipAddressType" as const), value: fc.constantFrom("dualstack", "ipv4") }),
  fc.record({ kind: fc.constant("staleTargetGroup" as const), port: fc.integer({ min: 1, max: 65535 }) }),
  fc.record({
    kind: fc.constant("extraLoadBalancer" as const),
    name: fc.constantFrom("k8s-old-dup", "other-nlb"),
  }),
  fc.record({ kind: fc.constant("deleteTargetGroup" as const), pick: fc.nat() }),
  fc.record({ kind: fc.constant("deleteLoadBalancer" as const) }),
);

/** The stack after drift; each drift names a resource by index modulo what exists, or does nothing. */
export function drifted(actual: ActualStack, drifts: readonly Drift[], stackId: string): ActualStack {
  const state = structuredClone(actual);
  const at = <T>(items: T[], pick: number): T | undefined => items[pick % Math.max(1, items.length)];
  for (const drift of drifts) {
    const lb: ActualLoadBalancer | undefined = state.loadBalancers[0];
    switch (drift.kind) {
      case "healthCheck": {
        const tg = at(state.targetGroups, drift.pick);
        if (tg) (tg.healthCheck as unknown as Record<string, unknown>)[drift.field] = drift.value;
        break;
      }
      case "targetGroupAttribute": {
        const tg = at(state.targetGroups, drift.pick);
        if (tg && drift.value === undefined) delete tg.attributes[drift.key];
        else if (tg && drift.value !== undefined) tg.attributes[drift.key] = drift.value;
        break;
      }
      case "loadBalancerAttribute":
        if (lb) lb.attributes[drift.key] = drift.value;
        break;
      case "tag": {
        const resource: { tags: Record<string, string> } | undefined = at(
          [...state.loadBalancers, ...state.targetGroups],
          drift.pick,
        );
        if (resource && drift.value === undefined) delete resource.tags[drift.key];
        else if (resource && drift.value !== undefined) resource.tags[drift.key] = drift.value;
        break;
      }
      case "deleteListener": {
        const listener = at(state.listeners, drift.pick);
        state.listeners = state.listeners.filter((l) => l !== listener);
        break;
      }
      case "retargetListener": {
        const listener = at(state.listeners, drift.pick);
        const tg = at(state.targetGroups, drift.to);
        if (listener && tg && LISTENER_FITS[listener.protocol]?.includes(tg.protocol))
          listener.targetGroupArn = tg.arn;
        break;
      }
      case "subnets":
        if (lb) lb.subnets = [...drift.subnets];
        break;
      case "ipAddressType":
        if (lb) lb.ipAddressType = drift.value;
        break;
      case "staleTargetGroup": {
        const id = `${stackId}:${drift.port}`;
        if (state.targetGroups.some((t) => t.tags[RESOURCE_TAG] === id)) break;
        const template: ActualTargetGroup | undefined = state.targetGroups[0];
        state.targetGroups.push({
          arn: `arn:sim:elasticloadbalancing:targetgroup/stale/${900000 + drift.port}`,
          name: `k8s-stale-${drift.port}`,
          targetType: "instance",
          protocol: "TCP",
          port: 30000,
          ipAddressType: "ipv4",
          healthCheck: template?.healthCheck ?? storedHealthCheck(DEFAULT_TCP_CHECK),
          attributes: targetGroupDefaults("instance", "TCP"),
          tags: { ...(template?.tags ?? {}), [STACK_TAG]: stackId, [RESOURCE_TAG]: id },
          loadBalancerArns: [],
        });
        break;
      }
      case "extraLoadBalancer":
        if (!lb || state.loadBalancers.some((l) => l.name === drift.name)) break;
        state.loadBalancers.push({
          ...structuredClone(lb),
          arn: `arn:sim:elasticloadbalancing:loadbalancer/net/${drift.name}/${800000 + state.loadBalancers.length}`,
          name: drift.name,
        });
        break;
      case "deleteTargetGroup": {
        const tg = at(state.targetGroups, drift.pick);
        if (!tg) break;
        state.targetGroups = state.targetGroups.filter((t) => t !== tg);
        state.listeners = state.listeners.filter((l) => l.targetGroupArn !== tg.arn);
        break;
      }
      case "deleteLoadBalancer":
        if (!lb) break;
        state.loadBalancers = state.loadBalancers.filter((l) => l !== lb);
        state.listeners = state.listeners.filter((l) => l.loadBalancerArn !== lb.arn);
        break;
    }
  }
  return state;
}

const DEFAULT_TCP_CHECK: HealthCheck = {
  protocol: "TCP",
  port: "traffic-port",
  intervalSeconds: 10,
  timeoutSeconds: 10,
  healthyThresholdCount: 3,
  unhealthyThresholdCount: 3,
};

// ---- Small helpers ----

function dropUndefined<T extends object>(record: T): Partial<T> {
  return Object.fromEntries(Object.entries(record).filter(([, v]) => v !== undefined)) as Partial<T>;
}

/** The same record with its keys in another order (a permutation given by `order`). */
export function reordered<T>(record: Record<string, T>, order: readonly number[]): Record<string, T> {
  const entries = Object.entries(record);
  const keyed = entries.map((entry, i) => ({ entry, rank: order[i % Math.max(1, order.length)] ?? i }));
  keyed.sort((a, b) => a.rank - b.rank);
  return Object.fromEntries(keyed.map(({ entry }) => entry));
}
