import assert from "node:assert/strict";
import { describe, it } from "node:test";
import fc from "fast-check";
import {
  decodeTargets,
  encodeTargets,
  entryKey,
  mergeTargets,
  targetRecordName,
} from "../../../src/kube/target-records.ts";

describe("the ConfigMap record of registered targets", () => {
  it("is named after the Service", () => {
    assert.equal(
      targetRecordName({ metadata: { name: "web", namespace: "shop" }, spec: {} }),
      "aws-nlb-targets-web",
    );
  });

  it("keys each target group by the name and id in its ARN, a valid ConfigMap key", () => {
    assert.equal(
      entryKey(
        "arn:aws:elasticloadbalancing:us-west-2:123456789012:targetgroup/k8s-shop-web-0a1b2c3d4e/73e2d6bc24d8a067",
      ),
      "k8s-shop-web-0a1b2c3d4e.73e2d6bc24d8a067",
    );
    assert.match(entryKey("arn:aws-cn:something:else/with spaces"), /^[-._a-zA-Z0-9]+$/);
  });

  it("writes targets sorted and unique, and reads them back", () => {
    const raw = encodeTargets([
      { id: "i-0b", port: 30080 },
      { id: "10.0.0.1", port: 8080 },
      { id: "i-0b", port: 30080 },
      { id: "2600:1f14::1", port: 443 },
    ]);
    assert.equal(raw, "10.0.0.1:8080,2600:1f14::1:443,i-0b:30080");
    assert.deepEqual(decodeTargets(raw), [
      { id: "10.0.0.1", port: 8080 },
      { id: "2600:1f14::1", port: 443 },
      { id: "i-0b", port: 30080 },
    ]);
    assert.deepEqual(decodeTargets(""), []);
  });

  it("skips entries edited into something that is not id:port, so they are never deregistered", () => {
    assert.deepEqual(decodeTargets(" 10.0.0.1:80 , junk, :80, 10.0.0.2:0, 10.0.0.3:65536, 10.0.0.4:x"), [
      { id: "10.0.0.1", port: 80 },
    ]);
  });

  it("round-trips any target set (property)", () => {
    const target = fc.record({
      id: fc.oneof(fc.ipV4(), fc.ipV6(), fc.stringMatching(/^i-[0-9a-f]{17}$/)),
      port: fc.integer({ min: 1, max: 65535 }),
    });
    fc.assert(
      fc.property(fc.array(target), (targets) => {
        const back = decodeTargets(encodeTargets(targets));
        const k = (t: { id: string; port: number }) => `${t.id}:${t.port}`;
        assert.deepEqual(back.map(k).sort(), [...new Set(targets.map(k))].sort());
      }),
      { seed: 7, numRuns: 200 },
    );
  });
});

describe("mergeTargets()", () => {
  const t = (id: string, port = 80) => ({ id, port });
  it("is the new list when nobody else wrote", () => {
    const merged = mergeTargets([t("a"), t("b")], [t("a"), t("b")], [t("b"), t("c")]);
    assert.deepEqual(encodeTargets(merged), "b:80,c:80");
  });
  it("keeps what another writer added after the read, and re-adds ours it dropped", () => {
    const merged = mergeTargets([t("a"), t("x")], [t("a"), t("b")], [t("b"), t("c")]);
    assert.deepEqual(encodeTargets(merged), "b:80,c:80,x:80");
  });
});
