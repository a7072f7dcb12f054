import assert from "node:assert/strict";
import { test } from "node:test";
import type { V1Status } from "@kubernetes/client-node";
import type { ApiServer } from "../../../src/sandbox/apiserver/index.ts";
import { call, expectStatus, serve, service } from "./harness.ts";

async function invalid(server: ApiServer, path: string, body: unknown): Promise<V1Status> {
  const reply = await call<V1Status>(server, "POST", path, body);
  assert.equal(reply.status, 422, `expected 422 Invalid, got ${reply.status}: ${JSON.stringify(reply.body)}`);
  assert.equal(reply.body.reason, "Invalid");
  return reply.body;
}

function fields(status: V1Status): string[] {
  return (status.details?.causes ?? []).map((c) => c.field ?? "");
}

test("names follow the rule of each kind", async (t) => {
  const server = await serve(t);
  const services = "/api/v1/namespaces/default/services";
  const svc = await invalid(server, services, service("1web"));
  assert.match(
    svc.message ?? "",
    /^Service "1web" is invalid: metadata.name: Invalid value: "1web": a DNS-1035 label/,
  );
  assert.deepEqual(svc.details?.causes?.[0], {
    reason: "FieldValueInvalid",
    message: svc.message?.replace('Service "1web" is invalid: metadata.name: ', ""),
    field: "metadata.name",
  });
  assert.equal(svc.details?.kind, "Service");
  await invalid(server, services, service("Web"));
  await invalid(server, services, service("a".repeat(64)));
  await invalid(server, "/api/v1/namespaces", { metadata: { name: "has.dot" } });
  await expectStatus(server, 201, "POST", "/api/v1/nodes", {
    metadata: { name: "ip-10-0-0-1.ec2.internal" },
  });
  await invalid(server, "/api/v1/nodes", { metadata: { name: "UPPER" } });
  await expectStatus(server, 201, "POST", "/apis/discovery.k8s.io/v1/namespaces/default/endpointslices", {
    metadata: { name: "web.abc-1" },
    addressType: "IPv4",
    endpoints: [],
  });
});

test("labels, annotations and finalizers must be qualified names", async (t) => {
  const server = await serve(t);
  const path = "/api/v1/namespaces/default/services";
  const badLabel = await invalid(server, path, service("a", {}, { labels: { "bad key!": "v" } }));
  assert.deepEqual(fields(badLabel), ["metadata.labels"]);
  await invalid(server, path, service("b", {}, { labels: { ok: "bad value!" } }));
  await invalid(server, path, service("c", {}, { annotations: { "/nope": "v" } }));
  await invalid(server, path, service("d", {}, { finalizers: ["not a finalizer"] }));
  const wrongType = await call(server, "POST", path, service("e", {}, { labels: { n: 1 } }));
  assert.equal(wrongType.status, 400, "a label value that is not a string fails decoding");
  await expectStatus(
    server,
    201,
    "POST",
    path,
    service("f", {}, { labels: { "app.kubernetes.io/name": "f", empty: "" } }),
  );
});

test("Service spec rules: ports, types, policies and class", async (t) => {
  const server = await serve(t);
  const path = "/api/v1/namespaces/default/services";
  const cases: [Record<string, unknown>, string][] = [
    [{ ports: [] }, "spec.ports"],
    [{ ports: [{ port: 0 }] }, "spec.ports[0].port"],
    [{ ports: [{ port: 70000 }] }, "spec.ports[0].port"],
    [{ ports: [{ port: 80, protocol: "ICMP" }] }, "spec.ports[0].protocol"],
    [{ ports: [{ port: 80 }, { port: 81 }] }, "spec.ports[0].name"],
    [
      {
        ports: [
          { name: "a", port: 80 },
          { name: "a", port: 81 },
        ],
      },
      "spec.ports[1].name",
    ],
    [
      {
        ports: [
          { name: "a", port: 80 },
          { name: "b", port: 80 },
        ],
      },
      "spec.ports[1]",
    ],
    [{ ports: [{ port: 80, targetPort: "Not_Valid" }] }, "spec.ports[0].targetPort"],
    [{ type: "Bogus" }, "spec.type"],
    [{ ports: [{ port: 80, nodePort: 30080 }] }, "spec.ports[0].nodePort"],
    [{ externalTrafficPolicy: "Local" }, "spec.externalTrafficPolicy"],
    [{ type: "NodePort", externalTrafficPolicy: "Sometimes" }, "spec.externalTrafficPolicy"],
    [{ loadBalancerClass: "service.k8s.aws/nlb" }, "spec.loadBalancerClass"],
    [{ type: "LoadBalancer", loadBalancerSourceRanges: ["10.0.0.0/33"] }, "spec.loadBalancerSourceRanges[0]"],
    [{ sessionAffinity: "Sticky" }, "spec.sessionAffinity"],
    [{ ipFamilies: ["IPv6"] }, "spec.ipFamilies[0]"],
    [{ ipFamilyPolicy: "RequireDualStack" }, "spec.ipFamilyPolicy"],
    [{ type: "ExternalName" }, "spec.externalName"],
    [{ type: "ClusterIP", healthCheckNodePort: 30000 }, "spec.healthCheckNodePort"],
  ];
  for (const [spec, field] of cases) {
    const status = await invalid(server, path, service("x", spec));
    assert.ok(
      fields(status).includes(field),
      `${JSON.stringify(spec)} -> ${field}, got ${fields(status).join(",")}`,
    );
  }
  await expectStatus(server, 201, "POST", path, service("headless", { clusterIP: "None", ports: [] }));
  await expectStatus(server, 201, "POST", path, {
    metadata: { name: "ext" },
    spec: { type: "ExternalName", externalName: "example.com" },
  });
});

test("loadBalancerClass may not change on a LoadBalancer Service", async (t) => {
  const server = await serve(t);
  const path = "/api/v1/namespaces/default/services";
  await expectStatus(
    server,
    201,
    "POST",
    path,
    service("lb", { type: "LoadBalancer", loadBalancerClass: "service.k8s.aws/nlb" }),
  );
  const changed = await call<V1Status>(
    server,
    "PATCH",
    `${path}/lb`,
    { spec: { loadBalancerClass: "other.io/lb" } },
    "application/merge-patch+json",
  );
  assert.equal(changed.status, 422);
  assert.match(changed.body.message ?? "", /may not change once set/);
  await expectStatus(server, 201, "POST", path, service("plain", { type: "LoadBalancer" }));
  const added = await call(
    server,
    "PATCH",
    `${path}/plain`,
    { spec: { loadBalancerClass: "service.k8s.aws/nlb" } },
    "application/merge-patch+json",
  );
  assert.equal(added.status, 422, "a class cannot be added to an existing LoadBalancer either");
});

test("EndpointSlice rules: address type, addresses and ports", async (t) => {
  const server = await serve(t);
  const path = "/apis/discovery.k8s.io/v1/namespaces/default/endpointslices";
  const cases: [Record<string, unknown>, string][] = [
    [{ endpoints: [] }, "addressType"],
    [{ addressType: "IPv5", endpoints: [] }, "addressType"],
    [{ addressType: "IPv4", endpoints: [{ addresses: [] }] }, "endpoints[0].addresses"],
    [{ addressType: "IPv4", endpoints: [{ addresses: ["fe80::1"] }] }, "endpoints[0].addresses[0]"],
    [
      { addressType: "IPv4", endpoints: [{ addresses: ["10.0.0.1"], conditions: { ready: "yes" } }] },
      "endpoints[0].conditions.ready",
    ],
    [{ addressType: "IPv4", endpoints: [], ports: [{ name: "Bad_Name", port: 80 }] }, "ports[0].name"],
  ];
  for (const [body, field] of cases) {
    const status = await invalid(server, path, { metadata: { name: "s" }, ...body });
    assert.ok(
      fields(status).includes(field),
      `${JSON.stringify(body)} -> ${field}, got ${fields(status).join(",")}`,
    );
  }
  const created = await expectStatus(server, 201, "POST", path, {
    metadata: { name: "ok", labels: { "kubernetes.io/service-name": "web" } },
    addressType: "IPv4",
    endpoints: [{ addresses: ["10.0.0.1"], conditions: { ready: true }, nodeName: "n1", zone: "us-east-1a" }],
    ports: [{ name: "http", port: 8080 }],
  });
  assert.deepEqual(created.ports, [{ name: "http", port: 8080, protocol: "TCP" }]);
  const retyped = await call(
    server,
    "PATCH",
    `${path}/ok`,
    { addressType: "IPv6" },
    "application/merge-patch+json",
  );
  assert.equal(retyped.status, 422, "addressType is immutable");
});

test("malformed bodies are 400 and unknown body types 415", async (t) => {
  const server = await serve(t);
  const path = "/api/v1/namespaces/default/services";
  assert.equal((await call(server, "POST", path, "{nope")).status, 400);
  assert.equal((await call(server, "POST", path, "[]")).status, 400);
  assert.equal((await call(server, "POST", path, "{}", "application/vnd.kubernetes.protobuf")).status, 415);
  const yaml = await call(
    server,
    "POST",
    path,
    "metadata:\n  name: from-yaml\nspec:\n  ports:\n  - port: 80\n",
    "application/yaml",
  );
  assert.equal(yaml.status, 201, "YAML bodies are accepted");
});
