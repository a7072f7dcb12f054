import assert from "node:assert/strict";
import { describe, it } from "node:test";
import fc from "fast-check";
import { batches, MAX_TARGETS_PER_CALL, planSharedTargets, planTargets } from "../../../src/plan/targets.ts";

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

describe("planSharedTargets(): a target group other clusters register into too", () => {
  const t = (id: string, port = 80) => ({ id, port });
  const ours = t("10.0.0.1");
  const stale = t("10.0.0.2");
  const foreign = t("10.9.9.9");
  const fresh = t("10.0.0.3");

  it("deregisters only recorded targets: a stale one of ours goes, a foreign one stays", () => {
    const out = planSharedTargets([ours, fresh], [ours, stale, foreign], [ours, stale]);
    assert.deepEqual(out.register, [fresh]);
    assert.deepEqual(out.deregister, [stale]);
    assert.deepEqual(out.recordBefore, [ours, stale, fresh], "the record grows before registering");
    assert.deepEqual(out.recordAfter, [ours, fresh], "and shrinks to the desired set after");
  });

  it("deregisters nothing before a record exists, and makes the desired set the record", () => {
    const out = planSharedTargets([ours], [ours, stale, foreign], undefined);
    assert.deepEqual(out.register, []);
    assert.deepEqual(out.deregister, []);
    assert.deepEqual(out.recordBefore, [ours]);
    assert.equal(out.recordAfter, undefined);
  });

  it("writes nothing in the steady state", () => {
    const out = planSharedTargets([ours], [ours, foreign], [ours]);
    assert.deepEqual(out, { register: [], deregister: [] });
  });

  it("only shrinks the record when a recorded target is no longer wanted, registered or not", () => {
    const out = planSharedTargets([ours], [ours, foreign], [ours, stale]);
    assert.deepEqual(out.deregister, [], "the stale target is already gone from the group");
    assert.equal(out.recordBefore, undefined);
    assert.deepEqual(out.recordAfter, [ours]);
  });

  it("keeps foreign targets, leaves the desired set, and records every target it registers (property)", () => {
    const target = fc.record({
      id: fc.constantFrom("a", "b", "c", "d", "e"),
      port: fc.integer({ min: 1, max: 2 }),
    });
    const k = (x: { id: string; port: number }) => `${x.id}:${x.port}`;
    fc.assert(
      fc.property(
        fc.array(target),
        fc.array(target),
        fc.option(fc.array(target), { nil: undefined }),
        (desired, actual, recorded) => {
          const out = planSharedTargets(desired, actual, recorded);
          const known = new Set((recorded ?? []).map(k));
          for (const x of out.deregister) assert.ok(known.has(k(x)), `${k(x)} deregistered but not recorded`);
          const before = new Set((out.recordBefore ?? recorded ?? []).map(k));
          for (const x of out.register)
            assert.ok(before.has(k(x)), `${k(x)} registered before it was recorded`);
          const after = new Set((out.recordAfter ?? out.recordBefore ?? recorded ?? []).map(k));
          assert.deepEqual([...after].sort(), [...new Set(desired.map(k))].sort());
          const result = new Set(actual.map(k));
          for (const x of out.register) result.add(k(x));
          for (const x of out.deregister) result.delete(k(x));
          for (const x of desired) assert.ok(result.has(k(x)));
          for (const x of actual) if (!known.has(k(x))) assert.ok(result.has(k(x)), `${k(x)} kept`);
        },
      ),
      { seed: 42, numRuns: 300 },
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
