// Generated Services through parseAnnotations(), build() and lookalikeWarnings(): nothing throws,
// and every refusal is a list of InputProblems with a one-line message.
// Longer run: FC_NUM_RUNS=20000 node --test test/unit/model/build.property.test.ts
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import fc from "fast-check";
import { ANNOTATIONS } from "../../../src/model/annotations.ts";
import { build } from "../../../src/model/build.ts";
import { isSelected, lookalikeWarnings } from "../../../src/model/selection.ts";
import type { BuildConfig, EndpointSlice, Node, Service } from "../../../src/model/types.ts";

const SEED = 20240611;
const NUM_RUNS = Number(process.env.FC_NUM_RUNS ?? 300);

const config: BuildConfig = {
  clusterName: "prod",
  loadBalancerClass: "service.k8s.aws/nlb",
  defaultTargetType: "instance",
  defaultScheme: "internal",
};

const knownKeys = ANNOTATIONS.map((spec) => spec.key);
const examples = ANNOTATIONS.map((spec) => spec.example);

/** Values that are sometimes valid, sometimes subtly not, sometimes garbage. */
const annotationValue = fc.oneof(
  fc.constantFrom(
    ...examples,
    "",
    " ",
    "*",
    "0",
    "65536",
    "traffic-port",
    "true",
    "a=b,,c",
    "=",
    "aws:x=1",
    "/healthz",
  ),
  fc.integer({ min: -5, max: 70000 }).map(String),
  fc.string({ unit: "grapheme", maxLength: 40 }),
  fc.string({ unit: "binary", maxLength: 40 }),
  fc
    .array(fc.tuple(fc.string({ maxLength: 8 }), fc.string({ maxLength: 8 })), { maxLength: 6 })
    .map((pairs) => pairs.map(([k, v]) => `${k}=${v}`).join(",")),
  fc.nat({ max: 20_000 }).map((n) => "x".repeat(n)),
);

const annotationKey = fc.oneof(
  { weight: 4, arbitrary: fc.constantFrom(...knownKeys) },
  {
    weight: 1,
    arbitrary: fc
      .string({ maxLength: 30 })
      .map((suffix) => `service.beta.kubernetes.io/aws-load-balancer-${suffix}`),
  },
  { weight: 1, arbitrary: fc.string({ unit: "grapheme", maxLength: 30 }) },
);

const servicePort = fc.record(
  {
    name: fc.oneof(fc.constantFrom("http", "https", "dns", ""), fc.string({ maxLength: 10 })),
    protocol: fc.constantFrom("TCP", "UDP", "SCTP", "tcp", undefined),
    port: fc.oneof(
      fc.integer({ min: 1, max: 65535 }),
      fc.integer({ min: -10, max: 70000 }),
      fc.constant(Number.NaN),
    ),
    targetPort: fc.oneof(
      fc.integer({ min: 0, max: 70000 }),
      fc.constantFrom("http", "8080", ""),
      fc.string({ maxLength: 6 }),
    ),
    nodePort: fc.oneof(fc.integer({ min: 30000, max: 32767 }), fc.integer({ min: -1, max: 70000 })),
  },
  { requiredKeys: ["port"] },
);

const wildService = fc.record({
  metadata: fc.record(
    {
      name: fc.oneof(fc.constantFrom("web", "a"), fc.string({ unit: "grapheme", maxLength: 80 })),
      namespace: fc.oneof(fc.constantFrom("default", "shop"), fc.string({ unit: "grapheme", maxLength: 80 })),
      uid: fc.uuid(),
      annotations: fc.dictionary(annotationKey, annotationValue, { maxKeys: 12 }),
    },
    { requiredKeys: ["name"] },
  ),
  spec: fc.record(
    {
      type: fc.constantFrom("LoadBalancer", "NodePort", "ClusterIP"),
      loadBalancerClass: fc.constantFrom("service.k8s.aws/nlb", "metallb.io/metallb"),
      externalTrafficPolicy: fc.constantFrom("Cluster", "Local", "Weird"),
      healthCheckNodePort: fc.integer({ min: -1, max: 70000 }),
      ports: fc.array(servicePort, { maxLength: 60 }),
    },
    { requiredKeys: [] },
  ),
}) as fc.Arbitrary<Service>;

/** Mostly valid Services (unique TCP/UDP ports, allocated nodePorts, example annotation values), so build() succeeds often. */
const plausibleService: fc.Arbitrary<Service> = fc
  .record({
    name: fc.string({
      unit: fc.constantFrom(..."abcdefghijklmnopqrstuvwxyz0123456789-."),
      minLength: 1,
      maxLength: 63,
    }),
    namespace: fc.constantFrom("default", "shop", "kube-system", "a-very-long-namespace-name"),
    annotations: fc.dictionary(fc.constantFrom(...knownKeys), fc.constant(""), { maxKeys: 6 }),
    externalTrafficPolicy: fc.constantFrom("Cluster", "Local"),
    ports: fc.uniqueArray(
      fc.record({
        port: fc.integer({ min: 1, max: 65535 }),
        protocol: fc.constantFrom("TCP" as const, "UDP" as const),
        targetPort: fc.oneof(fc.integer({ min: 1, max: 65535 }), fc.constant("http")),
        nodePort: fc.integer({ min: 30000, max: 32767 }),
      }),
      { minLength: 1, maxLength: 8, selector: (p) => `${p.port}/${p.protocol}` },
    ),
  })
  .map(({ name, namespace, annotations, externalTrafficPolicy, ports }) => ({
    metadata: {
      name,
      namespace,
      annotations: Object.fromEntries(
        Object.keys(annotations).map((key) => [key, ANNOTATIONS.find((spec) => spec.key === key)!.example]),
      ),
    },
    spec: {
      type: "LoadBalancer",
      loadBalancerClass: "service.k8s.aws/nlb",
      externalTrafficPolicy,
      healthCheckNodePort: 32500,
      ports: ports.map((port, i) => ({ name: `p${i}`, ...port })),
    },
  }));

const serviceArbitrary = fc.oneof(wildService, plausibleService);

const nodeArbitrary: fc.Arbitrary<Node> = fc.record({
  metadata: fc.record({
    name: fc.string({ maxLength: 10 }),
    labels: fc.dictionary(
      fc.constantFrom(
        "pool",
        "node.kubernetes.io/exclude-from-external-load-balancers",
        "eks.amazonaws.com/compute-type",
      ),
      fc.constantFrom("edge", "fargate", ""),
    ),
  }),
  spec: fc.record({
    providerID: fc.oneof(
      fc
        .string({ unit: fc.constantFrom(..."0123456789abcdef"), minLength: 8, maxLength: 17 })
        .map((hex) => `aws:///us-west-2a/i-${hex}`),
      fc.string({ maxLength: 30 }),
    ),
  }),
  status: fc.record({
    conditions: fc.array(
      fc.record({ type: fc.constantFrom("Ready", "DiskPressure"), status: fc.constantFrom("True", "False") }),
      {
        maxLength: 2,
      },
    ),
  }),
});

const sliceArbitrary: fc.Arbitrary<EndpointSlice> = fc.record({
  metadata: fc.record({
    name: fc.string({ maxLength: 10 }),
    namespace: fc.constantFrom("shop", "default"),
    labels: fc.record({ "kubernetes.io/service-name": fc.constantFrom("web", "a", "other") }),
  }),
  addressType: fc.constantFrom("IPv4", "IPv6", "FQDN"),
  ports: fc.option(
    fc.array(
      fc.record({
        name: fc.constantFrom("http", "https", "dns", "", undefined),
        port: fc.integer({ min: -1, max: 70000 }),
      }),
      { maxLength: 3 },
    ),
  ),
  endpoints: fc.option(
    fc.array(
      fc.record({
        addresses: fc.array(fc.ipV4(), { minLength: 0, maxLength: 2 }),
        conditions: fc.record({ ready: fc.boolean(), terminating: fc.boolean() }, { requiredKeys: [] }),
      }),
      { maxLength: 5 },
    ),
  ),
});

describe("build() on generated input", () => {
  it("never throws; a refusal is a non-empty list of one-line InputProblems, a success is well formed", () => {
    fc.assert(
      fc.property(
        serviceArbitrary,
        fc.array(sliceArbitrary, { maxLength: 4 }),
        fc.array(nodeArbitrary, { maxLength: 4 }),
        (service, slices, nodes) => {
          isSelected(service, config.loadBalancerClass);
          for (const warning of lookalikeWarnings(service)) {
            assert.ok(warning.length > 0 && !warning.includes("\n"));
          }
          const result = build(service, slices, nodes, config);
          if (!result.ok) {
            assert.ok(result.problems.length > 0);
            for (const problem of result.problems) {
              assert.ok(problem.reason === "InvalidAnnotation" || problem.reason === "InvalidSpec");
              assert.ok(problem.message.length > 0 && !/[\r\n]/.test(problem.message), problem.message);
              assert.ok(problem.field.length > 0 && problem.allowed.length > 0);
              assert.ok(problem.message.startsWith(`service ${problem.object}: `));
            }
            return;
          }
          const { stack } = result;
          assert.ok(stack.loadBalancer.name.length >= 1 && stack.loadBalancer.name.length <= 32);
          assert.ok(stack.listeners.length >= 1 && stack.listeners.length <= 50);
          assert.equal(stack.listeners.length, stack.targetGroups.length);
          for (const tg of stack.targetGroups) {
            assert.ok(tg.name.length <= 32);
            assert.ok(Number.isInteger(tg.port) && tg.port >= 1 && tg.port <= 65535);
            assert.ok(tg.healthCheck.timeoutSeconds <= tg.healthCheck.intervalSeconds);
            assert.ok(Object.keys(tg.tags).length <= 50);
          }
          assert.deepEqual(JSON.parse(JSON.stringify(stack)), stack);
        },
      ),
      { seed: SEED, numRuns: NUM_RUNS },
    );
  });
});
