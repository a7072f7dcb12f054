import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";

const CLI = join(import.meta.dirname, "../../../src/cli.ts");
const dir = mkdtempSync(join(tmpdir(), "nlb-cli-"));
after(() => rmSync(dir, { recursive: true, force: true }));

function cli(args: string[], env: Record<string, string> = {}) {
  const out = spawnSync(process.execPath, [CLI, ...args], {
    encoding: "utf8",
    env: { PATH: process.env.PATH ?? "", HOME: process.env.HOME ?? "", ...env },
    timeout: 30_000,
  });
  return { code: out.status, stdout: out.stdout, stderr: out.stderr };
}

function file(name: string, text: string): string {
  const p = join(dir, name);
  writeFileSync(p, text);
  return p;
}

const MANIFEST = `
apiVersion: v1
kind: Service
metadata: { name: web, namespace: shop, uid: 0b7c3f0e-1111-2222-3333-444455556666 }
spec:
  type: LoadBalancer
  loadBalancerClass: service.k8s.aws/nlb
  externalTrafficPolicy: Local
  healthCheckNodePort: 32100
  ports: [{ name: http, port: 80, targetPort: 8080, nodePort: 31080, protocol: TCP }]
---
apiVersion: v1
kind: Service
metadata:
  name: api
  namespace: shop
  annotations:
    service.beta.kubernetes.io/aws-load-balancer-type: external
    service.beta.kubernetes.io/aws-load-balancer-nlb-target-type: ip
spec:
  type: LoadBalancer
  ports: [{ name: grpc, port: 9000, targetPort: 9000, protocol: TCP }]
---
apiVersion: v1
kind: Service
metadata: { name: metal, namespace: shop }
spec: { type: LoadBalancer, loadBalancerClass: metallb.io/metallb, ports: [{ port: 80 }] }
---
apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata: { name: api-1, namespace: shop, labels: { kubernetes.io/service-name: api } }
addressType: IPv4
endpoints:
  - { addresses: [10.0.1.5], conditions: { ready: true } }
  - { addresses: [10.0.1.6], conditions: { ready: false } }
ports: [{ name: grpc, port: 9000, protocol: TCP }]
---
apiVersion: v1
kind: Node
metadata: { name: n1 }
spec: { providerID: "aws:///us-west-2a/i-0123456789abcdef0" }
status: { conditions: [{ type: Ready, status: "True" }] }
`;

describe("nlb-controller plan", () => {
  it("prints one JSON object per selected Service, in input order, and names the unselected on stderr", () => {
    const r = cli(["plan", "-f", file("ok.yaml", MANIFEST), "--cluster-name", "prod", "-o", "json"]);
    assert.equal(r.code, 0, r.stderr);
    const stacks = JSON.parse(r.stdout);
    assert.deepEqual(
      stacks.map((s: { service: string }) => s.service),
      ["shop/web", "shop/api"],
    );
    const [web, api] = stacks;
    assert.equal(web.loadBalancer.scheme, "internal");
    assert.equal(web.loadBalancer.type, "network");
    assert.equal(web.loadBalancer.tags["elbv2.k8s.aws/cluster"], "prod");
    assert.deepEqual(web.listeners, [{ port: 80, protocol: "TCP", targetGroup: "shop/web:80" }]);
    assert.equal(web.targetGroups[0].port, 31080);
    assert.deepEqual(web.targetGroups[0].healthCheck, {
      protocol: "HTTP",
      port: 32100,
      path: "/healthz",
      intervalSeconds: 10,
      timeoutSeconds: 6,
      healthyThresholdCount: 2,
      unhealthyThresholdCount: 2,
      matcher: { httpCode: "200-399" },
    });
    assert.deepEqual(web.targetGroups[0].targets, [{ id: "i-0123456789abcdef0", port: 31080 }]);
    assert.equal(api.targetGroups[0].targetType, "ip");
    assert.deepEqual(api.targetGroups[0].targets, [{ id: "10.0.1.5", port: 9000 }]);
    assert.match(r.stderr, /shop\/metal/);
  });

  it("prints a readable table by default", () => {
    const r = cli(["plan", "-f", file("ok2.yaml", MANIFEST), "--cluster-name", "prod"]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /service shop\/web/);
    assert.match(r.stdout, /listener TCP:80 -> shop\/web:80/);
  });

  it("exits 1 with one line per problem naming the object and the annotation", () => {
    const bad = MANIFEST.replace(
      "service.beta.kubernetes.io/aws-load-balancer-nlb-target-type: ip",
      "service.beta.kubernetes.io/aws-load-balancer-nlb-target-type: ip\n    service.beta.kubernetes.io/aws-load-balancer-healthcheck-interval: '999'\n    service.beta.kubernetes.io/aws-load-balancer-scheme: public",
    );
    const r = cli(["plan", "-f", file("bad.yaml", bad), "--cluster-name", "prod", "-o", "json"]);
    assert.equal(r.code, 1);
    const lines = r.stderr
      .trim()
      .split("\n")
      .filter((l) => !l.startsWith("not selected"));
    assert.equal(lines.length, 2, r.stderr);
    assert.ok(lines.every((l) => l.includes("shop/api")));
    assert.ok(lines.some((l) => l.includes("healthcheck-interval") && l.includes('"999"')));
    assert.ok(lines.some((l) => l.includes("aws-load-balancer-scheme") && l.includes('"public"')));
    assert.equal(r.stdout, "");
  });
});

describe("flags", () => {
  const cases: [string[], RegExp][] = [
    [["run"], /--cluster-name is required/],
    [["run", "--cluster-name", "bad name!"], /--cluster-name: "bad name!"/],
    [
      ["run", "--cluster-name", "c", "--concurrency", "zero"],
      /--concurrency: "zero" is not valid: a whole number from 1 to 64/,
    ],
    [
      ["run", "--cluster-name", "c", "--default-target-type", "pod"],
      /--default-target-type: "pod" is not valid: one of instance, ip/,
    ],
    [["run", "--cluster-name", "c", "--target-batch-window", "fast"], /--target-batch-window: "fast"/],
    [["run", "--cluster-name", "c", "--vpc-id", "vpc-xyz"], /--vpc-id: "vpc-xyz"/],
    [["run", "--cluster-name", "c", "--aws-endpoint-url", "ftp://x"], /--aws-endpoint-url/],
    [["run", "--cluster-name", "c", "--bogus"], /unknown option '--bogus'/],
    [["plan", "--cluster-name", "c"], /--filename \(-f\) is required/],
  ];
  for (const [args, message] of cases) {
    it(`${args.join(" ")} -> exit 2, one line`, () => {
      const r = cli(args, { KUBECONFIG: "/nonexistent" });
      assert.equal(r.code, 2, r.stderr);
      assert.match(r.stderr, message);
      assert.equal(r.stderr.trim().split("\n").length, 1, r.stderr);
    });
  }
});
