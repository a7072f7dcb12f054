// build() and plan() are functions: the same input gives the same output, byte for byte, whatever
// the order of annotation keys, Nodes, EndpointSlices or service ports, and the input is left as it was.
// Long run (20x): FC_NUM_RUNS=6000 node --test test/unit/fuzz/determinism.test.ts   (FC_SEED=<n> for another seed)
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import fc from "fast-check";
import { build } from "../../../src/model/build.ts";
import { plan } from "../../../src/plan/plan.ts";
import type { Scenario } from "./arbitraries.ts";
import {
  CONFIG,
  configArbitrary,
  emptyStack,
  fuzzOptions,
  plausibleServiceArbitrary,
  reordered,
  scenarioOf,
  simulateApply,
  wildServiceArbitrary,
} from "./arbitraries.ts";

const anyScenario = scenarioOf(fc.oneof(wildServiceArbitrary(), plausibleServiceArbitrary()));

const buildOf = ({ service, slices, nodes }: Scenario, config = CONFIG) =>
  build(service, slices, nodes, config);

/** Deep-equal and the same JSON text (field order included), as `plan -o json` prints it. */
function assertSame(a: unknown, b: unknown, what: string): void {
  assert.deepEqual(a, b, what);
  assert.equal(JSON.stringify(a), JSON.stringify(b), `${what}: same JSON text`);
}

/** A permutation of `items` drawn from `ranks` (a stable sort by rank). */
function permuted<T>(items: readonly T[], ranks: readonly number[]): T[] {
  return items
    .map((item, i) => ({ item, rank: ranks[i] ?? i }))
    .sort((a, b) => a.rank - b.rank)
    .map(({ item }) => item);
}

const ranks = fc.array(fc.integer(), { maxLength: 70 });

describe("determinism of build() and plan() (fuzz)", () => {
  it("build() twice on the same input gives the same output and leaves the input untouched", () => {
    fc.assert(
      fc.property(anyScenario, configArbitrary, (input, config) => {
        const copy = structuredClone(input);
        const first = buildOf(input, config);
        assert.deepEqual(structuredClone(input), copy, "build() does not modify its input");
        assertSame(buildOf(input, config), first, "second build");
        assertSame(buildOf(copy, config), first, "build of a copy");
      }),
      fuzzOptions(300),
    );
  });

  it("annotation key order does not matter", () => {
    fc.assert(
      fc.property(anyScenario, ranks, (input, order) => {
        const shuffled = structuredClone(input);
        shuffled.service.metadata.annotations = reordered(input.service.metadata.annotations ?? {}, order);
        assertSame(buildOf(shuffled), buildOf(input), "build with annotations reordered");
      }),
      fuzzOptions(300),
    );
  });

  it("the order of Nodes and EndpointSlices (and of endpoints in a slice) does not matter", () => {
    fc.assert(
      fc.property(anyScenario, ranks, ranks, ranks, (input, nodeOrder, sliceOrder, endpointOrder) => {
        const shuffled: Scenario = {
          service: input.service,
          nodes: permuted(input.nodes, nodeOrder),
          slices: permuted(input.slices, sliceOrder).map((slice) => ({
            ...slice,
            endpoints: slice.endpoints ? permuted(slice.endpoints, endpointOrder) : slice.endpoints,
          })),
        };
        assertSame(buildOf(shuffled), buildOf(input), "build with Nodes and slices reordered");
      }),
      fuzzOptions(300),
    );
  });

  it("the order of service ports does not change the stack (ports named uniquely, as Kubernetes requires)", () => {
    fc.assert(
      fc.property(scenarioOf(plausibleServiceArbitrary()), ranks, (input, order) => {
        const shuffled = structuredClone(input);
        shuffled.service.spec.ports = permuted(input.service.spec.ports ?? [], order);
        const a = buildOf(input);
        const b = buildOf(shuffled);
        assert.equal(b.ok, a.ok, "accepted or refused alike");
        if (a.ok && b.ok) assertSame(b.stack, a.stack, "stack with ports reordered");
      }),
      fuzzOptions(300),
    );
  });

  it("plan() twice gives the same plan, and leaves desired and actual untouched", () => {
    fc.assert(
      fc.property(
        scenarioOf(plausibleServiceArbitrary()),
        scenarioOf(plausibleServiceArbitrary()),
        (a, b) => {
          const older = buildOf(a);
          const newer = buildOf(b);
          fc.pre(older.ok && newer.ok);
          const actual = simulateApply(
            emptyStack(),
            plan({
              desired: older.stack,
              actual: emptyStack(),
              subnetIds: ["subnet-aaaa1111"],
              explicitName: false,
            }).changes,
          ).actual;
          const input = { desired: newer.stack, actual, subnetIds: ["subnet-aaaa1111"], explicitName: true };
          const copy = structuredClone(input);
          const first = plan(input);
          assert.deepEqual(structuredClone(input), copy, "plan() does not modify its input");
          assertSame(plan(copy), first, "second plan");
        },
      ),
      fuzzOptions(150),
    );
  });
});
