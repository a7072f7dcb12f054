import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { desiredIngress, ingressEqual } from "../../../src/model/status.ts";
import {
  CLUSTER_TAG,
  FINALIZER,
  isOwnedBy,
  LOAD_BALANCER_RESOURCE,
  ownershipTags,
  RESOURCE_TAG,
  STACK_TAG,
  stackIdOf,
} from "../../../src/model/tags.ts";
import type { Service } from "../../../src/model/types.ts";

describe("ownership tags", () => {
  it("use LBC's keys and values", () => {
    assert.equal(CLUSTER_TAG, "elbv2.k8s.aws/cluster");
    assert.equal(STACK_TAG, "service.k8s.aws/stack");
    assert.equal(RESOURCE_TAG, "service.k8s.aws/resource");
    assert.equal(FINALIZER, "service.k8s.aws/resources");
    assert.deepEqual(ownershipTags("prod", "shop/web", LOAD_BALANCER_RESOURCE), {
      "elbv2.k8s.aws/cluster": "prod",
      "service.k8s.aws/stack": "shop/web",
      "service.k8s.aws/resource": "LoadBalancer",
    });
  });

  it("decide ownership by this cluster's tag alone", () => {
    assert.equal(isOwnedBy({ [CLUSTER_TAG]: "prod" }, "prod"), true);
    assert.equal(isOwnedBy({ [CLUSTER_TAG]: "staging" }, "prod"), false);
    assert.equal(isOwnedBy({ [STACK_TAG]: "shop/web", [RESOURCE_TAG]: "LoadBalancer" }, "prod"), false);
    assert.equal(isOwnedBy({}, "prod"), false);
    assert.equal(isOwnedBy(undefined, "prod"), false);
  });

  it("name the stack namespace/name, default namespace when absent", () => {
    assert.equal(stackIdOf({ metadata: { name: "web", namespace: "shop" } }), "shop/web");
    assert.equal(stackIdOf({ metadata: { name: "web" } }), "default/web");
  });
});

describe("status", () => {
  const service: Service = {
    metadata: { name: "dns", namespace: "kube-system" },
    spec: {
      type: "LoadBalancer",
      ports: [
        { name: "dns-udp", port: 53, protocol: "UDP" },
        { name: "https", port: 443 },
        { name: "dns-tcp", port: 53, protocol: "TCP" },
      ],
    },
  };

  it("is one ingress with the lower-case DNS name and every service port", () => {
    assert.deepEqual(desiredIngress("K8S-KubeSyst-DNS-0123456789.ELB.us-west-2.amazonaws.com", service), [
      {
        hostname: "k8s-kubesyst-dns-0123456789.elb.us-west-2.amazonaws.com",
        ports: [
          { port: 53, protocol: "TCP" },
          { port: 53, protocol: "UDP" },
          { port: 443, protocol: "TCP" },
        ],
      },
    ]);
  });

  it("compares ingress regardless of port order, but not of content", () => {
    const desired = desiredIngress("a.example.com", service);
    const reordered = [{ hostname: "a.example.com", ports: [...desired[0]!.ports!].reverse() }];
    assert.equal(ingressEqual(desired, reordered), true);
    assert.equal(ingressEqual(desired, [{ hostname: "a.example.com" }]), false);
    assert.equal(ingressEqual(desired, [{ hostname: "b.example.com", ports: desired[0]!.ports! }]), false);
    assert.equal(ingressEqual(desired, []), false);
    assert.equal(ingressEqual([], undefined), true);
  });
});
