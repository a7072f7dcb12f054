import assert from "node:assert/strict";
import { test } from "node:test";
import type { V1Service, V1ServiceList, V1Status } from "@kubernetes/client-node";
import {
  at,
  call,
  coreApi,
  createNamespace,
  createService,
  eventually,
  expectStatus,
  names,
  serve,
  service,
} from "./harness.ts";

const svcPath = "/api/v1/namespaces/default/services";

test("a new server has the default namespaces and the kubernetes Service", async (t) => {
  const server = await serve(t);
  const namespaces = await expectStatus<V1ServiceList>(server, 200, "GET", "/api/v1/namespaces");
  assert.deepEqual(names(namespaces), ["default", "kube-node-lease", "kube-public", "kube-system"]);
  const kubernetes = await expectStatus<V1Service>(server, 200, "GET", `${svcPath}/kubernetes`);
  assert.equal(kubernetes.spec?.clusterIP, "10.96.0.1");
});

test("create, get, list, update and delete a Service", async (t) => {
  const server = await serve(t);
  const created = await createService(server, "web", {}, { labels: { app: "web" } });
  assert.equal(created.kind, "Service");
  assert.equal(created.apiVersion, "v1");
  assert.equal(created.metadata?.namespace, "default");

  const got = await expectStatus<V1Service>(server, 200, "GET", `${svcPath}/web`);
  assert.deepEqual(got, created);

  const list = await expectStatus<V1ServiceList>(server, 200, "GET", svcPath);
  assert.equal(list.kind, "ServiceList");
  assert.equal(list.apiVersion, "v1");
  assert.deepEqual(names(list), ["kubernetes", "web"]);
  assert.equal(
    list.metadata?.resourceVersion,
    created.metadata?.resourceVersion,
    "list version is the latest write",
  );
  assert.equal(list.items[1]?.kind, undefined, "list items carry no kind, as in kube-apiserver");

  const changed = structuredClone(got);
  changed.metadata = { ...changed.metadata, labels: { app: "web", tier: "front" } };
  const updated = await expectStatus<V1Service>(server, 200, "PUT", `${svcPath}/web`, changed);
  assert.equal(updated.metadata?.labels?.tier, "front");
  assert.ok(Number(updated.metadata?.resourceVersion) > Number(created.metadata?.resourceVersion));

  const deleted = await expectStatus<V1Service>(server, 200, "DELETE", `${svcPath}/web`);
  assert.equal(deleted.metadata?.name, "web", "Service deletes answer with the object");
  const gone = await call<V1Status>(server, "GET", `${svcPath}/web`);
  assert.equal(gone.status, 404);
  assert.deepEqual(gone.body, {
    kind: "Status",
    apiVersion: "v1",
    metadata: {},
    status: "Failure",
    message: 'services "web" not found',
    reason: "NotFound",
    details: { name: "web", kind: "services" },
    code: 404,
  });
});

test("deleting an object without finalizers answers a Success Status for most kinds", async (t) => {
  const server = await serve(t);
  await expectStatus(server, 201, "POST", "/apis/coordination.k8s.io/v1/namespaces/default/leases", {
    metadata: { name: "l" },
    spec: {},
  });
  const status = await expectStatus<V1Status>(
    server,
    200,
    "DELETE",
    "/apis/coordination.k8s.io/v1/namespaces/default/leases/l",
  );
  assert.equal(status.kind, "Status");
  assert.equal(status.status, "Success");
  assert.equal(status.details?.name, "l");
  assert.equal(status.details?.group, "coordination.k8s.io");
  assert.equal(status.details?.kind, "leases");
});

test("create of an existing name is 409 AlreadyExists", async (t) => {
  const server = await serve(t);
  await createService(server, "web");
  const reply = await call<V1Status>(server, "POST", svcPath, service("web"));
  assert.equal(reply.status, 409);
  assert.equal(reply.body.reason, "AlreadyExists");
  assert.equal(reply.body.message, 'services "web" already exists');
});

test("generateName makes a unique name with a random suffix", async (t) => {
  const server = await serve(t);
  const made = new Set<string>();
  for (let i = 0; i < 5; i++) {
    const body = service("");
    body.metadata = { generateName: "web-" };
    const created = await expectStatus<V1Service>(server, 201, "POST", svcPath, body);
    assert.match(created.metadata?.name ?? "", /^web-[a-z0-9]{5}$/);
    made.add(created.metadata?.name ?? "");
  }
  assert.equal(made.size, 5);
  const missing = await call<V1Status>(server, "POST", svcPath, {
    metadata: {},
    spec: { ports: [{ port: 80 }] },
  });
  assert.equal(missing.status, 422);
  assert.match(missing.body.message ?? "", /metadata.name: Required value: name or generateName is required/);
});

test("update with a stale resourceVersion is 409 Conflict; without one it is unconditional", async (t) => {
  const server = await serve(t);
  const created = await createService(server, "web");
  const first = structuredClone(created);
  first.metadata = { ...first.metadata, labels: { round: "1" } };
  await expectStatus(server, 200, "PUT", `${svcPath}/web`, first);

  const stale = structuredClone(created);
  stale.metadata = { ...stale.metadata, labels: { round: "2" } };
  const reply = await call<V1Status>(server, "PUT", `${svcPath}/web`, stale);
  assert.equal(reply.status, 409);
  assert.equal(reply.body.reason, "Conflict");
  assert.equal(
    reply.body.message,
    'Operation cannot be fulfilled on services "web": the object has been modified; please apply your changes to the latest version and try again',
  );

  const unconditional = structuredClone(stale);
  delete unconditional.metadata?.resourceVersion;
  const forced = await expectStatus<V1Service>(server, 200, "PUT", `${svcPath}/web`, unconditional);
  assert.equal(forced.metadata?.labels?.round, "2");
  assert.equal(
    forced.spec?.clusterIP,
    created.spec?.clusterIP,
    "allocated fields survive a PUT that omits them",
  );
});

test("an update that changes nothing keeps the resourceVersion and emits nothing", async (t) => {
  const server = await serve(t);
  const created = await createService(server, "web");
  const again = await expectStatus<V1Service>(server, 200, "PUT", `${svcPath}/web`, created);
  assert.equal(again.metadata?.resourceVersion, created.metadata?.resourceVersion);
  assert.equal(server.stats().resourceVersion, created.metadata?.resourceVersion);
});

test("the object's name and namespace must agree with the URL", async (t) => {
  const server = await serve(t);
  const created = await createService(server, "web");
  const renamed = { ...created, metadata: { ...created.metadata, name: "other" } };
  const reply = await call<V1Status>(server, "PUT", `${svcPath}/web`, renamed);
  assert.equal(reply.status, 400);
  assert.equal(reply.body.message, "the name of the object (other) does not match the name on the URL (web)");
  const elsewhere = service("x", {}, { namespace: "kube-system" });
  const wrongNs = await call<V1Status>(server, "POST", svcPath, elsewhere);
  assert.equal(wrongNs.status, 400);
  const wrongKind = await call<V1Status>(server, "POST", svcPath, { ...service("y"), kind: "Pod" });
  assert.equal(wrongKind.status, 400);
});

test("creating with a resourceVersion set is refused", async (t) => {
  const server = await serve(t);
  const reply = await call<V1Status>(server, "POST", svcPath, service("web", {}, { resourceVersion: "7" }));
  assert.equal(reply.status, 500);
  assert.match(reply.body.message ?? "", /resourceVersion should not be set on objects to be created/);
});

test("namespaced objects need their namespace; lists of a missing namespace are empty", async (t) => {
  const server = await serve(t);
  const reply = await call<V1Status>(server, "POST", "/api/v1/namespaces/nowhere/services", service("web"));
  assert.equal(reply.status, 404);
  assert.equal(reply.body.message, 'namespaces "nowhere" not found');
  assert.deepEqual(reply.body.details, { name: "nowhere", kind: "namespaces" });
  const list = await expectStatus<V1ServiceList>(server, 200, "GET", "/api/v1/namespaces/nowhere/services");
  assert.deepEqual(list.items, []);
  const get = await call(server, "GET", "/api/v1/namespaces/nowhere/services/web");
  assert.equal(get.status, 404);
});

test("all-namespaces lists span namespaces in namespace/name order", async (t) => {
  const server = await serve(t);
  await createNamespace(server, "team-b");
  await createNamespace(server, "team-a");
  await createService(server, "z", {}, {}, "team-a");
  await createService(server, "a", {}, {}, "team-b");
  const list = await expectStatus<V1ServiceList>(server, 200, "GET", "/api/v1/services");
  assert.deepEqual(
    list.items.map((s) => `${s.metadata?.namespace}/${s.metadata?.name}`),
    ["default/kubernetes", "team-a/z", "team-b/a"],
  );
});

test("limit and continue page through a list at one resourceVersion", async (t) => {
  const server = await serve(t);
  for (const name of ["a", "b", "c", "d"]) await createService(server, name);
  const first = await expectStatus<V1ServiceList>(server, 200, "GET", `${svcPath}?limit=2`);
  assert.deepEqual(names(first), ["a", "b"]);
  const firstToken = at(first, "metadata.continue");
  assert.ok(firstToken, "a continue token is given");
  assert.equal(first.metadata?.remainingItemCount, 3);
  const token = encodeURIComponent(String(firstToken));
  const second = await expectStatus<V1ServiceList>(
    server,
    200,
    "GET",
    `${svcPath}?limit=2&continue=${token}`,
  );
  assert.deepEqual(names(second), ["c", "d"]);
  assert.equal(second.metadata?.resourceVersion, first.metadata?.resourceVersion);
  const token2 = encodeURIComponent(String(at(second, "metadata.continue")));
  const third = await expectStatus<V1ServiceList>(
    server,
    200,
    "GET",
    `${svcPath}?limit=2&continue=${token2}`,
  );
  assert.deepEqual(names(third), ["kubernetes"]);
  assert.equal(at(third, "metadata.continue"), undefined);
  const bad = await call(server, "GET", `${svcPath}?continue=garbage`);
  assert.equal(bad.status, 400);
});

test("PUT creates Services (create-on-update) but not Nodes", async (t) => {
  const server = await serve(t);
  const created = await call<V1Service>(server, "PUT", `${svcPath}/fresh`, service("fresh"));
  assert.equal(created.status, 201);
  const node = await call(server, "PUT", "/api/v1/nodes/n1", { metadata: { name: "n1" } });
  assert.equal(node.status, 404);
});

test("dryRun=All validates and answers without storing", async (t) => {
  const server = await serve(t);
  const before = server.stats().resourceVersion;
  const dry = await expectStatus<V1Service>(
    server,
    201,
    "POST",
    `${svcPath}?dryRun=All`,
    service("web", { type: "NodePort" }),
  );
  assert.ok(dry.spec?.ports?.[0]?.nodePort, "defaults and allocations are shown");
  assert.equal((await call(server, "GET", `${svcPath}/web`)).status, 404);
  assert.equal(server.stats().resourceVersion, before);
  const invalid = await call(server, "POST", `${svcPath}?dryRun=All`, service("Bad_Name"));
  assert.equal(invalid.status, 422);
  await createService(server, "real");
  await expectStatus(server, 200, "DELETE", `${svcPath}/real?dryRun=All`);
  await expectStatus(server, 200, "GET", `${svcPath}/real`);
});

test("delete honours uid and resourceVersion preconditions", async (t) => {
  const server = await serve(t);
  const created = await createService(server, "web");
  const wrongUid = await call<V1Status>(server, "DELETE", `${svcPath}/web`, {
    preconditions: { uid: "nope" },
  });
  assert.equal(wrongUid.status, 409);
  assert.match(wrongUid.body.message ?? "", /Precondition failed: UID in precondition: nope/);
  const wrongRv = await call(server, "DELETE", `${svcPath}/web`, { preconditions: { resourceVersion: "1" } });
  assert.equal(wrongRv.status, 409);
  await expectStatus(server, 200, "DELETE", `${svcPath}/web`, {
    kind: "DeleteOptions",
    apiVersion: "v1",
    propagationPolicy: "Foreground",
    preconditions: { uid: created.metadata?.uid, resourceVersion: created.metadata?.resourceVersion },
  });
});

test("deletecollection deletes what the selectors match", async (t) => {
  const server = await serve(t);
  await createService(server, "a", {}, { labels: { group: "x" } });
  await createService(server, "b", {}, { labels: { group: "x" } });
  await createService(server, "c", {}, { labels: { group: "y" } });
  const deleted = await expectStatus<V1ServiceList>(
    server,
    200,
    "DELETE",
    `${svcPath}?labelSelector=group%3Dx`,
  );
  assert.deepEqual(names(deleted), ["a", "b"]);
  const left = await expectStatus<V1ServiceList>(server, 200, "GET", svcPath);
  assert.deepEqual(names(left), ["c", "kubernetes"]);
});

test("deleting a namespace terminates it, deletes its contents, then removes it", async (t) => {
  const server = await serve(t);
  await createNamespace(server, "team");
  await createService(server, "web", {}, {}, "team");
  await createService(server, "held", {}, { finalizers: ["example.com/hold"] }, "team");
  const terminating = await expectStatus(server, 200, "DELETE", "/api/v1/namespaces/team");
  assert.equal((terminating.status as { phase?: string }).phase, "Terminating");
  assert.ok(terminating.metadata?.deletionTimestamp);
  const refused = await call<V1Status>(server, "POST", "/api/v1/namespaces/team/services", service("late"));
  assert.equal(refused.status, 403);
  assert.match(
    refused.body.message ?? "",
    /unable to create new content in namespace team because it is being terminated/,
  );
  await eventually(
    "web to be deleted",
    async () => (await call(server, "GET", "/api/v1/namespaces/team/services/web")).status === 404,
  );
  const held = await expectStatus<V1Service>(server, 200, "GET", "/api/v1/namespaces/team/services/held");
  assert.ok(held.metadata?.deletionTimestamp, "objects with finalizers wait");
  assert.equal((await call(server, "GET", "/api/v1/namespaces/team")).status, 200);
  await expectStatus(
    server,
    200,
    "PATCH",
    "/api/v1/namespaces/team/services/held",
    { metadata: { finalizers: null } },
    "application/merge-patch+json",
  );
  await eventually(
    "namespace team to go",
    async () => (await call(server, "GET", "/api/v1/namespaces/team")).status === 404,
  );
});

test("the system namespaces cannot be deleted", async (t) => {
  const server = await serve(t);
  for (const name of ["default", "kube-system", "kube-public"]) {
    const reply = await call<V1Status>(server, "DELETE", `/api/v1/namespaces/${name}`);
    assert.equal(reply.status, 403, name);
    assert.equal(reply.body.reason, "Forbidden");
  }
});

test("owned objects are garbage collected when their owner is deleted", async (t) => {
  const server = await serve(t);
  const owner = await createService(server, "web");
  const ref = { apiVersion: "v1", kind: "Service", name: "web", uid: owner.metadata?.uid, controller: true };
  const slices = "/apis/discovery.k8s.io/v1/namespaces/default/endpointslices";
  await expectStatus(server, 201, "POST", slices, {
    metadata: { name: "web-1", ownerReferences: [ref] },
    addressType: "IPv4",
    endpoints: [],
  });
  await expectStatus(server, 201, "POST", slices, {
    metadata: { name: "other" },
    addressType: "IPv4",
    endpoints: [],
  });
  await expectStatus(server, 200, "DELETE", `${svcPath}/web`);
  await eventually(
    "the owned slice to be collected",
    async () => (await call(server, "GET", `${slices}/web-1`)).status === 404,
  );
  await expectStatus(server, 200, "GET", `${slices}/other`);
});

test("client-node CoreV1Api round trip", async (t) => {
  const server = await serve(t);
  const core = coreApi(server);
  await core.createNamespace({ body: { metadata: { name: "apps" } } });
  const created = await core.createNamespacedService({ namespace: "apps", body: service("api") });
  assert.ok(created.spec?.clusterIP);
  const list = await core.listNamespacedService({ namespace: "apps" });
  assert.deepEqual(names(list), ["api"]);
  created.metadata = { ...created.metadata, annotations: { a: "b" } };
  const replaced = await core.replaceNamespacedService({ namespace: "apps", name: "api", body: created });
  assert.equal(replaced.metadata?.annotations?.a, "b");
  await assert.rejects(
    core.replaceNamespacedService({ namespace: "apps", name: "api", body: created }),
    (error: Error & { code?: number }) => {
      assert.equal(error.code, 409);
      return true;
    },
  );
  await core.deleteNamespacedService({ namespace: "apps", name: "api" });
  await assert.rejects(
    core.readNamespacedService({ namespace: "apps", name: "api" }),
    (error: Error & { code?: number }) => error.code === 404,
  );
});
