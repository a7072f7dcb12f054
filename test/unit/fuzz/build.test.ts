// build() on generated Services, EndpointSlices and Nodes: total (never throws), and every answer
// is either a stack that AWS would accept or a list of well-formed InputProblems.
// Long run (20x): FC_NUM_RUNS=6000 node --test test/unit/fuzz/build.test.ts   (FC_SEED=<n> for another seed)
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import fc from "fast-check";
import { ANNOTATIONS } from "../../../src/model/annotations.ts";
import { LOAD_BALANCER_ATTRIBUTES, TARGET_GROUP_ATTRIBUTES } from "../../../src/model/attributes.ts";
import { build } from "../../../src/model/build.ts";
import { isSelected, lookalikeWarnings } from "../../../src/model/selection.ts";
import type {
  BuildConfig,
  DesiredStack,
  EndpointSlice,
  InputProblem,
  Node,
  Service,
} from "../../../src/model/types.ts";
import {
  CONFIG,
  configArbitrary,
  fuzzOptions,
  LINE_BREAKS,
  manifestOnlyName,
  nodeArbitrary,
  plausibleServiceArbitrary,
  type Scenario,
  scenarioOf,
  wildServiceArbitrary,
} from "./arbitraries.ts";

const AWS_NAME = /^[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?$/;
const TAG_CHARACTERS = /^[\p{L}\p{Z}\p{N}_.:/=+\-@]*$/u;
/** Line breaks, Unicode's too (NEL, LINE and PARAGRAPH SEPARATOR): a message stays one line in logs, events, conditions. */
const LINE_BREAK = /[\n\v\f\r\u0085\u2028\u2029]/;
const SERVICE_NAME = /^[a-z]([-a-z0-9]{0,61}[a-z0-9])?$/;
const NAMESPACE_NAME = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/;
const INSTANCE_ID = /^i-[0-9a-f]{8,17}$/;
const HTTP_CODES = /^\d{3}(-\d{3})?(,\d{3}(-\d{3})?)*$/;

const chars = (text: string) => [...text].length;
const stackIdOf = (service: Service) => `${service.metadata.namespace || "default"}/${service.metadata.name}`;

function assertTags(tags: Record<string, string>, where: string): void {
  const entries = Object.entries(tags);
  assert.ok(entries.length <= 50, `${where}: ${entries.length} tags`);
  for (const [key, value] of entries) {
    assert.ok(chars(key) >= 1 && chars(key) <= 128, `${where}: tag key length ${chars(key)}`);
    assert.ok(chars(value) <= 256, `${where}: tag ${key} value length ${chars(value)}`);
    assert.ok(!/^aws:/i.test(key), `${where}: reserved tag key ${key}`);
    assert.ok(TAG_CHARACTERS.test(key), `${where}: tag key ${JSON.stringify(key)}`);
    assert.ok(TAG_CHARACTERS.test(value), `${where}: tag ${key} value ${JSON.stringify(value)}`);
  }
}

function assertAwsName(name: string, where: string): void {
  assert.ok(name.length >= 1 && name.length <= 32, `${where}: name ${name} has ${name.length} characters`);
  assert.ok(AWS_NAME.test(name), `${where}: name ${JSON.stringify(name)}`);
}

/** Everything AWS and the rest of the controller rely on in a DesiredStack. */
function assertWellFormedStack(stack: DesiredStack, input: Scenario, config: BuildConfig): void {
  const { service } = input;
  const stackId = stackIdOf(service);
  assert.equal(stack.service, stackId);

  const lb = stack.loadBalancer;
  assertAwsName(lb.name, "load balancer");
  assert.ok(!/^internal-/i.test(lb.name), lb.name);
  assert.equal(lb.type, "network");
  assert.ok(["internal", "internet-facing"].includes(lb.scheme));
  assert.ok(["ipv4", "dualstack"].includes(lb.ipAddressType));
  for (const key of Object.keys(lb.attributes)) assert.ok(Object.hasOwn(LOAD_BALANCER_ATTRIBUTES, key), key);
  assertTags(lb.tags, "load balancer");
  assert.equal(lb.tags["elbv2.k8s.aws/cluster"], config.clusterName);
  assert.equal(lb.tags["service.k8s.aws/stack"], stackId);
  assert.equal(lb.tags["service.k8s.aws/resource"], "LoadBalancer");
  for (const [key, value] of Object.entries(config.defaultTags ?? {})) assert.equal(lb.tags[key], value);

  assert.ok(
    stack.listeners.length >= 1 && stack.listeners.length <= 50,
    `${stack.listeners.length} listeners`,
  );
  assert.equal(stack.listeners.length, stack.targetGroups.length);
  const ids = new Set(stack.targetGroups.map((tg) => tg.id));
  assert.equal(ids.size, stack.targetGroups.length, "target group ids are unique");
  assert.equal(
    new Set(stack.targetGroups.map((tg) => tg.name)).size,
    ids.size,
    "target group names are unique",
  );
  assert.equal(
    new Set(stack.listeners.map((l) => l.port)).size,
    stack.listeners.length,
    "one listener a port",
  );

  const ports = Array.isArray(service.spec.ports) ? service.spec.ports : [];
  for (const listener of stack.listeners) {
    assert.ok(ids.has(listener.targetGroup), `listener ${listener.port} -> ${listener.targetGroup}`);
    const tg = stack.targetGroups.find((t) => t.id === listener.targetGroup)!;
    assert.equal(tg.id, `${stackId}:${listener.port}`);
    const protocols = new Set(ports.filter((p) => p.port === listener.port).map((p) => p.protocol ?? "TCP"));
    const expected = protocols.size === 2 ? "TCP_UDP" : [...protocols][0];
    if (listener.protocol === "TLS") {
      // ssl-cert terminates TLS on TCP ports only; the group is TLS with backend-protocol ssl, else TCP.
      assert.equal(expected, "TCP", `TLS listener ${listener.port} on a TCP port`);
      assert.ok(listener.certificates?.length, `TLS listener ${listener.port} has a certificate`);
      assert.ok(
        tg.protocol === "TLS" || tg.protocol === "TCP",
        `target group of TLS listener ${listener.port}`,
      );
    } else {
      assert.equal(tg.protocol, listener.protocol);
      assert.equal(listener.protocol, expected, `listener ${listener.port}`);
    }
  }

  const nodeTargets = new Set(input.nodes.map((n) => n.spec?.providerID?.split("/").pop()));
  for (const tg of stack.targetGroups) {
    const where = `target group ${tg.id}`;
    assertAwsName(tg.name, where);
    assert.ok(Number.isInteger(tg.port) && tg.port >= 1 && tg.port <= 65535, `${where}: port ${tg.port}`);
    assert.ok(["instance", "ip"].includes(tg.targetType));
    for (const key of Object.keys(tg.attributes)) assert.ok(Object.hasOwn(TARGET_GROUP_ATTRIBUTES, key), key);
    assert.ok(["true", "false"].includes(tg.attributes["proxy_protocol_v2.enabled"] ?? ""), where);

    const hc = tg.healthCheck;
    assert.ok(
      hc.intervalSeconds >= 5 && hc.intervalSeconds <= 300,
      `${where}: interval ${hc.intervalSeconds}`,
    );
    assert.ok(hc.timeoutSeconds >= 2 && hc.timeoutSeconds <= 120, `${where}: timeout ${hc.timeoutSeconds}`);
    assert.ok(hc.timeoutSeconds <= hc.intervalSeconds, `${where}: timeout above interval`);
    for (const count of [hc.healthyThresholdCount, hc.unhealthyThresholdCount])
      assert.ok(Number.isInteger(count) && count >= 2 && count <= 10, `${where}: threshold ${count}`);
    assert.ok(
      hc.port === "traffic-port" || (Number.isInteger(hc.port) && hc.port >= 1 && hc.port <= 65535),
      `${where}: health check port ${hc.port}`,
    );
    if (hc.protocol === "TCP") {
      assert.equal(hc.path, undefined, `${where}: a TCP health check has no path`);
      assert.equal(hc.matcher, undefined, `${where}: a TCP health check has no matcher`);
    } else {
      assert.ok(["HTTP", "HTTPS"].includes(hc.protocol));
      assert.ok(hc.path?.startsWith("/") && hc.path.length <= 1024, `${where}: path ${hc.path}`);
      assert.match(hc.matcher?.httpCode ?? "", HTTP_CODES);
    }

    assertTags(tg.tags, where);
    assert.equal(tg.tags["elbv2.k8s.aws/cluster"], config.clusterName);
    assert.equal(tg.tags["service.k8s.aws/stack"], stackId);
    assert.equal(tg.tags["service.k8s.aws/resource"], tg.id);

    for (let i = 0; i < tg.targets.length; i++) {
      const target = tg.targets[i]!;
      assert.ok(Number.isInteger(target.port) && target.port >= 1 && target.port <= 65535);
      const previous = tg.targets[i - 1];
      if (previous) {
        const order =
          previous.id < target.id ? -1 : previous.id > target.id ? 1 : previous.port - target.port;
        assert.ok(
          order < 0,
          `${where}: targets sorted and unique (${previous.id}:${previous.port}, ${target.id}:${target.port})`,
        );
      }
      if (tg.targetType === "instance") {
        assert.match(target.id, INSTANCE_ID);
        assert.equal(target.port, tg.port);
        assert.ok(nodeTargets.has(target.id), `${where}: ${target.id} is no node's instance`);
      } else {
        assert.ok(endpointAddresses(input).has(target.id), `${where}: ${target.id} is no ready endpoint`);
      }
    }
  }
  assert.deepEqual(JSON.parse(JSON.stringify(stack)), stack, "the stack is plain JSON");
}

function endpointAddresses({ service, slices }: Scenario): Set<string | undefined> {
  const own = slices.filter(
    (s) =>
      (s.metadata.namespace || "default") === (service.metadata.namespace || "default") &&
      s.metadata.labels?.["kubernetes.io/service-name"] === service.metadata.name,
  );
  return new Set(
    own.flatMap((s) =>
      (s.endpoints ?? [])
        .filter((e) => e.conditions?.ready !== false && e.conditions?.terminating !== true)
        .map((e) => e.addresses[0]),
    ),
  );
}

function assertWellFormedProblems(problems: InputProblem[], service: Service): void {
  assert.ok(problems.length >= 1, "a refusal names at least one problem");
  const stackId = stackIdOf(service);
  const annotations = service.metadata.annotations ?? {};
  for (const problem of problems) {
    assert.equal(problem.object, stackId);
    assert.ok(problem.object.length > 0 && problem.field.length > 0 && problem.allowed.length > 0);
    assert.ok(problem.message.length > 0);
    assert.ok(!LINE_BREAK.test(problem.message), `message is one line: ${JSON.stringify(problem.message)}`);
    assert.ok(!LINE_BREAK.test(problem.allowed), `allowed is one line: ${JSON.stringify(problem.allowed)}`);
    // The object is shown on one line too, so a name holding a line break is not repeated verbatim.
    assert.ok(problem.message.startsWith("service "), problem.message);
    assert.ok(problem.message.includes(`: ${problem.field}: `), problem.message);
    assert.ok(chars(problem.value) <= 256, `value is cut short: ${chars(problem.value)} characters`);
    if (problem.reason === "InvalidAnnotation") {
      const key = problem.field.replace(/^annotation /, "");
      assert.ok(Object.hasOwn(annotations, key), `problem names an annotation the Service has: ${key}`);
    } else {
      assert.equal(problem.reason, "InvalidSpec");
      assert.match(problem.field, /^(spec|metadata)\./);
    }
  }
}

/** Where a hand-written manifest can put a value of the wrong type (readManifests checks name and namespace). */
const CHAOS_PATHS = [
  "spec",
  "spec.ports",
  "spec.ports.0",
  "spec.ports.0.port",
  "spec.ports.0.protocol",
  "spec.ports.0.targetPort",
  "spec.ports.0.nodePort",
  "spec.ports.0.name",
  "spec.ports.1",
  "spec.type",
  "spec.externalTrafficPolicy",
  "spec.healthCheckNodePort",
  "spec.loadBalancerClass",
  "metadata.annotations",
  "metadata.uid",
  ...ANNOTATIONS.map((spec) => `metadata.annotations.${spec.key}`),
];

/** Sets a dotted path (annotation keys keep their dots and slashes: the rest of the path is one key). */
function setAt(target: object, path: string, value: unknown): void {
  const annotation = /^metadata\.annotations\.(.+)$/.exec(path);
  const keys = annotation ? ["metadata", "annotations", annotation[1]!] : path.split(".");
  let node = target as Record<string, unknown>;
  for (const key of keys.slice(0, -1)) {
    const next = node[key];
    if (typeof next !== "object" || next === null) return;
    node = next as Record<string, unknown>;
  }
  node[keys.at(-1)!] = value;
}

const anyScenario = scenarioOf(fc.oneof(wildServiceArbitrary(), plausibleServiceArbitrary()));

describe("build() on generated input (fuzz)", () => {
  it("never throws: a stack AWS accepts, or one-line InputProblems", () => {
    let accepted = 0;
    fc.assert(
      fc.property(anyScenario, configArbitrary, (input, config) => {
        isSelected(input.service, config.loadBalancerClass);
        for (const warning of lookalikeWarnings(input.service)) assert.ok(!/[\r\n]/.test(warning), warning);
        const result = build(input.service, input.slices, input.nodes, config);
        if (result.ok) {
          accepted++;
          assertWellFormedStack(result.stack, input, config);
        } else assertWellFormedProblems(result.problems, input.service);
      }),
      fuzzOptions(400),
    );
    assert.ok(accepted > 0, "some generated Services are accepted, so the stack checks ran");
  });

  it("refuses names only a manifest file can carry (plan -f), which would break AWS's tag rules", () => {
    fc.assert(
      fc.property(scenarioOf(wildServiceArbitrary(manifestOnlyName)), (input) => {
        const result = build(input.service, input.slices, input.nodes, CONFIG);
        if (!result.ok) return assertWellFormedProblems(result.problems, input.service);
        const { name, namespace = "default" } = input.service.metadata;
        assert.ok(SERVICE_NAME.test(name) && NAMESPACE_NAME.test(namespace), `accepted ${namespace}/${name}`);
        assertWellFormedStack(result.stack, input, CONFIG);
      }),
      fuzzOptions(200),
    );
  });

  it("keeps lookalike warnings on one line for Unicode line breaks in annotation values", () => {
    // Values that trim() to a selecting word, so the "compared exactly" warning quotes them.
    const wrapped = (words: string[]) =>
      fc
        .tuple(
          fc.constantFrom("", ...LINE_BREAKS),
          fc.constantFrom(...words),
          fc.constantFrom("", ...LINE_BREAKS),
        )
        .map(([before, word, after]) => `${before}${word}${after}`);
    const selecting = fc
      .record({
        type: wrapped(["external", "nlb-ip", "nlb", "External"]),
        targetType: wrapped(["ip", "instance"]),
      })
      .map(
        ({ type, targetType }): Service => ({
          metadata: {
            name: "web",
            namespace: "shop",
            annotations: {
              "service.beta.kubernetes.io/aws-load-balancer-type": type,
              "service.beta.kubernetes.io/aws-load-balancer-nlb-target-type": targetType,
            },
          },
          spec: { type: "LoadBalancer", ports: [{ port: 80, nodePort: 30080 }] },
        }),
      );
    fc.assert(
      fc.property(
        fc.oneof(
          selecting,
          anyScenario.map((input) => input.service),
        ),
        (service) => {
          for (const warning of lookalikeWarnings(service))
            assert.ok(!LINE_BREAK.test(warning), JSON.stringify(warning));
        },
      ),
      fuzzOptions(300),
    );
  });

  it("refuses a Service exactly when an annotation fails its own parser or the spec is wrong", () => {
    const byKey = new Map(ANNOTATIONS.map((spec) => [spec.key, spec]));
    fc.assert(
      fc.property(anyScenario, ({ service, slices, nodes }) => {
        const result = build(service, slices, nodes, CONFIG);
        const failing = Object.entries(service.metadata.annotations ?? {})
          .filter(([key, value]) => byKey.get(key)?.parse(value).ok === false)
          .map(([key]) => `annotation ${key}`);
        if (failing.length > 0) {
          assert.ok(!result.ok, `accepted despite ${failing.join(", ")}`);
          const named = new Set(result.problems.map((p) => p.field));
          for (const field of failing) assert.ok(named.has(field), `no problem names ${field}`);
        }
        if (!result.ok) {
          const unparsable = result.problems.filter(
            (p) => p.reason === "InvalidAnnotation" && !failing.includes(p.field),
          );
          // An annotation that parses may still be refused in context (a port name the Service
          // lacks, a timeout above the interval, too many tags); those name their own annotation.
          for (const problem of unparsable) assert.ok(byKey.has(problem.field.replace(/^annotation /, "")));
        }
      }),
      fuzzOptions(300),
    );
  });

  const chaosProperty = (values: fc.Arbitrary<unknown>) =>
    fc.property(
      scenarioOf(plausibleServiceArbitrary()),
      fc.array(fc.tuple(fc.constantFrom(...CHAOS_PATHS), values), { minLength: 1, maxLength: 3 }),
      ({ service, slices, nodes }, patches) => {
        const patched = structuredClone(service);
        for (const [path, value] of patches) setAt(patched, path, value);
        const result = build(patched, slices, nodes, CONFIG);
        if (!result.ok) for (const problem of result.problems) assert.ok(!LINE_BREAK.test(problem.message));
      },
    );

  it("never throws on a Service whose fields hold any JSON value (a manifest read by plan -f)", () => {
    fc.assert(chaosProperty(fc.jsonValue({ maxDepth: 2 })), fuzzOptions(300));
  });

  it("never throws on a manifest field holding an object whose toString is not a function", () => {
    fc.assert(
      chaosProperty(fc.constantFrom<unknown>({ toString: 1 }, { valueOf: null, toString: "x" })),
      fuzzOptions(100),
    );
  });

  it("never throws on Nodes and EndpointSlices alone, whatever their shape", () => {
    const service = (ip: boolean): Service => ({
      metadata: {
        name: "web",
        namespace: "shop",
        annotations: ip ? { "service.beta.kubernetes.io/aws-load-balancer-nlb-target-type": "ip" } : {},
      },
      spec: {
        type: "LoadBalancer",
        ports: [
          { name: "http", port: 80, protocol: "TCP", targetPort: "http", nodePort: 30080 },
          { name: "dns", port: 53, protocol: "UDP", targetPort: 53, nodePort: 30053 },
        ],
      },
    });
    const junk = fc.jsonValue({ maxDepth: 2 });
    fc.assert(
      fc.property(
        fc.boolean(),
        fc.array(fc.oneof(nodeArbitrary, junk as fc.Arbitrary<unknown> as fc.Arbitrary<Node>), {
          maxLength: 4,
        }),
        fc.array(
          fc.oneof(
            scenarioOf(fc.constant(service(true))).map((s) => s.slices[0]),
            junk,
            fc.record({
              metadata: fc.constant({
                name: "s",
                namespace: "shop",
                labels: { "kubernetes.io/service-name": "web" },
              }),
              addressType: fc.constant("IPv4"),
              ports: junk,
              endpoints: fc.oneof(junk, fc.array(junk, { maxLength: 3 })),
            }),
          ) as fc.Arbitrary<unknown> as fc.Arbitrary<EndpointSlice>,
          { maxLength: 4 },
        ),
        (ip, nodes, slices) => {
          const result = build(service(ip), slices.filter(Boolean), nodes, CONFIG);
          assert.ok(result.ok, "the Service itself is valid");
          for (const tg of result.stack.targetGroups)
            for (const t of tg.targets) assert.ok(typeof t.id === "string" && t.id !== "");
        },
      ),
      fuzzOptions(300),
    );
  });
});
