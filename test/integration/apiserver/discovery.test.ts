import assert from "node:assert/strict";
import { test } from "node:test";
import { KubernetesObjectApi, type V1APIResourceList, type V1Service } from "@kubernetes/client-node";
import { at, type Body, call, expectStatus, kubeConfig, serve } from "./harness.ts";

test("/version answers like kube-apiserver 1.32", async (t) => {
  const server = await serve(t);
  const version = await expectStatus(server, 200, "GET", "/version");
  assert.equal(version.major, "1");
  assert.equal(version.minor, "32");
  assert.match(String(version.gitVersion), /^v1\.32\.\d+/);
});

test("/api lists v1 and /apis lists the named groups", async (t) => {
  const server = await serve(t);
  const api = await expectStatus(server, 200, "GET", "/api");
  assert.equal(api.kind, "APIVersions");
  assert.deepEqual(api.versions, ["v1"]);
  const apis = await expectStatus(server, 200, "GET", "/apis");
  assert.equal(apis.kind, "APIGroupList");
  const groups = (apis.groups as { name: string; preferredVersion: { groupVersion: string } }[]).map((g) => [
    g.name,
    g.preferredVersion.groupVersion,
  ]);
  assert.deepEqual(groups.sort(), [
    ["coordination.k8s.io", "coordination.k8s.io/v1"],
    ["discovery.k8s.io", "discovery.k8s.io/v1"],
    ["events.k8s.io", "events.k8s.io/v1"],
  ]);
  const group = await expectStatus(server, 200, "GET", "/apis/discovery.k8s.io");
  assert.equal(group.kind, "APIGroup");
  assert.equal(group.name, "discovery.k8s.io");
});

test("/api/v1 describes each resource with verbs, scope, kind and short names", async (t) => {
  const server = await serve(t);
  const list = await expectStatus<V1APIResourceList>(server, 200, "GET", "/api/v1");
  assert.equal(list.groupVersion, "v1");
  const byName = new Map(list.resources.map((r) => [r.name, r]));
  const expectations: [string, string, boolean, string[]][] = [
    ["namespaces", "Namespace", false, ["ns"]],
    ["services", "Service", true, ["svc"]],
    ["nodes", "Node", false, ["no"]],
    ["pods", "Pod", true, ["po"]],
    ["events", "Event", true, ["ev"]],
  ];
  for (const [name, kind, namespaced, shortNames] of expectations) {
    const r = byName.get(name);
    assert.ok(r, `${name} is listed`);
    assert.equal(r.kind, kind);
    assert.equal(r.namespaced, namespaced);
    assert.deepEqual(r.shortNames, shortNames);
    for (const verb of ["create", "delete", "get", "list", "patch", "update", "watch"])
      assert.ok(r.verbs.includes(verb));
  }
  for (const sub of ["services/status", "nodes/status", "pods/status", "namespaces/status"]) {
    assert.deepEqual(byName.get(sub)?.verbs, ["get", "patch", "update"], sub);
  }
  assert.ok(!byName.get("namespaces")?.verbs.includes("deletecollection"));
});

test("named group versions list their resources", async (t) => {
  const server = await serve(t);
  const cases: [string, string, string][] = [
    ["/apis/discovery.k8s.io/v1", "endpointslices", "EndpointSlice"],
    ["/apis/coordination.k8s.io/v1", "leases", "Lease"],
    ["/apis/events.k8s.io/v1", "events", "Event"],
  ];
  for (const [path, resource, kind] of cases) {
    const list = await expectStatus<V1APIResourceList>(server, 200, "GET", path);
    const entry = list.resources.find((r) => r.name === resource);
    assert.equal(entry?.kind, kind, path);
    assert.equal(entry?.namespaced, true);
  }
});

test("aggregated discovery is served when asked for, with its content type", async (t) => {
  const server = await serve(t);
  const accept =
    "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList,application/json;g=apidiscovery.k8s.io;v=v2beta1;as=APIGroupDiscoveryList,application/json";
  const core = await call(server, "GET", "/api", undefined, undefined, { Accept: accept });
  assert.equal(
    core.headers.get("content-type"),
    "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList",
  );
  assert.equal(core.body.kind, "APIGroupDiscoveryList");
  const services = (at(core.body, "items.0.versions.0.resources") as Body[]).find(
    (r) => r.resource === "services",
  );
  assert.equal(at(services, "scope"), "Namespaced");
  assert.equal(at(services, "responseKind.kind"), "Service");
  assert.equal(at(services, "subresources.0.subresource"), "status");
  const groups = await call(server, "GET", "/apis", undefined, undefined, { Accept: accept });
  const names = (groups.body.items as Body[]).map((g) => g.metadata?.name).sort();
  assert.deepEqual(names, ["coordination.k8s.io", "discovery.k8s.io", "events.k8s.io"]);
  const plain = await call(server, "GET", "/apis", undefined, undefined, { Accept: "application/json" });
  assert.equal(plain.body.kind, "APIGroupList");
});

test("unknown paths, groups and resources answer 404 with a Status", async (t) => {
  const server = await serve(t);
  for (const path of ["/apis/apps/v1", "/api/v2", "/api/v1/widgets", "/openapi/v2", "/nothing"]) {
    const reply = await call(server, "GET", path);
    assert.equal(reply.status, 404, path);
    assert.equal(reply.body.kind, "Status");
    assert.equal(reply.body.reason, "NotFound");
  }
  const health = await fetch(`${server.url}/healthz`);
  assert.equal(await health.text(), "ok");
});

test("client-node KubernetesObjectApi resolves resources through discovery", async (t) => {
  const server = await serve(t);
  const client = KubernetesObjectApi.makeApiClient(kubeConfig(server));
  const created = await client.create({
    apiVersion: "discovery.k8s.io/v1",
    kind: "EndpointSlice",
    metadata: { name: "web-abc", namespace: "default", labels: { "kubernetes.io/service-name": "web" } },
    addressType: "IPv4",
    endpoints: [{ addresses: ["10.0.0.1"] }],
    ports: [{ name: "http", port: 8080 }],
  } as Body);
  assert.ok(created.metadata?.uid);
  const read = await client.read({
    apiVersion: "discovery.k8s.io/v1",
    kind: "EndpointSlice",
    metadata: { name: "web-abc", namespace: "default" },
  });
  assert.equal(read.metadata?.resourceVersion, created.metadata?.resourceVersion);
  const svc = await client.create({
    apiVersion: "v1",
    kind: "Service",
    metadata: { name: "web", namespace: "default" },
    spec: { ports: [{ port: 80 }] },
  } as V1Service);
  assert.match(String((svc as V1Service).spec?.clusterIP), /^10\./);
  const patched = await client.patch({
    apiVersion: "v1",
    kind: "Service",
    metadata: { name: "web", namespace: "default", labels: { tier: "web" } },
  });
  assert.equal(patched.metadata?.labels?.tier, "web");
  const nodes = await client.list("v1", "Node");
  assert.deepEqual(nodes.items, []);
  await client.delete({ apiVersion: "v1", kind: "Service", metadata: { name: "web", namespace: "default" } });
  await assert.rejects(
    client.read({ apiVersion: "v1", kind: "Service", metadata: { name: "web", namespace: "default" } }),
    /404|not found/i,
  );
});
