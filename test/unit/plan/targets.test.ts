import assert from "node:assert/strict";
import { describe, it } from "node:test";
import fc from "fast-check";
import { batches, MAX_TARGETS_PER_CALL, planTargets } from "../../../src/plan/targets.ts";

describe("planTargets()", () => {
  it("registers the new and deregisters the gone, keyed by id and port", () => {
    const out = planTargets(
      [
        { id: "10.0.0.1", port: 80 },
        { id: "10.0.0.2", port: 80 },
      ],
      [
        { id: "10.0.0.1", port: 80 },
        { id: "10.0.0.1", port: 81 },
      ],
    );
    assert.deepEqual(out.register, [{ id: "10.0.0.2", port: 80 }]);
    assert.deepEqual(out.deregister, [{ id: "10.0.0.1", port: 81 }]);
  });

  it("applying the changes always yields the desired set (property)", () => {
    const target = fc.record({
      id: fc.constantFrom("a", "b", "c", "d"),
      port: fc.integer({ min: 1, max: 3 }),
    });
    fc.assert(
      fc.property(fc.array(target), fc.array(target), (desired, actual) => {
        const { register, deregister } = planTargets(desired, actual);
        const k = (t: { id: string; port: number }) => `${t.id}:${t.port}`;
        const result = new Set(actual.map(k));
        for (const t of register) result.add(k(t));
        for (const t of deregister) result.delete(k(t));
        assert.deepEqual([...result].sort(), [...new Set(desired.map(k))].sort());
      }),
      { seed: 42, numRuns: 200 },
    );
  });
});

describe("batches()", () => {
  it("splits into calls of at most 200", () => {
    const sizes = batches(Array.from({ length: 450 }, (_, i) => i)).map((b) => b.length);
    assert.deepEqual(sizes, [MAX_TARGETS_PER_CALL, MAX_TARGETS_PER_CALL, 50]);
    assert.deepEqual(batches([]), []);
  });
});
