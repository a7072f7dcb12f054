import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
  generatedLoadBalancerName,
  loadBalancerName,
  type TargetGroupNameParams,
  targetGroupName,
} from "../../../src/model/naming.ts";
import type { Service } from "../../../src/model/types.ts";

function service(
  namespace: string | undefined,
  name: string,
  uid?: string,
  annotations?: Record<string, string>,
): Service {
  return {
    metadata: {
      name,
      ...(namespace === undefined ? {} : { namespace }),
      ...(uid ? { uid } : {}),
      ...(annotations ? { annotations } : {}),
    },
    spec: {},
  };
}

const web = service("shop", "web", "3f1c6a2e-0000-4000-8000-000000000001");
const tg: TargetGroupNameParams = {
  port: 80,
  protocol: "TCP",
  targetType: "instance",
  targetPort: 30080,
  ipAddressType: "ipv4",
};
const NAME = /^k8s-[A-Za-z0-9]{0,8}-[A-Za-z0-9]{0,8}-[0-9a-f]{10}$/;

describe("generated NLB names", () => {
  it("are pinned: the same inputs give the same name in every release", () => {
    assert.equal(generatedLoadBalancerName("prod", web, "internal"), "k8s-shop-web-7367d75979");
    assert.equal(generatedLoadBalancerName("prod", web, "internet-facing"), "k8s-shop-web-74ecb4bf54");
  });

  it("depend on cluster, namespace, name and scheme, not on the UID", () => {
    const base = generatedLoadBalancerName("prod", web, "internal");
    assert.notEqual(generatedLoadBalancerName("staging", web, "internal"), base);
    assert.notEqual(generatedLoadBalancerName("prod", service("shop", "web2"), "internal"), base);
    assert.notEqual(generatedLoadBalancerName("prod", service("shop2", "web"), "internal"), base);
    assert.equal(generatedLoadBalancerName("prod", service("shop", "web", "another-uid"), "internal"), base);
  });

  it("do not confuse namespace/name splits", () => {
    assert.notEqual(
      generatedLoadBalancerName("prod", service("ab", "c"), "internal"),
      generatedLoadBalancerName("prod", service("a", "bc"), "internal"),
    );
  });

  it("keep 8 alphanumerics of namespace and name and never exceed 32 characters", () => {
    const long = generatedLoadBalancerName(
      "prod",
      service("payments-production-eu", "checkout.api_v2-internal"),
      "internal",
    );
    assert.match(long, /^k8s-payments-checkout-[0-9a-f]{10}$/);
    assert.ok(long.length <= 32);
    const odd = generatedLoadBalancerName("prod", service("ünï-cödé", "🚀.x"), "internal");
    assert.match(odd, /^k8s-ncd-x-[0-9a-f]{10}$/);
    assert.match(
      generatedLoadBalancerName("prod", service("x".repeat(253), "y".repeat(63)), "internal"),
      NAME,
    );
  });

  it("treat a missing namespace as default", () => {
    assert.equal(
      generatedLoadBalancerName("prod", service(undefined, "web"), "internal"),
      generatedLoadBalancerName("prod", service("default", "web"), "internal"),
    );
  });
});

describe("loadBalancerName", () => {
  const P = "service.beta.kubernetes.io/aws-load-balancer-name";
  it("is the annotation's name when valid", () => {
    assert.equal(
      loadBalancerName("prod", service("shop", "web", undefined, { [P]: "shop-web" }), "internal"),
      "shop-web",
    );
  });

  it("falls back to the generated name when the annotation is absent or invalid", () => {
    const generated = generatedLoadBalancerName("prod", web, "internal");
    assert.equal(loadBalancerName("prod", web, "internal"), generated);
    const invalid = service("shop", "web", undefined, { [P]: "internal-shop" });
    assert.equal(
      loadBalancerName("prod", invalid, "internal"),
      generatedLoadBalancerName("prod", invalid, "internal"),
    );
  });
});

describe("target group names", () => {
  it("are pinned", () => {
    assert.equal(targetGroupName("prod", web, tg), "k8s-shop-web-4928a317fe");
  });

  it("change with every field AWS cannot modify, and with the Service's identity", () => {
    const base = targetGroupName("prod", web, tg);
    const variants: [string, string][] = [
      ["cluster", targetGroupName("staging", web, tg)],
      ["uid", targetGroupName("prod", service("shop", "web", "other-uid"), tg)],
      ["no uid", targetGroupName("prod", service("shop", "web"), tg)],
      ["name", targetGroupName("prod", service("shop", "api", web.metadata.uid), tg)],
      ["port", targetGroupName("prod", web, { ...tg, port: 81 })],
      ["protocol", targetGroupName("prod", web, { ...tg, protocol: "TCP_UDP" })],
      ["target type", targetGroupName("prod", web, { ...tg, targetType: "ip" })],
      ["target port", targetGroupName("prod", web, { ...tg, targetPort: 30081 })],
      ["ip address type", targetGroupName("prod", web, { ...tg, ipAddressType: "ipv6" })],
    ];
    for (const [field, name] of variants) {
      assert.notEqual(name, base, field);
      assert.match(name, NAME, field);
    }
    assert.equal(new Set(variants.map(([, name]) => name)).size, variants.length);
  });

  it("are stable for the same inputs", () => {
    assert.equal(targetGroupName("prod", web, { ...tg }), targetGroupName("prod", structuredClone(web), tg));
  });
});
