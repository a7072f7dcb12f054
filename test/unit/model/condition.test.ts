import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
  alreadyApplied,
  invalidCondition,
  reconciledCondition,
  sameCondition,
  stackFingerprint,
} from "../../../src/model/condition.ts";
import type { Service } from "../../../src/model/types.ts";
import { desiredStack, targetGroup } from "../plan/fixtures.ts";

const NOW = new Date("2026-01-01T00:00:00Z");

describe("stack fingerprint and the Reconciled condition", () => {
  it("ignores targets (the target loop owns them) but not health checks or names", () => {
    const a = desiredStack();
    const b = desiredStack();
    b.targetGroups[0] = targetGroup(80, { targets: [] });
    assert.equal(stackFingerprint(a), stackFingerprint(b));
    const c = desiredStack();
    c.targetGroups[0] = targetGroup(80, {
      healthCheck: { ...a.targetGroups[0]!.healthCheck, intervalSeconds: 30 },
    });
    assert.notEqual(stackFingerprint(a), stackFingerprint(c));
    const d = desiredStack();
    d.loadBalancer.scheme = "internet-facing";
    assert.notEqual(stackFingerprint(a), stackFingerprint(d));
  });

  it("alreadyApplied is true only for a True condition carrying the same fingerprint", () => {
    const stack = desiredStack();
    const svc: Service = { metadata: { name: "web", namespace: "shop" }, spec: {} };
    assert.equal(alreadyApplied(svc, stack), false);
    svc.status = { conditions: [reconciledCondition(stack, 3, NOW)] };
    assert.equal(alreadyApplied(svc, stack), true);
    const changed = desiredStack([80, 443]);
    assert.equal(alreadyApplied(svc, changed), false);
    svc.status = {
      conditions: [
        invalidCondition(
          [
            {
              object: "shop/web",
              field: "annotation x",
              value: "1",
              allowed: "2",
              reason: "InvalidAnnotation",
              message: "service shop/web: bad",
            },
          ],
          3,
          NOW,
        ),
      ],
    };
    assert.equal(alreadyApplied(svc, stack), false);
    assert.equal(svc.status.conditions?.[0]?.status, "False");
    assert.match(
      svc.status.conditions?.[0]?.message ?? "",
      /not reconciled, the NLB is left as it was: service shop\/web: bad/,
    );
  });

  it("sameCondition ignores the transition time only", () => {
    const a = reconciledCondition(desiredStack(), 1, NOW);
    assert.ok(sameCondition(a, reconciledCondition(desiredStack(), 1, new Date())));
    assert.ok(!sameCondition(a, reconciledCondition(desiredStack(), 2, NOW)));
    assert.ok(!sameCondition(undefined, a));
  });
});
