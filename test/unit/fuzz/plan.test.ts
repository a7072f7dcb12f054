// plan() on stacks built from generated Services, carried out by the pure ELBv2 simulator in
// arbitraries.ts: one plan converges from nothing, from an older version of the Service, from a
// run killed mid-apply and from drift; a converged stack plans nothing; deletes name only what
// exists; replacements name only what AWS cannot modify.
// Long run (20x): FC_NUM_RUNS=6000 node --test test/unit/fuzz/plan.test.ts   (FC_SEED=<n> for another seed)
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import fc from "fast-check";
import { annotationTable } from "../../../src/model/annotations.ts";
import { build } from "../../../src/model/build.ts";
import { RESOURCE_TAG } from "../../../src/model/tags.ts";
import type { ActualStack, DesiredStack, Service } from "../../../src/model/types.ts";
import type { Change, Plan } from "../../../src/plan/changes.ts";
import { plan, planDeletion } from "../../../src/plan/plan.ts";
import { convergedStack, desiredStack, targetGroup } from "../plan/fixtures.ts";
import {
  AwsRefusal,
  allArns,
  CONFIG,
  driftArbitrary,
  drifted,
  emptyStack,
  fuzzOptions,
  nodeArbitrary,
  plausibleServiceArbitrary,
  type Scenario,
  scenarioOf,
  simulateApply,
  slicesFor,
} from "./arbitraries.ts";

const SUBNETS = ["subnet-aaaa1111", "subnet-bbbb2222"];
const REPLACEMENT_FIELDS = new Set([
  "protocol",
  "port",
  "targetType",
  "ipAddressType",
  "scheme",
  "type",
  "name",
]);
const CREATIONS = new Set<Change["kind"]>([
  "createTargetGroup",
  "modifyTargetGroupAttributes",
  "registerTargets",
  "createLoadBalancer",
  "createListener",
  "setListenerCertificates",
]);
const DELETIONS = new Set<Change["kind"]>(["deleteLoadBalancer", "deleteListener", "deleteTargetGroup"]);

interface Built {
  desired: DesiredStack;
  explicitName: boolean;
}

/** The desired stack as the reconciler sees it, or undefined when build() refuses the Service. */
function built({ service, slices, nodes }: Scenario): Built | undefined {
  const result = build(service, slices, nodes, CONFIG);
  if (!result.ok) return undefined;
  return {
    desired: result.stack,
    explicitName: Boolean(service.metadata.annotations?.[annotationTable.name.key]),
  };
}

/** plan(), with the checks every plan must pass whatever the actual stack. */
function checkedPlan({ desired, explicitName }: Built, actual: ActualStack): Plan {
  const p = plan({ desired, actual, subnetIds: SUBNETS, explicitName });
  const known = new Set(allArns(actual));
  const deleted: string[] = [];
  for (const change of p.changes) {
    if ("arn" in change && change.arn !== "")
      assert.ok(
        known.has(change.arn),
        `${change.kind} names ${change.arn}, which is not in the actual stack`,
      );
    if (DELETIONS.has(change.kind) && "arn" in change) deleted.push(change.arn);
    if (change.kind === "updateTags")
      assert.ok(!change.remove.some((key) => /^aws:/i.test(key)), `removes AWS's own tags: ${change.remove}`);
  }
  assert.equal(new Set(deleted).size, deleted.length, "each resource is deleted once");
  for (const change of p.changes) {
    if ((change.kind === "createListener" || change.kind === "modifyListener") && "arn" in change.targetGroup)
      assert.ok(!deleted.includes(change.targetGroup.arn), "a listener forwards to a group the plan deletes");
  }
  for (const r of p.replacements) {
    assert.ok(REPLACEMENT_FIELDS.has(r.field), `replacement for ${r.field}`);
    assert.notEqual(r.from.toLowerCase(), r.to.toLowerCase(), `${r.resource}: ${r.field} did not change`);
    if (r.field === "name") assert.ok(explicitName, "a generated name never forces a replacement");
  }
  return p;
}

/** Plans and applies once; returns the stack AWS would then report. */
function reconcile(target: Built, actual: ActualStack): ActualStack {
  return simulateApply(actual, checkedPlan(target, actual).changes).actual;
}

/** Nothing left to do, and nothing left over: one NLB, one listener and one target group a port. */
function assertConverged({ desired, explicitName }: Built, actual: ActualStack): void {
  const again = plan({ desired, actual, subnetIds: SUBNETS, explicitName });
  assert.deepEqual(again.changes, [], "a converged stack plans no change");
  assert.deepEqual(again.replacements, []);
  assert.equal(actual.loadBalancers.length, 1, "exactly one NLB");
  const lb = actual.loadBalancers[0]!;
  if (explicitName) assert.equal(lb.name, desired.loadBalancer.name);
  assert.equal(lb.scheme, desired.loadBalancer.scheme);
  assert.equal(actual.targetGroups.length, desired.targetGroups.length, "no leaked target group");
  assert.equal(actual.listeners.length, desired.listeners.length, "no leaked listener");
  for (const spec of desired.listeners) {
    const listener = actual.listeners.find((l) => l.port === spec.port);
    assert.ok(listener, `listener ${spec.port} exists`);
    assert.equal(listener.loadBalancerArn, lb.arn);
    assert.equal(listener.protocol, spec.protocol);
    const tg = actual.targetGroups.find((t) => t.arn === listener.targetGroupArn);
    assert.equal(tg?.tags[RESOURCE_TAG], spec.targetGroup, `listener ${spec.port} forwards to its own group`);
  }
}

const scenario = scenarioOf(plausibleServiceArbitrary());

/**
 * Two versions of one Service (same namespace, name and uid), each with its own Nodes and
 * endpoints: unrelated, or the second keeping some annotations and ports of the first (the usual
 * edit, where most of the stack stays and a few things change).
 */
const twoVersions = fc
  .record({
    name: fc.constantFrom("web", "api-gateway"),
    namespace: fc.constantFrom("shop", "default"),
    uid: fc.uuid(),
  })
  .chain((metadata) =>
    fc.tuple(
      scenarioOf(plausibleServiceArbitrary({ metadata })),
      scenarioOf(plausibleServiceArbitrary({ metadata })),
      fc.boolean(),
      fc.infiniteStream(fc.boolean()),
    ),
  )
  .map(([before, other, related, coin]): [Scenario, Scenario] => {
    if (!related) return [before, other];
    const pick = <T>(items: T[]) => items.filter(() => coin.next().value);
    const service = structuredClone(before.service);
    const annotations = Object.entries({
      ...before.service.metadata.annotations,
      ...other.service.metadata.annotations,
    });
    service.metadata.annotations = Object.fromEntries(pick(annotations));
    const ports = [...pick(before.service.spec.ports ?? []), ...pick(other.service.spec.ports ?? [])];
    service.spec.ports = ports.filter(
      (port, i) => ports.findIndex((p) => p.port === port.port && p.protocol === port.protocol) === i,
    );
    if (coin.next().value) service.spec.externalTrafficPolicy = other.service.spec.externalTrafficPolicy;
    return [before, { ...other, service }];
  });

describe("plan() on generated stacks (fuzz)", () => {
  it("from nothing: only creations, and one apply converges with every target registered", () => {
    fc.assert(
      fc.property(scenario, (input) => {
        const target = built(input);
        fc.pre(target !== undefined);
        const p = checkedPlan(target, emptyStack());
        assert.deepEqual(p.replacements, []);
        for (const change of p.changes) assert.ok(CREATIONS.has(change.kind), change.kind);
        const count = (kind: Change["kind"]) => p.changes.filter((c) => c.kind === kind).length;
        assert.equal(count("createLoadBalancer"), 1);
        assert.equal(count("createTargetGroup"), target.desired.targetGroups.length);
        assert.equal(count("createListener"), target.desired.listeners.length);

        const { actual, registered } = simulateApply(emptyStack(), p.changes);
        assertConverged(target, actual);
        for (const spec of target.desired.targetGroups) {
          const tg = actual.targetGroups.find((t) => t.tags[RESOURCE_TAG] === spec.id)!;
          assert.deepEqual(registered.get(tg.arn) ?? [], spec.targets);
        }
      }),
      fuzzOptions(150),
    );
  });

  it("from any earlier version of the Service: one plan converges", () => {
    fc.assert(
      fc.property(twoVersions, ([before, after]) => {
        const older = built(before);
        const newer = built(after);
        fc.pre(older !== undefined && newer !== undefined);
        const actual = reconcile(older, emptyStack());
        assertConverged(newer, reconcile(newer, actual));
      }),
      fuzzOptions(200),
    );
  });

  it("killed at any change of an apply, the next reconcile converges with no duplicate and no leak", () => {
    fc.assert(
      fc.property(twoVersions, fc.nat(), fc.boolean(), ([before, after], cut, rollBack) => {
        const older = built(before);
        const newer = built(after);
        fc.pre(older !== undefined && newer !== undefined);
        const start = reconcile(older, emptyStack());
        const interrupted = checkedPlan(newer, start).changes;
        const halfway = simulateApply(start, interrupted, cut % (interrupted.length + 1)).actual;
        const target = rollBack ? older : newer;
        assertConverged(target, reconcile(target, halfway));
      }),
      fuzzOptions(200),
    );
  });

  it("repairs drift (edited health checks, attributes, tags, listeners; stale or duplicate resources) in one plan", () => {
    fc.assert(
      fc.property(scenario, fc.array(driftArbitrary, { minLength: 1, maxLength: 5 }), (input, drifts) => {
        const target = built(input);
        fc.pre(target !== undefined);
        const converged = reconcile(target, emptyStack());
        const actual = drifted(converged, drifts, target.desired.service);
        const repaired = reconcile(target, actual);
        assertConverged(target, repaired);
        const awsTags = (stack: ActualStack) =>
          [...stack.loadBalancers, ...stack.targetGroups].flatMap((r) =>
            Object.keys(r.tags)
              .filter((key) => key.startsWith("aws:"))
              .map((key) => `${r.arn} ${key}`),
          );
        const kept = new Set(awsTags(repaired));
        for (const tag of awsTags(actual))
          if (allArns(repaired).includes(tag.split(" ")[0]!)) assert.ok(kept.has(tag), `${tag} was removed`);
      }),
      fuzzOptions(200),
    );
  });

  it("an externalTrafficPolicy flip or Node and endpoint churn changes health checks in place, nothing else", () => {
    const churned = scenario.chain((input) =>
      fc.record({
        before: fc.constant(input),
        after: fc.record({
          service: fc.constant(flipPolicy(input.service)),
          slices: slicesFor(input.service),
          nodes: fc.array(nodeArbitrary, { maxLength: 5 }),
        }),
      }),
    );
    fc.assert(
      fc.property(churned, ({ before, after }) => {
        const older = built(before);
        const newer = built(after);
        fc.pre(older !== undefined && newer !== undefined);
        const p = checkedPlan(newer, reconcile(older, emptyStack()));
        assert.deepEqual(p.replacements, []);
        for (const change of p.changes) assert.equal(change.kind, "modifyTargetGroupHealthCheck");
      }),
      fuzzOptions(150),
    );
  });

  it("planDeletion() removes every resource of any converged or drifted stack, in an order AWS accepts", () => {
    fc.assert(
      fc.property(scenario, fc.array(driftArbitrary, { maxLength: 4 }), (input, drifts) => {
        const target = built(input);
        fc.pre(target !== undefined);
        const actual = drifted(reconcile(target, emptyStack()), drifts, target.desired.service);
        const gone = simulateApply(actual, planDeletion(actual).changes).actual;
        assert.deepEqual(gone, emptyStack());
      }),
      fuzzOptions(150),
    );
  });
});

// The checks above are only as strict as the simulator: it must refuse what AWS refuses.
describe("simulateApply(), the ELBv2 the plan properties run against", () => {
  const stack = convergedStack([80, 443]);
  const refused = (changes: Change[]) => assert.throws(() => simulateApply(stack, changes), AwsRefusal);

  it("refuses deleting a target group a listener forwards to", () => {
    refused([{ kind: "deleteTargetGroup", arn: "arn:tg/80", id: "shop/web:80", name: "x" }]);
  });

  it("refuses a duplicate target group name, listener port or NLB name", () => {
    refused([{ kind: "createTargetGroup", spec: targetGroup(80) }]);
    refused([
      {
        kind: "createListener",
        spec: desiredStack([80]).listeners[0]!,
        targetGroup: { arn: "arn:tg/443" },
        tags: {},
      },
    ]);
    refused([
      {
        kind: "createLoadBalancer",
        spec: desiredStack().loadBalancer,
        subnetMappings: SUBNETS.map((subnetId) => ({ subnetId })),
      },
    ]);
  });

  it("refuses unknown ARNs, groups used before they exist, and listeners that do not fit their group", () => {
    refused([{ kind: "deleteListener", arn: "arn:listener/8080", port: 8080 }]);
    refused([
      { kind: "registerTargets", targetGroup: { id: "shop/web:81" }, id: "shop/web:81", targets: [] },
    ]);
    refused([
      { kind: "createTargetGroup", spec: targetGroup(81, { protocol: "UDP", name: "k8s-udp" }) },
      {
        kind: "modifyListener",
        arn: "arn:listener/80",
        spec: { port: 80, protocol: "TCP", targetGroup: "shop/web:81" },
        targetGroup: { id: "shop/web:81" },
        fields: ["defaultAction"],
      },
    ]);
  });

  it("carries out a valid plan: listeners go with their NLB, then the groups can go", () => {
    const { actual } = simulateApply(stack, planDeletion(stack).changes);
    assert.deepEqual(actual, emptyStack());
  });
});

function flipPolicy(service: Service): Service {
  const flipped = structuredClone(service);
  flipped.spec.externalTrafficPolicy = service.spec.externalTrafficPolicy === "Local" ? "Cluster" : "Local";
  return flipped;
}
