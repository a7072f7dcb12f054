import assert from "node:assert/strict";
import { test } from "node:test";
import type { V1Service, V1Status } from "@kubernetes/client-node";
import { at, call, coreApi, createService, expectStatus, serve } from "./harness.ts";

const web = "/api/v1/namespaces/default/services/web";
const merge = "application/merge-patch+json";
const jsonPatch = "application/json-patch+json";
const strategic = "application/strategic-merge-patch+json";

test("merge patch merges maps, replaces lists and deletes with null", async (t) => {
  const server = await serve(t);
  await createService(
    server,
    "web",
    {
      ports: [
        { name: "a", port: 80 },
        { name: "b", port: 81 },
      ],
    },
    { labels: { keep: "1", drop: "1" } },
  );
  const patched = await expectStatus<V1Service>(
    server,
    200,
    "PATCH",
    web,
    { metadata: { labels: { drop: null, add: "1" } }, spec: { ports: [{ port: 90 }] } },
    merge,
  );
  assert.deepEqual(patched.metadata?.labels, { keep: "1", add: "1" });
  assert.deepEqual(
    patched.spec?.ports?.map((p) => p.port),
    [90],
  );
});

test("JSON patch: add, remove, replace, move, copy and test with pointer escaping", async (t) => {
  const server = await serve(t);
  await createService(server, "web", {}, { labels: { "app.kubernetes.io/name": "web" } });
  const patched = await expectStatus<V1Service>(
    server,
    200,
    "PATCH",
    web,
    [
      { op: "test", path: "/metadata/labels/app.kubernetes.io~1name", value: "web" },
      { op: "add", path: "/metadata/annotations", value: { note: "hi" } },
      { op: "add", path: "/metadata/annotations/a~0b", value: "x" },
      { op: "test", path: "/metadata/annotations", value: { note: "hi", "a~b": "x" } },
      { op: "add", path: "/spec/ports/-", value: { name: "extra", port: 81 } },
      { op: "add", path: "/spec/ports/0/name", value: "main" },
      { op: "replace", path: "/spec/ports/0/port", value: 8080 },
      { op: "copy", from: "/metadata/annotations/a~0b", path: "/metadata/labels/copied" },
      { op: "move", from: "/metadata/annotations/note", path: "/metadata/annotations/moved" },
      { op: "remove", path: "/metadata/annotations/a~0b" },
    ],
    jsonPatch,
  );
  assert.deepEqual(patched.metadata?.labels, { "app.kubernetes.io/name": "web", copied: "x" });
  assert.deepEqual(patched.metadata?.annotations, { moved: "hi" });
  assert.deepEqual(
    patched.spec?.ports?.map((p) => [p.name, p.port]),
    [
      ["main", 8080],
      ["extra", 81],
    ],
  );
});

test("a failed JSON patch test or a bad path is 422 and changes nothing", async (t) => {
  const server = await serve(t);
  const created = await createService(server, "web");
  const failed = await call<V1Status>(
    server,
    "PATCH",
    web,
    [
      { op: "add", path: "/metadata/labels", value: { a: "b" } },
      { op: "test", path: "/spec/type", value: "LoadBalancer" },
    ],
    jsonPatch,
  );
  assert.equal(failed.status, 422);
  assert.equal(failed.body.kind, "Status");
  assert.match(failed.body.message ?? "", /test failed/);
  const missing = await call(
    server,
    "PATCH",
    web,
    [{ op: "remove", path: "/metadata/labels/none" }],
    jsonPatch,
  );
  assert.equal(missing.status, 422);
  const replaceMissing = await call(
    server,
    "PATCH",
    web,
    [{ op: "replace", path: "/spec/nothing", value: 1 }],
    jsonPatch,
  );
  assert.equal(replaceMissing.status, 422);
  const now = await expectStatus<V1Service>(server, 200, "GET", web);
  assert.equal(now.metadata?.resourceVersion, created.metadata?.resourceVersion);
});

test("a JSON patch test on resourceVersion guards against concurrent writers", async (t) => {
  const server = await serve(t);
  const created = await createService(server, "web");
  const rv = created.metadata?.resourceVersion;
  const guarded = [
    { op: "test", path: "/metadata/resourceVersion", value: rv },
    { op: "add", path: "/metadata/labels", value: { step: "1" } },
  ];
  await expectStatus(server, 200, "PATCH", web, guarded, jsonPatch);
  const second = await call(server, "PATCH", web, guarded, jsonPatch);
  assert.equal(second.status, 422);
});

test("a resourceVersion inside a patch is a precondition (409 when stale)", async (t) => {
  const server = await serve(t);
  const created = await createService(server, "web");
  await expectStatus(server, 200, "PATCH", web, { metadata: { labels: { a: "1" } } }, merge);
  const stale = await call<V1Status>(
    server,
    "PATCH",
    web,
    { metadata: { resourceVersion: created.metadata?.resourceVersion, labels: { a: "2" } } },
    merge,
  );
  assert.equal(stale.status, 409);
  assert.equal(stale.body.reason, "Conflict");
});

test("strategic merge patch merges finalizers and keyed lists", async (t) => {
  const server = await serve(t);
  await createService(
    server,
    "web",
    {
      ports: [
        { name: "http", port: 80 },
        { name: "https", port: 443 },
      ],
    },
    { finalizers: ["example.com/a"], labels: { keep: "1" } },
  );
  const patched = await expectStatus<V1Service>(
    server,
    200,
    "PATCH",
    web,
    {
      metadata: { finalizers: ["example.com/b"], labels: { add: "1" } },
      spec: {
        ports: [
          { port: 443, targetPort: 8443 },
          { port: 80, $patch: "delete" },
          { name: "admin", port: 9000 },
        ],
      },
    },
    strategic,
  );
  assert.deepEqual(patched.metadata?.finalizers, ["example.com/a", "example.com/b"]);
  assert.deepEqual(patched.metadata?.labels, { keep: "1", add: "1" });
  assert.deepEqual(
    patched.spec?.ports?.map((p) => [p.name, p.port, p.targetPort]),
    [
      ["https", 443, 8443],
      ["admin", 9000, 9000],
    ],
  );
  const removed = await expectStatus<V1Service>(
    server,
    200,
    "PATCH",
    web,
    { metadata: { "$deleteFromPrimitiveList/finalizers": ["example.com/a"] } },
    strategic,
  );
  assert.deepEqual(removed.metadata?.finalizers, ["example.com/b"]);
  const replaced = await expectStatus<V1Service>(
    server,
    200,
    "PATCH",
    web,
    { spec: { ports: [{ $patch: "replace" }, { port: 1 }] } },
    strategic,
  );
  assert.deepEqual(
    replaced.spec?.ports?.map((p) => p.port),
    [1],
  );
  const selectorSwap = await expectStatus<V1Service>(
    server,
    200,
    "PATCH",
    web,
    { spec: { selector: { $patch: "replace", app: "new" } } },
    strategic,
  );
  assert.deepEqual(selectorSwap.spec?.selector, { app: "new" });
});

test("patch types the server does not take are 415", async (t) => {
  const server = await serve(t);
  await createService(server, "web");
  const apply = await call<V1Status>(server, "PATCH", web, "metadata: {}", "application/apply-patch+yaml");
  assert.equal(apply.status, 415);
  assert.equal(apply.body.reason, "UnsupportedMediaType");
  const other = await call(server, "PATCH", web, "{}", "text/plain");
  assert.equal(other.status, 415);
  const none = await fetch(server.url + web, { method: "PATCH", body: "{}" });
  assert.equal(none.status, 415);
});

test("patching a missing object is 404; a patch that breaks validation is 422", async (t) => {
  const server = await serve(t);
  await createService(server, "web");
  const missing = await call(server, "PATCH", "/api/v1/namespaces/default/services/none", {}, merge);
  assert.equal(missing.status, 404);
  const invalid = await call<V1Status>(server, "PATCH", web, { spec: { type: "Bogus" } }, merge);
  assert.equal(invalid.status, 422);
  assert.equal(at(invalid.body, "details.causes.0.field"), "spec.type");
  const garbage = await call(server, "PATCH", web, "{not json", merge);
  assert.equal(garbage.status, 400);
});

test("client-node patch (JSON patch by default) and status patches work", async (t) => {
  const server = await serve(t);
  await createService(server, "web", { type: "LoadBalancer" });
  const core = coreApi(server);
  const patched = await core.patchNamespacedService({
    name: "web",
    namespace: "default",
    body: [{ op: "add", path: "/metadata/labels", value: { patched: "yes" } }],
  });
  assert.equal(patched.metadata?.labels?.patched, "yes");
  const status = await core.patchNamespacedServiceStatus({
    name: "web",
    namespace: "default",
    body: [
      {
        op: "replace",
        path: "/status/loadBalancer",
        value: { ingress: [{ hostname: "k8s-default-web-0123456789.elb.us-east-1.amazonaws.com" }] },
      },
    ],
  });
  assert.equal(
    status.status?.loadBalancer?.ingress?.[0]?.hostname,
    "k8s-default-web-0123456789.elb.us-east-1.amazonaws.com",
  );
});
