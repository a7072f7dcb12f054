import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { admitsGated, gateConditions, gateOf } from "../../../src/model/readiness.ts";
import type { Endpoint, Pod } from "../../../src/model/types.ts";

const TG = "k8s-shop-api-0123456789";
const pod = (
  name: string,
  over: { gate?: boolean; containersReady?: string; ip?: string; condition?: string } = {},
): Pod => ({
  metadata: { name, namespace: "shop" },
  spec: { readinessGates: over.gate === false ? [] : [{ conditionType: gateOf(TG) }] },
  status: {
    ...(over.ip ? { podIP: over.ip } : {}),
    conditions: [
      { type: "ContainersReady", status: over.containersReady ?? "True" },
      ...(over.condition ? [{ type: gateOf(TG), status: over.condition, reason: "Target.Healthy" }] : []),
    ],
  },
});
const endpoint = (name: string): Endpoint => ({
  addresses: ["10.0.0.1"],
  conditions: { ready: false },
  targetRef: { kind: "Pod", name, namespace: "shop" },
});

describe("readiness gates", () => {
  it("admits a not-ready endpoint only when its pod waits on our gate with ready containers", () => {
    const pods = new Map([
      ["shop/gated", pod("gated")],
      ["shop/starting", pod("starting", { containersReady: "False" })],
      ["shop/plain", pod("plain", { gate: false })],
    ]);
    assert.equal(admitsGated(endpoint("gated"), pods, TG), true);
    assert.equal(admitsGated(endpoint("starting"), pods, TG), false);
    assert.equal(admitsGated(endpoint("plain"), pods, TG), false);
    assert.equal(admitsGated(endpoint("missing"), pods, TG), false);
    assert.equal(admitsGated(endpoint("gated"), pods, "k8s-other-tg"), false);
    assert.equal(admitsGated({ addresses: ["10.0.0.1"] }, pods, TG), false);
  });

  it("sets True for a healthy target, False with the AWS reason otherwise, and says when all are healthy", () => {
    const pods = [pod("a", { ip: "10.0.0.1" }), pod("b", { ip: "10.0.0.2" }), pod("c", { ip: "10.0.0.3" })];
    const { updates, healthy } = gateConditions(pods, TG, [
      { id: "10.0.0.1", port: 80, state: "healthy" },
      {
        id: "10.0.0.2",
        port: 80,
        state: "initial",
        reason: "Elb.InitialHealthChecking",
        description: "checks in progress",
      },
    ]);
    assert.equal(healthy, false);
    assert.deepEqual(
      updates.map((u) => [u.pod, u.status, u.reason]),
      [
        ["shop/a", "True", "Target.Healthy"],
        ["shop/b", "False", "Elb.InitialHealthChecking"],
        ["shop/c", "False", "Elb.NotRegistered"],
      ],
    );
    assert.ok(updates.every((u) => u.type === `target-health.elbv2.k8s.aws/${TG}`));
  });

  it("writes nothing for a pod that already carries the right condition; healthy when all are", () => {
    const { updates, healthy } = gateConditions([pod("a", { ip: "10.0.0.1", condition: "True" })], TG, [
      { id: "10.0.0.1", port: 80, state: "healthy" },
    ]);
    assert.deepEqual(updates, []);
    assert.equal(healthy, true);
  });
});
