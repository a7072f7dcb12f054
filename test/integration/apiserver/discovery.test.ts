import assert from "node:assert/strict";
import { test } from "node:test";
import { KubernetesObjectApi, type V1APIResourceList, type V1Service } from "@kubernetes/client-node";
import { at, type Body, call, everywhere, expectStatus, kubeConfig, send, serve } from "./harness.ts";

/** The named groups the emulator serves, each at its preferred version. */
const servedGroups: [string, string][] = [
  ["coordination.k8s.io", "coordination.k8s.io/v1"],
  ["discovery.k8s.io", "discovery.k8s.io/v1"],
  ["events.k8s.io", "events.k8s.io/v1"],
];

test("/version answers like kube-apiserver 1.34", everywhere, async (t) => {
  const target = await serve(t);
  const version = await expectStatus(target, 200, "GET", "/version");
  assert.equal(version.major, "1");
  assert.equal(version.minor, "34");
  assert.match(String(version.gitVersion), /^v1\.34\.\d+/);
  assert.match(String(version.goVersion), /^go1\.\d+/);
  assert.match(String(version.platform), /^linux\//);
});

test("/api lists v1 and /apis lists the named groups", everywhere, async (t) => {
  const target = await serve(t);
  const api = await expectStatus(target, 200, "GET", "/api");
  assert.equal(api.kind, "APIVersions");
  assert.deepEqual(api.versions, ["v1"]);
  const apis = await expectStatus(target, 200, "GET", "/apis");
  assert.equal(apis.kind, "APIGroupList");
  assert.equal(apis.apiVersion, "v1");
  const groups = new Map(
    (apis.groups as { name: string; preferredVersion: { groupVersion: string } }[]).map((g) => [
      g.name,
      g.preferredVersion.groupVersion,
    ]),
  );
  for (const [name, preferred] of servedGroups) assert.equal(groups.get(name), preferred, name);
  const group = await expectStatus(target, 200, "GET", "/apis/discovery.k8s.io");
  assert.equal(group.kind, "APIGroup");
  assert.equal(group.apiVersion, "v1");
  assert.equal(group.name, "discovery.k8s.io");
  assert.deepEqual(group.versions, [{ groupVersion: "discovery.k8s.io/v1", version: "v1" }]);
});

test("/api/v1 describes each resource with verbs, scope, kind and short names", everywhere, async (t) => {
  const target = await serve(t);
  const list = await expectStatus<V1APIResourceList>(target, 200, "GET", "/api/v1");
  assert.equal(list.groupVersion, "v1");
  const byName = new Map(list.resources.map((r) => [r.name, r]));
  const expectations: [string, string, boolean, string[] | undefined][] = [
    ["namespaces", "Namespace", false, ["ns"]],
    ["services", "Service", true, ["svc"]],
    ["nodes", "Node", false, ["no"]],
    ["pods", "Pod", true, ["po"]],
    ["events", "Event", true, ["ev"]],
    ["configmaps", "ConfigMap", true, ["cm"]],
  ];
  for (const [name, kind, namespaced, shortNames] of expectations) {
    const r = byName.get(name);
    assert.ok(r, `${name} is listed`);
    assert.equal(r.kind, kind);
    assert.equal(r.namespaced, namespaced);
    assert.deepEqual(r.shortNames, shortNames);
    assert.equal(r.singularName, kind.toLowerCase());
    for (const verb of ["create", "delete", "get", "list", "patch", "update", "watch"])
      assert.ok(r.verbs.includes(verb), `${name} ${verb}`);
  }
  for (const sub of ["services/status", "nodes/status", "pods/status", "namespaces/status"]) {
    assert.deepEqual(byName.get(sub)?.verbs, ["get", "patch", "update"], sub);
  }
  assert.ok(!byName.get("namespaces")?.verbs.includes("deletecollection"));
  assert.deepEqual(byName.get("pods")?.categories, ["all"]);
  assert.deepEqual(byName.get("services")?.categories, ["all"]);
});

test("named group versions list their resources", everywhere, async (t) => {
  const target = await serve(t);
  const cases: [string, string, string][] = [
    ["/apis/discovery.k8s.io/v1", "endpointslices", "EndpointSlice"],
    ["/apis/coordination.k8s.io/v1", "leases", "Lease"],
    ["/apis/events.k8s.io/v1", "events", "Event"],
  ];
  for (const [path, resource, kind] of cases) {
    const list = await expectStatus<V1APIResourceList>(target, 200, "GET", path);
    const entry = list.resources.find((r) => r.name === resource);
    assert.equal(entry?.kind, kind, path);
    assert.equal(entry?.namespaced, true);
    assert.ok(entry?.verbs.includes("deletecollection"), path);
  }
});

test("aggregated discovery is served when asked for, with its content type", everywhere, async (t) => {
  const target = await serve(t);
  const accept =
    "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList,application/json;g=apidiscovery.k8s.io;v=v2beta1;as=APIGroupDiscoveryList,application/json";
  const coreDoc = await call(target, "GET", "/api", undefined, undefined, { Accept: accept });
  assert.equal(
    coreDoc.headers.get("content-type"),
    "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList",
  );
  assert.equal(coreDoc.body.kind, "APIGroupDiscoveryList");
  assert.equal(coreDoc.body.apiVersion, "apidiscovery.k8s.io/v2");
  const services = (at(coreDoc.body, "items.0.versions.0.resources") as Body[]).find(
    (r) => r.resource === "services",
  );
  assert.equal(at(services, "scope"), "Namespaced");
  assert.equal(at(services, "singularResource"), "service");
  // Sic: kube-apiserver 1.34 leaves responseKind's group and version empty.
  assert.deepEqual(at(services, "responseKind"), { group: "", version: "", kind: "Service" });
  const status = (at(services, "subresources") as Body[]).find((r) => r.subresource === "status");
  assert.deepEqual(status, {
    subresource: "status",
    responseKind: { group: "", version: "", kind: "Service" },
    verbs: ["get", "patch", "update"],
  });
  const groups = await call(target, "GET", "/apis", undefined, undefined, { Accept: accept });
  const named = new Set((groups.body.items as Body[]).map((g) => g.metadata?.name));
  for (const [name] of servedGroups) assert.ok(named.has(name), name);
  const plain = await call(target, "GET", "/apis", undefined, undefined, { Accept: "application/json" });
  assert.equal(plain.body.kind, "APIGroupList");
  const beta = await call(target, "GET", "/api", undefined, undefined, {
    Accept: "application/json;g=apidiscovery.k8s.io;v=v2beta1;as=APIGroupDiscoveryList,application/json",
  });
  assert.equal(beta.body.kind, "APIVersions", "1.34 no longer serves apidiscovery.k8s.io/v2beta1");
});

test(
  "unknown versions and resources answer 404 with a Status; unknown groups and paths in plain text",
  everywhere,
  async (t) => {
    const target = await serve(t);
    for (const path of [
      "/api/v2",
      "/api/v1/widgets",
      "/apis/discovery.k8s.io/v2",
      `/api/v1/namespaces/${target.ns}/widgets`,
    ]) {
      const reply = await call(target, "GET", path);
      assert.equal(reply.status, 404, path);
      assert.deepEqual(
        reply.body,
        {
          kind: "Status",
          apiVersion: "v1",
          metadata: {},
          status: "Failure",
          message: "the server could not find the requested resource",
          reason: "NotFound",
          details: {},
          code: 404,
        },
        path,
      );
    }
    for (const path of ["/apis/example.com/v1", "/apis/example.com", "/nothing"]) {
      const res = await send(target, path);
      assert.equal(res.status, 404, path);
      assert.equal(res.headers.get("content-type"), "text/plain; charset=utf-8", path);
      assert.equal(await res.text(), "404 page not found\n", path);
    }
    for (const path of ["/healthz", "/livez", "/readyz"]) {
      const health = await send(target, path);
      assert.equal(await health.text(), "ok", path);
    }
  },
);

test("client-node KubernetesObjectApi resolves resources through discovery", everywhere, async (t) => {
  const target = await serve(t);
  const namespace = target.ns;
  const client = KubernetesObjectApi.makeApiClient(kubeConfig(target));
  const created = await client.create({
    apiVersion: "discovery.k8s.io/v1",
    kind: "EndpointSlice",
    metadata: { name: "web-abc", namespace, labels: { "kubernetes.io/service-name": "web" } },
    addressType: "IPv4",
    endpoints: [{ addresses: ["10.0.0.1"] }],
    ports: [{ name: "http", port: 8080 }],
  } as Body);
  assert.ok(created.metadata?.uid);
  const read = await client.read({
    apiVersion: "discovery.k8s.io/v1",
    kind: "EndpointSlice",
    metadata: { name: "web-abc", namespace },
  });
  assert.equal(read.metadata?.resourceVersion, created.metadata?.resourceVersion);
  const svc = await client.create({
    apiVersion: "v1",
    kind: "Service",
    metadata: { name: "web", namespace },
    spec: { ports: [{ port: 80 }] },
  } as V1Service);
  assert.match(String((svc as V1Service).spec?.clusterIP), /^10\./);
  const patched = await client.patch({
    apiVersion: "v1",
    kind: "Service",
    metadata: { name: "web", namespace, labels: { tier: "web" } },
  });
  assert.equal(patched.metadata?.labels?.tier, "web");
  const slices = await client.list("discovery.k8s.io/v1", "EndpointSlice", namespace);
  assert.deepEqual(
    slices.items.map((s) => s.metadata?.name),
    ["web-abc"],
  );
  await client.delete({ apiVersion: "v1", kind: "Service", metadata: { name: "web", namespace } });
  await assert.rejects(
    client.read({ apiVersion: "v1", kind: "Service", metadata: { name: "web", namespace } }),
    /404|not found/i,
  );
});
