import assert from "node:assert/strict";
import { test } from "node:test";
import type { V1Service, V1Status } from "@kubernetes/client-node";
import {
  at,
  call,
  core,
  coreApi,
  createService,
  emulatorOnly,
  everywhere,
  expectStatus,
  send,
  serve,
} from "./harness.ts";

const merge = "application/merge-patch+json";
const jsonPatch = "application/json-patch+json";
const strategic = "application/strategic-merge-patch+json";

test("merge patch merges maps, replaces lists and deletes with null", everywhere, async (t) => {
  const target = await serve(t);
  const web = `${core(target, "services")}/web`;
  await createService(
    target,
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
    target,
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

test("JSON patch: add, remove, replace, move, copy and test with pointer escaping", everywhere, async (t) => {
  const target = await serve(t);
  const web = `${core(target, "services")}/web`;
  await createService(target, "web", {}, { labels: { "app.kubernetes.io/name": "web" } });
  const patched = await expectStatus<V1Service>(
    target,
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

test("a failed JSON patch test or a bad path is 422 and changes nothing", everywhere, async (t) => {
  const target = await serve(t);
  const web = `${core(target, "services")}/web`;
  const created = await createService(target, "web");
  const failed = await call<V1Status>(
    target,
    "PATCH",
    web,
    [
      { op: "add", path: "/metadata/labels", value: { a: "b" } },
      { op: "test", path: "/spec/type", value: "LoadBalancer" },
    ],
    jsonPatch,
  );
  // The real server says no more than this: no cause, not even which operation failed.
  const rejected = {
    kind: "Status",
    apiVersion: "v1",
    metadata: {},
    status: "Failure",
    message: "the server rejected our request due to an error in our request",
    reason: "Invalid",
    details: {},
    code: 422,
  };
  assert.deepEqual(failed.body, rejected);
  for (const bad of [[{ op: "remove", path: "/metadata/labels/none" }], [{ op: "frob", path: "/spec" }]]) {
    const reply = await call(target, "PATCH", web, bad, jsonPatch);
    assert.deepEqual(reply.body, rejected, JSON.stringify(bad));
  }
  const notAList = await call<V1Status>(target, "PATCH", web, { op: "add" }, jsonPatch);
  assert.equal(notAList.status, 400);
  assert.equal(
    notAList.body.message,
    "error decoding patch: json: cannot unmarshal object into Go value of type []handlers.jsonPatchOp",
  );
  const now = await expectStatus<V1Service>(target, 200, "GET", web);
  assert.equal(now.metadata?.resourceVersion, created.metadata?.resourceVersion);
  // json-patch v4, which kube-apiserver uses, lets "replace" set a member that is missing.
  const replaced = await expectStatus<V1Service>(
    target,
    200,
    "PATCH",
    web,
    [{ op: "replace", path: "/metadata/annotations", value: { set: "by-replace" } }],
    jsonPatch,
  );
  assert.deepEqual(replaced.metadata?.annotations, { set: "by-replace" });
});

test("a JSON patch test on resourceVersion guards against concurrent writers", everywhere, async (t) => {
  const target = await serve(t);
  const web = `${core(target, "services")}/web`;
  const created = await createService(target, "web");
  const rv = created.metadata?.resourceVersion;
  const guarded = [
    { op: "test", path: "/metadata/resourceVersion", value: rv },
    { op: "add", path: "/metadata/labels", value: { step: "1" } },
  ];
  await expectStatus(target, 200, "PATCH", web, guarded, jsonPatch);
  const second = await call(target, "PATCH", web, guarded, jsonPatch);
  assert.equal(second.status, 422);
});

test("a resourceVersion inside a patch is a precondition (409 when stale)", everywhere, async (t) => {
  const target = await serve(t);
  const web = `${core(target, "services")}/web`;
  const created = await createService(target, "web");
  await expectStatus(target, 200, "PATCH", web, { metadata: { labels: { a: "1" } } }, merge);
  const stale = await call<V1Status>(
    target,
    "PATCH",
    web,
    { metadata: { resourceVersion: created.metadata?.resourceVersion, labels: { a: "2" } } },
    merge,
  );
  assert.equal(stale.status, 409);
  assert.equal(stale.body.reason, "Conflict");
});

test("strategic merge patch merges finalizers and keyed lists", everywhere, async (t) => {
  const target = await serve(t);
  const web = `${core(target, "services")}/web`;
  await createService(
    target,
    "web",
    {
      ports: [
        { name: "http", port: 80 },
        { name: "https", port: 443 },
      ],
    },
    { finalizers: ["example.com/a"], labels: { keep: "1" } },
  );
  await expectStatus(target, 200, "PATCH", web, { spec: { selector: { app: "old", tier: "x" } } }, merge);
  const patched = await expectStatus<V1Service>(
    target,
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
  // Merged lists put the patch's items first unless the original orders them (normalizeElementOrder).
  assert.deepEqual(patched.metadata?.finalizers, ["example.com/b", "example.com/a"]);
  assert.deepEqual(patched.metadata?.labels, { keep: "1", add: "1" });
  assert.deepEqual(
    patched.spec?.ports?.map((p) => [p.name, p.port, p.targetPort]),
    [
      ["https", 443, 8443],
      ["admin", 9000, 9000],
    ],
  );
  const removed = await expectStatus<V1Service>(
    target,
    200,
    "PATCH",
    web,
    { metadata: { "$deleteFromPrimitiveList/finalizers": ["example.com/a"] } },
    strategic,
  );
  assert.deepEqual(removed.metadata?.finalizers, ["example.com/b"]);
  const replaced = await expectStatus<V1Service>(
    target,
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
    target,
    200,
    "PATCH",
    web,
    { spec: { selector: { $patch: "replace", app: "new" } } },
    strategic,
  );
  assert.deepEqual(selectorSwap.spec?.selector, { app: "new" });
});

test("patch types the server does not take are 415; apply needs a fieldManager", everywhere, async (t) => {
  const target = await serve(t);
  const web = `${core(target, "services")}/web`;
  await createService(target, "web");
  const apply = await call<V1Status>(target, "PATCH", web, "metadata: {}", "application/apply-patch+yaml");
  assert.equal(apply.status, 422);
  assert.deepEqual(apply.body.details, {
    group: "meta.k8s.io",
    kind: "PatchOptions",
    causes: [
      {
        reason: "FieldValueRequired",
        message: "Required value: is required for apply patch",
        field: "fieldManager",
      },
    ],
  });
  const unsupported = {
    kind: "Status",
    apiVersion: "v1",
    metadata: {},
    status: "Failure",
    message: "415: Unsupported Media Type",
    reason: "UnsupportedMediaType",
    details: {},
    code: 415,
  };
  const other = await call(target, "PATCH", web, "{}", "text/plain");
  assert.deepEqual(other.body, unsupported);
  const none = await send(target, web, { method: "PATCH", body: "{}" });
  assert.equal(none.status, 415);
  assert.deepEqual(await none.json(), unsupported);
});

test(
  "server-side apply is refused with 415",
  emulatorOnly(
    "the emulator does not implement server-side apply, which kube-apiserver serves; the controller uses merge, strategic and JSON patches",
  ),
  async (t) => {
    const target = await serve(t);
    const web = `${core(target, "services")}/web`;
    await createService(target, "web");
    const apply = await call<V1Status>(
      target,
      "PATCH",
      `${web}?fieldManager=test`,
      "apiVersion: v1\nkind: Service\nmetadata:\n  name: web\n",
      "application/apply-patch+yaml",
    );
    assert.equal(apply.status, 415);
    assert.equal(apply.body.reason, "UnsupportedMediaType");
  },
);

test("patching a missing object is 404; a patch that breaks validation is 422", everywhere, async (t) => {
  const target = await serve(t);
  const web = `${core(target, "services")}/web`;
  await createService(target, "web");
  const missing = await call(target, "PATCH", `${core(target, "services")}/none`, {}, merge);
  assert.equal(missing.status, 404);
  const invalid = await call<V1Status>(target, "PATCH", web, { spec: { type: "Bogus" } }, merge);
  assert.equal(invalid.status, 422);
  assert.equal(at(invalid.body, "details.causes.0.field"), "spec.type");
  const garbage = await call(target, "PATCH", web, "{not json", merge);
  assert.equal(garbage.status, 400);
});

test("client-node patch (JSON patch by default) and status patches work", everywhere, async (t) => {
  const target = await serve(t);
  await createService(target, "web", { type: "LoadBalancer" });
  const api = coreApi(target);
  const patched = await api.patchNamespacedService({
    name: "web",
    namespace: target.ns,
    body: [{ op: "add", path: "/metadata/labels", value: { patched: "yes" } }],
  });
  assert.equal(patched.metadata?.labels?.patched, "yes");
  const status = await api.patchNamespacedServiceStatus({
    name: "web",
    namespace: target.ns,
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
