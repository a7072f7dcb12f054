import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { annotationTable, parseAnnotations, sharesTargetGroups } from "../../../src/model/annotations.ts";
import { build } from "../../../src/model/build.ts";
import { stackFingerprint } from "../../../src/model/condition.ts";
import { lookalikeWarnings } from "../../../src/model/selection.ts";
import type { BuildConfig, Service } from "../../../src/model/types.ts";

const KEY = "service.beta.kubernetes.io/aws-load-balancer-multi-cluster-target-group";
const config: BuildConfig = {
  clusterName: "prod",
  loadBalancerClass: "service.k8s.aws/nlb",
  defaultTargetType: "instance",
  defaultScheme: "internal",
};

function service(annotations: Record<string, string> = {}): Service {
  return {
    metadata: { name: "web", namespace: "shop", annotations },
    spec: {
      type: "LoadBalancer",
      loadBalancerClass: "service.k8s.aws/nlb",
      ports: [
        { name: "http", port: 80, protocol: "TCP", nodePort: 30080 },
        { name: "dns", port: 53, protocol: "UDP", nodePort: 30053 },
      ],
    },
  };
}

function stackOf(annotations: Record<string, string>) {
  const result = build(service(annotations), [], [], config);
  assert.ok(result.ok, JSON.stringify(result));
  return result.stack;
}

describe("multi-cluster-target-group", () => {
  it("is a boolean annotation of the table, default false", () => {
    assert.equal(annotationTable.multiClusterTargetGroup.key, KEY);
    assert.equal(annotationTable.multiClusterTargetGroup.shape, "boolean");
    assert.equal(annotationTable.multiClusterTargetGroup.default, "false");
    assert.equal(parseAnnotations(service({ [KEY]: " True " })).values.multiClusterTargetGroup, true);
    assert.equal(parseAnnotations(service({ [KEY]: "false" })).values.multiClusterTargetGroup, false);
  });

  it("refuses anything but true or false, naming the annotation and the value", () => {
    const result = build(service({ [KEY]: "yes please" }), [], [], config);
    assert.equal(result.ok, false);
    if (result.ok) return;
    assert.equal(result.problems.length, 1);
    assert.equal(result.problems[0]?.field, `annotation ${KEY}`);
    assert.equal(result.problems[0]?.value, "yes please");
    assert.match(result.problems[0]?.message ?? "", /true or false/);
  });

  it("marks every target group of the Service as shared", () => {
    const groups = stackOf({ [KEY]: "true" }).targetGroups;
    assert.equal(groups.length, 2);
    for (const tg of groups) assert.equal(tg.multiCluster, true);
  });

  it("leaves the stack, and so its fingerprint, as it was when false or absent", () => {
    const absent = stackOf({});
    const off = stackOf({ [KEY]: "false" });
    for (const tg of absent.targetGroups) assert.equal("multiCluster" in tg, false);
    assert.deepEqual(off, absent);
    // Turning it on changes the fingerprint, so a restarted controller takes the full path once.
    assert.notEqual(stackFingerprint(stackOf({ [KEY]: "true" })), stackFingerprint(absent));
  });

  it("is no longer reported as an annotation this controller does not support", () => {
    assert.deepEqual(lookalikeWarnings(service({ [KEY]: "true" })), []);
  });
});

describe("sharesTargetGroups()", () => {
  const KEY = "service.beta.kubernetes.io/aws-load-balancer-multi-cluster-target-group";
  const svc = (annotations: Record<string, string>) =>
    ({ metadata: { name: "web", namespace: "shop", annotations }, spec: {} }) as Service;
  it("is false without the annotation or with a valid false, and true for anything else", () => {
    assert.equal(sharesTargetGroups(svc({})), false);
    assert.equal(sharesTargetGroups(svc({ [KEY]: "false" })), false);
    assert.equal(sharesTargetGroups(svc({ [KEY]: "true" })), true);
    // A mistyped value never lets foreign targets go.
    assert.equal(sharesTargetGroups(svc({ [KEY]: "ture" })), true);
  });
});
