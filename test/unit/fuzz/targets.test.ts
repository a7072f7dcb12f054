// planTargets() and batches() on generated target sets, beyond test/unit/plan/targets.test.ts:
// the register and deregister lists are minimal and duplicate-free, and no call exceeds 200 targets.
// Long run (20x): FC_NUM_RUNS=6000 node --test test/unit/fuzz/targets.test.ts   (FC_SEED=<n> for another seed)
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import fc from "fast-check";
import type { Target } from "../../../src/model/types.ts";
import { batches, MAX_TARGETS_PER_CALL, planTargets } from "../../../src/plan/targets.ts";
import { fuzzOptions } from "./arbitraries.ts";

const key = (t: Target) => `${t.id}:${t.port}`;
const keys = (targets: readonly Target[]) => new Set(targets.map(key));

/** Instance ids and pod IPs from a small pool, so desired and actual overlap often; sometimes hundreds. */
const target = fc.record({
  id: fc.oneof(
    fc.constantFrom("i-0aaaaaaaaaaaaaaa1", "i-0bbbbbbbbbbbbbbb2", "10.0.0.1", "fd00::1"),
    fc.integer({ min: 0, max: 600 }).map((n) => `10.1.${n >> 8}.${n & 255}`),
  ),
  port: fc.constantFrom(80, 8080, 30080),
});
const targets = fc.oneof(
  fc.array(target, { maxLength: 20 }),
  fc.array(target, { minLength: 150, maxLength: 700 }),
);

describe("planTargets() and batches() (fuzz)", () => {
  it("register ∪ kept = desired; deregister = actual − desired; nothing listed twice", () => {
    fc.assert(
      fc.property(targets, targets, (desired, actual) => {
        const { register, deregister } = planTargets(desired, actual);
        const want = keys(desired);
        const have = keys(actual);
        assert.equal(keys(register).size, register.length, "register lists each target once");
        assert.equal(keys(deregister).size, deregister.length, "deregister lists each target once");
        for (const t of register) assert.ok(want.has(key(t)) && !have.has(key(t)), `register ${key(t)}`);
        for (const t of deregister) assert.ok(have.has(key(t)) && !want.has(key(t)), `deregister ${key(t)}`);
        const kept = [...have].filter((k) => want.has(k));
        assert.deepEqual(new Set([...keys(register), ...kept]), want);
        assert.equal(deregister.length, have.size - kept.length);
      }),
      fuzzOptions(200),
    );
  });

  it("plans nothing for a set against itself, in any order and with repeats", () => {
    fc.assert(
      fc.property(targets, fc.array(fc.integer(), { maxLength: 700 }), (desired, ranks) => {
        const shuffled = desired
          .map((t, i) => ({ t, rank: ranks[i] ?? i }))
          .sort((a, b) => a.rank - b.rank)
          .map(({ t }) => ({ ...t }));
        const { register, deregister } = planTargets(desired, [...shuffled, ...shuffled]);
        assert.deepEqual(register, []);
        assert.deepEqual(deregister, []);
      }),
      fuzzOptions(200),
    );
  });

  it("batches() keeps every item once, in order, in calls of 1 to 200", () => {
    fc.assert(
      fc.property(
        fc.nat({ max: 2000 }),
        fc.option(fc.integer({ min: 1, max: 500 }), { nil: undefined }),
        (n, size) => {
          const items = Array.from({ length: n }, (_, i) => i);
          const out = size === undefined ? batches(items) : batches(items, size);
          const limit = size ?? MAX_TARGETS_PER_CALL;
          for (const batch of out) assert.ok(batch.length >= 1 && batch.length <= limit, `${batch.length}`);
          assert.deepEqual(out.flat(), items);
          assert.equal(out.length, Math.ceil(n / limit));
        },
      ),
      fuzzOptions(200),
    );
  });

  it("the batches of a plan never exceed 200 targets a call", () => {
    fc.assert(
      fc.property(targets, targets, (desired, actual) => {
        const { register, deregister } = planTargets(desired, actual);
        for (const batch of [...batches(register), ...batches(deregister)])
          assert.ok(batch.length >= 1 && batch.length <= 200, `${batch.length} targets in one call`);
      }),
      fuzzOptions(200),
    );
  });
});
