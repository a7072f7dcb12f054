import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { isSelected, lookalikeWarnings } from "../../../src/model/selection.ts";
import type { Service } from "../../../src/model/types.ts";

const P = "service.beta.kubernetes.io/aws-load-balancer-";
const CLASS = "service.k8s.aws/nlb";

function service(spec: Partial<Service["spec"]>, annotations: Record<string, string> = {}): Service {
  return {
    metadata: { name: "web", namespace: "shop", annotations },
    spec: { type: "LoadBalancer", ...spec },
  };
}

describe("isSelected", () => {
  const table: [string, Service, boolean][] = [
    ["our class", service({ loadBalancerClass: CLASS }), true],
    ["our class, any annotations", service({ loadBalancerClass: CLASS }, { [`${P}type`]: "nlb" }), true],
    ["a foreign class (MetalLB)", service({ loadBalancerClass: "metallb.io/metallb" }), false],
    [
      "a foreign class with our annotations",
      service(
        { loadBalancerClass: "io.cilium/bgp" },
        { [`${P}type`]: "external", [`${P}nlb-target-type`]: "ip" },
      ),
      false,
    ],
    ["our class on a NodePort Service", service({ type: "NodePort", loadBalancerClass: CLASS }), false],
    ["no class, no annotations (cloud provider's)", service({}), false],
    [
      "no class, type external + target type ip",
      service({}, { [`${P}type`]: "external", [`${P}nlb-target-type`]: "ip" }),
      true,
    ],
    [
      "no class, type external + target type instance",
      service({}, { [`${P}type`]: "external", [`${P}nlb-target-type`]: "instance" }),
      true,
    ],
    ["no class, type external without target type", service({}, { [`${P}type`]: "external" }), false],
    [
      "no class, type external + target type alb",
      service({}, { [`${P}type`]: "external", [`${P}nlb-target-type`]: "alb" }),
      false,
    ],
    [
      "no class, type external + target type IP (exact match)",
      service({}, { [`${P}type`]: "external", [`${P}nlb-target-type`]: "IP" }),
      false,
    ],
    [
      "no class, type External (exact match)",
      service({}, { [`${P}type`]: "External", [`${P}nlb-target-type`]: "ip" }),
      false,
    ],
    ["no class, type nlb-ip", service({}, { [`${P}type`]: "nlb-ip" }), true],
    ["no class, type nlb (in-tree)", service({}, { [`${P}type`]: "nlb" }), false],
    ["no class, only target type ip", service({}, { [`${P}nlb-target-type`]: "ip" }), false],
    [
      "type external on a ClusterIP Service",
      service({ type: "ClusterIP" }, { [`${P}type`]: "external", [`${P}nlb-target-type`]: "ip" }),
      false,
    ],
    ["no spec type", { metadata: { name: "web" }, spec: {} }, false],
  ];
  for (const [why, svc, expected] of table) {
    it(`${expected ? "selects" : "ignores"}: ${why}`, () => {
      assert.equal(isSelected(svc, CLASS), expected);
    });
  }

  it("follows the configured class", () => {
    assert.equal(isSelected(service({ loadBalancerClass: "example.com/nlb" }), "example.com/nlb"), true);
    assert.equal(isSelected(service({ loadBalancerClass: CLASS }), "example.com/nlb"), false);
  });
});

describe("lookalikeWarnings", () => {
  it("is empty for a Service that uses only known annotations", () => {
    const svc = service(
      { loadBalancerClass: CLASS },
      {
        [`${P}scheme`]: "internet-facing",
        [`${P}healthcheck-interval`]: "10",
        "kubectl.kubernetes.io/last-applied-configuration": "{}",
        "example.com/owner": "team-a",
      },
    );
    assert.deepEqual(lookalikeWarnings(svc), []);
  });

  it("suggests the known key for a misspelled one", () => {
    const warnings = lookalikeWarnings(
      service(
        { loadBalancerClass: CLASS },
        {
          [`${P}healthcheck-intervall`]: "10",
          "service.beta.kubernetes.io/aws-loadbalancer-scheme": "internal",
        },
      ),
    );
    assert.deepEqual(warnings, [
      `annotation ${P}healthcheck-intervall looks like an AWS load balancer annotation but is not one this controller knows (did you mean ${P}healthcheck-interval?); it is ignored`,
      `annotation service.beta.kubernetes.io/aws-loadbalancer-scheme looks like an AWS load balancer annotation but is not one this controller knows (did you mean ${P}scheme?); it is ignored`,
    ]);
  });

  it("flags an unknown key under the prefix even without a close match", () => {
    assert.deepEqual(lookalikeWarnings(service({ loadBalancerClass: CLASS }, { [`${P}turbo-mode`]: "on" })), [
      `annotation ${P}turbo-mode looks like an AWS load balancer annotation but is not one this controller knows; it is ignored`,
    ]);
  });

  it("says which LBC annotations are not supported yet", () => {
    assert.deepEqual(
      lookalikeWarnings(
        service(
          { loadBalancerClass: CLASS },
          {
            [`${P}minimum-load-balancer-capacity`]: "CapacityUnits=100",
          },
        ),
      ),
      [
        `annotation ${P}minimum-load-balancer-capacity is an AWS Load Balancer Controller annotation that this controller does not support yet; it is ignored`,
      ],
    );
  });

  it("says nothing about the annotations of issue 4 it now reads, per-port keys and refused keys included", () => {
    const annotations = Object.fromEntries(
      [
        "ssl-cert",
        "ssl-ports",
        "ssl-negotiation-policy",
        "backend-protocol",
        "alpn-policy",
        "proxy-protocol-per-target-group",
        "target-group-attributes.443",
        "target-group-attributes.not-a-port",
        "cross-zone-load-balancing-enabled",
        "access-log-enabled",
        "access-log-s3-bucket-name",
        "access-log-s3-bucket-prefix",
        "eip-allocations",
        "private-ipv4-addresses",
        "ipv6-addresses",
        "listener-attributes.TCP-443",
        "listener-attributes.not-a-listener",
      ].map((suffix) => [`${P}${suffix}`, "x"]),
    );
    assert.deepEqual(lookalikeWarnings(service({ loadBalancerClass: CLASS }, annotations)), []);
  });

  it("says when an annotation is for Classic Load Balancers only", () => {
    assert.deepEqual(
      lookalikeWarnings(service({ loadBalancerClass: CLASS }, { [`${P}connection-idle-timeout`]: "60" })),
      [
        `annotation ${P}connection-idle-timeout applies only to Classic Load Balancers of the in-tree cloud provider; it has no effect on this NLB`,
      ],
    );
  });

  it("explains the in-tree type nlb", () => {
    assert.deepEqual(lookalikeWarnings(service({}, { [`${P}type`]: "nlb" })), [
      `annotation ${P}type: "nlb" asks for the in-tree cloud provider's NLB, which this controller does not manage; use "external" with ${P}nlb-target-type ip or instance, or spec.loadBalancerClass`,
    ]);
  });

  it("explains values that miss selection only by case, or a missing target type", () => {
    assert.deepEqual(
      lookalikeWarnings(service({}, { [`${P}type`]: "External", [`${P}nlb-target-type`]: "ip" })),
      [
        `annotation ${P}type: "External" is compared exactly; write "external" for this controller to manage the Service`,
      ],
    );
    assert.deepEqual(
      lookalikeWarnings(service({}, { [`${P}type`]: "external", [`${P}nlb-target-type`]: "IP" })),
      [
        `annotation ${P}nlb-target-type: "IP" is compared exactly; write "ip" for this controller to manage the Service`,
      ],
    );
    assert.deepEqual(lookalikeWarnings(service({}, { [`${P}type`]: "external" })), [
      `annotation ${P}type: "external" needs ${P}nlb-target-type set to ip or instance for this controller to manage the Service`,
    ]);
  });

  it("copes with huge keys and no metadata annotations", () => {
    const huge = `${P}${"x".repeat(10_000)}`;
    const [warning] = lookalikeWarnings(service({}, { [huge]: "1" }));
    assert.ok(warning && warning.length < 400);
    assert.deepEqual(lookalikeWarnings({ metadata: { name: "web" }, spec: {} }), []);
  });
});
