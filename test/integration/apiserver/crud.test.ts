import assert from "node:assert/strict";
import { test } from "node:test";
import type {
  V1Namespace,
  V1NamespaceList,
  V1Service,
  V1ServiceList,
  V1Status,
} from "@kubernetes/client-node";
import {
  call,
  core,
  coreApi,
  createNamespace,
  createService,
  eventually,
  everywhere,
  expectStatus,
  grouped,
  names,
  serve,
  service,
} from "./harness.ts";

test("a server has the default namespaces and the kubernetes Service", everywhere, async (t) => {
  const target = await serve(t);
  const namespaces = await expectStatus<V1NamespaceList>(target, 200, "GET", "/api/v1/namespaces");
  for (const name of ["default", "kube-node-lease", "kube-public", "kube-system"])
    assert.ok(names(namespaces).includes(name), name);
  const kubernetes = await expectStatus<V1Service>(
    target,
    200,
    "GET",
    "/api/v1/namespaces/default/services/kubernetes",
  );
  assert.equal(kubernetes.spec?.clusterIP, "10.96.0.1");
  assert.deepEqual(
    kubernetes.spec?.ports?.map((p) => [p.name, p.port, p.protocol]),
    [["https", 443, "TCP"]],
  );
});

test("create, get, list, update and delete a Service", everywhere, async (t) => {
  const target = await serve(t);
  const svcPath = core(target, "services");
  const created = await createService(target, "web", {}, { labels: { app: "web" } });
  assert.equal(created.kind, "Service");
  assert.equal(created.apiVersion, "v1");
  assert.equal(created.metadata?.namespace, target.ns);

  const got = await expectStatus<V1Service>(target, 200, "GET", `${svcPath}/web`);
  assert.deepEqual(got, created);

  const list = await expectStatus<V1ServiceList>(target, 200, "GET", svcPath);
  assert.equal(list.kind, "ServiceList");
  assert.equal(list.apiVersion, "v1");
  assert.deepEqual(names(list), ["web"]);
  assert.ok(
    BigInt(list.metadata?.resourceVersion ?? "0") >= BigInt(created.metadata?.resourceVersion ?? "x"),
    "a list is at least as new as the last write",
  );
  assert.equal(list.items[0]?.kind, undefined, "list items carry no kind");

  const changed = structuredClone(got);
  changed.metadata = { ...changed.metadata, labels: { app: "web", tier: "front" } };
  const updated = await expectStatus<V1Service>(target, 200, "PUT", `${svcPath}/web`, changed);
  assert.equal(updated.metadata?.labels?.tier, "front");
  assert.ok(
    BigInt(updated.metadata?.resourceVersion ?? "0") > BigInt(created.metadata?.resourceVersion ?? "0"),
  );

  const deleted = await expectStatus<V1Service>(target, 200, "DELETE", `${svcPath}/web`);
  assert.equal(deleted.metadata?.name, "web", "Service deletes answer with the object");
  const gone = await call<V1Status>(target, "GET", `${svcPath}/web`);
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

test(
  "deleting an object without finalizers answers a Success Status for most kinds",
  everywhere,
  async (t) => {
    const target = await serve(t);
    const leases = grouped(target, "coordination.k8s.io/v1", "leases");
    await expectStatus(target, 201, "POST", leases, { metadata: { name: "l" }, spec: {} });
    const status = await expectStatus<V1Status>(target, 200, "DELETE", `${leases}/l`);
    assert.equal(status.kind, "Status");
    assert.equal(status.status, "Success");
    assert.equal(status.details?.name, "l");
    assert.equal(status.details?.group, "coordination.k8s.io");
    assert.equal(status.details?.kind, "leases");
    assert.match(status.details?.uid ?? "", /^[0-9a-f-]{36}$/);
  },
);

test("create of an existing name is 409 AlreadyExists with the resource's details", everywhere, async (t) => {
  const target = await serve(t);
  await createService(target, "web");
  const reply = await call<V1Status>(target, "POST", core(target, "services"), service("web"));
  assert.equal(reply.status, 409);
  assert.deepEqual(reply.body, {
    kind: "Status",
    apiVersion: "v1",
    metadata: {},
    status: "Failure",
    message: 'services "web" already exists',
    reason: "AlreadyExists",
    details: { name: "web", kind: "services" },
    code: 409,
  });
  const slices = grouped(target, "discovery.k8s.io/v1", "endpointslices");
  const slice = { metadata: { name: "s" }, addressType: "IPv4", endpoints: [] };
  await expectStatus(target, 201, "POST", slices, slice);
  const again = await call<V1Status>(target, "POST", slices, slice);
  assert.equal(again.status, 409);
  assert.equal(again.body.message, 'endpointslices.discovery.k8s.io "s" already exists');
  assert.deepEqual(again.body.details, { name: "s", group: "discovery.k8s.io", kind: "endpointslices" });
});

test("generateName makes a unique name with a random suffix", everywhere, async (t) => {
  const target = await serve(t);
  const svcPath = core(target, "services");
  const made = new Set<string>();
  for (let i = 0; i < 5; i++) {
    const body = service("");
    body.metadata = { generateName: "web-" };
    const created = await expectStatus<V1Service>(target, 201, "POST", svcPath, body);
    assert.match(created.metadata?.name ?? "", /^web-[a-z0-9]{5}$/);
    assert.equal(created.metadata?.generateName, "web-");
    made.add(created.metadata?.name ?? "");
  }
  assert.equal(made.size, 5);
  // Not a Service: kube-apiserver 1.34 allocates a nameless Service's cluster IP before it
  // validates, and the request hangs until a 504 (and wedges Service creates for minutes).
  const missing = await call<V1Status>(target, "POST", core(target, "configmaps"), { metadata: {} });
  assert.equal(missing.status, 422);
  assert.deepEqual(missing.body.details, {
    kind: "ConfigMap",
    causes: [
      {
        reason: "FieldValueRequired",
        message: "Required value: name or generateName is required",
        field: "metadata.name",
      },
    ],
  });
  assert.equal(
    missing.body.message,
    'ConfigMap "" is invalid: metadata.name: Required value: name or generateName is required',
  );
});

test(
  "update with a stale resourceVersion is 409 Conflict; without one it is unconditional",
  everywhere,
  async (t) => {
    const target = await serve(t);
    const svcPath = core(target, "services");
    const created = await createService(target, "web");
    const first = structuredClone(created);
    first.metadata = { ...first.metadata, labels: { round: "1" } };
    await expectStatus(target, 200, "PUT", `${svcPath}/web`, first);

    const stale = structuredClone(created);
    stale.metadata = { ...stale.metadata, labels: { round: "2" } };
    const reply = await call<V1Status>(target, "PUT", `${svcPath}/web`, stale);
    assert.equal(reply.status, 409);
    assert.deepEqual(reply.body, {
      kind: "Status",
      apiVersion: "v1",
      metadata: {},
      status: "Failure",
      message:
        'Operation cannot be fulfilled on services "web": the object has been modified; please apply your changes to the latest version and try again',
      reason: "Conflict",
      details: { name: "web", kind: "services" },
      code: 409,
    });

    const unconditional = structuredClone(stale);
    delete unconditional.metadata?.resourceVersion;
    const forced = await expectStatus<V1Service>(target, 200, "PUT", `${svcPath}/web`, unconditional);
    assert.equal(forced.metadata?.labels?.round, "2");
    assert.equal(
      forced.spec?.clusterIP,
      created.spec?.clusterIP,
      "allocated fields survive a PUT that omits them",
    );
  },
);

test("an update that changes nothing keeps the resourceVersion", everywhere, async (t) => {
  const target = await serve(t);
  const svcPath = core(target, "services");
  const created = await createService(target, "web");
  const again = await expectStatus<V1Service>(target, 200, "PUT", `${svcPath}/web`, created);
  assert.equal(again.metadata?.resourceVersion, created.metadata?.resourceVersion);
  const read = await expectStatus<V1Service>(target, 200, "GET", `${svcPath}/web`);
  assert.equal(read.metadata?.resourceVersion, created.metadata?.resourceVersion);
});

test("the object's name, namespace and kind must agree with the URL", everywhere, async (t) => {
  const target = await serve(t);
  const svcPath = core(target, "services");
  const created = await createService(target, "web");
  const renamed = { ...created, metadata: { ...created.metadata, name: "other" } };
  const reply = await call<V1Status>(target, "PUT", `${svcPath}/web`, renamed);
  assert.equal(reply.status, 400);
  assert.equal(reply.body.reason, "BadRequest");
  assert.equal(reply.body.message, "the name of the object (other) does not match the name on the URL (web)");
  const elsewhere = service("x", {}, { namespace: "kube-system" });
  const wrongNs = await call<V1Status>(target, "POST", svcPath, elsewhere);
  assert.equal(wrongNs.status, 400);
  assert.equal(
    wrongNs.body.message,
    "the namespace of the provided object does not match the namespace sent on the request",
  );
  const wrongKind = await call<V1Status>(target, "POST", svcPath, { ...service("y"), kind: "Pod" });
  assert.equal(wrongKind.status, 400);
});

test("creating with a resourceVersion set is refused", everywhere, async (t) => {
  const target = await serve(t);
  const reply = await call<V1Status>(
    target,
    "POST",
    core(target, "services"),
    service("web", {}, { resourceVersion: "7" }),
  );
  assert.deepEqual(reply.body, {
    kind: "Status",
    apiVersion: "v1",
    metadata: {},
    status: "Failure",
    message: "resourceVersion should not be set on objects to be created",
    code: 500,
  });
});

test(
  "namespaced objects need their namespace; lists of a missing namespace are empty",
  everywhere,
  async (t) => {
    const target = await serve(t);
    const nowhere = "/api/v1/namespaces/nowhere/services";
    const reply = await call<V1Status>(target, "POST", nowhere, service("web"));
    assert.equal(reply.status, 404);
    assert.equal(reply.body.message, 'namespaces "nowhere" not found');
    assert.deepEqual(reply.body.details, { name: "nowhere", kind: "namespaces" });
    const list = await expectStatus<V1ServiceList>(target, 200, "GET", nowhere);
    assert.deepEqual(list.items, []);
    const get = await call(target, "GET", `${nowhere}/web`);
    assert.equal(get.status, 404);
  },
);

test("all-namespaces lists span namespaces in namespace/name order", everywhere, async (t) => {
  const target = await serve(t);
  const b = await createNamespace(target, "team-b");
  const a = await createNamespace(target, "team-a");
  const label = { suite: target.ns };
  await createService(target, "z", {}, { labels: label }, a);
  await createService(target, "a", {}, { labels: label }, b);
  const list = await expectStatus<V1ServiceList>(
    target,
    200,
    "GET",
    `/api/v1/services?labelSelector=suite%3D${target.ns}`,
  );
  const expected = [`${a}/z`, `${b}/a`].sort();
  assert.deepEqual(
    list.items.map((s) => `${s.metadata?.namespace}/${s.metadata?.name}`),
    expected,
  );
});

test("the system namespaces cannot be deleted", everywhere, async (t) => {
  const target = await serve(t);
  for (const name of ["default", "kube-system", "kube-public"]) {
    const reply = await call<V1Status>(target, "DELETE", `/api/v1/namespaces/${name}`);
    assert.equal(reply.status, 403, name);
    assert.equal(reply.body.reason, "Forbidden");
    assert.equal(reply.body.message, `namespaces "${name}" is forbidden: this namespace may not be deleted`);
  }
});

test("PUT creates Services (create-on-update) but not Nodes", everywhere, async (t) => {
  const target = await serve(t);
  const created = await call<V1Service>(target, "PUT", `${core(target, "services")}/fresh`, service("fresh"));
  assert.equal(created.status, 201);
  const node = await call<V1Status>(target, "PUT", `/api/v1/nodes/${target.ns}`, {
    metadata: { name: target.ns },
  });
  assert.equal(node.status, 404);
  assert.equal(node.body.message, `nodes "${target.ns}" not found`);
});

test("dryRun=All validates and answers without storing", everywhere, async (t) => {
  const target = await serve(t);
  const svcPath = core(target, "services");
  const before = await expectStatus<V1ServiceList>(target, 200, "GET", svcPath);
  const dry = await expectStatus<V1Service>(
    target,
    201,
    "POST",
    `${svcPath}?dryRun=All`,
    service("web", { type: "NodePort" }),
  );
  assert.ok(dry.spec?.ports?.[0]?.nodePort, "defaults and allocations are shown");
  assert.ok(dry.spec?.clusterIP);
  assert.equal((await call(target, "GET", `${svcPath}/web`)).status, 404);
  const after = await expectStatus<V1ServiceList>(target, 200, "GET", svcPath);
  assert.deepEqual(after.items, before.items);
  const invalid = await call(target, "POST", `${svcPath}?dryRun=All`, service("Bad_Name"));
  assert.equal(invalid.status, 422);
  await createService(target, "real");
  await expectStatus(target, 200, "DELETE", `${svcPath}/real?dryRun=All`);
  await expectStatus(target, 200, "GET", `${svcPath}/real`);
  const unknown = await call<V1Status>(target, "POST", `${svcPath}?dryRun=Some`, service("x"));
  assert.equal(unknown.status, 422);
  assert.equal(
    unknown.body.message,
    'CreateOptions.meta.k8s.io "" is invalid: dryRun: Unsupported value: ["Some"]: supported values: "All"',
  );
  assert.deepEqual(unknown.body.details, {
    group: "meta.k8s.io",
    kind: "CreateOptions",
    causes: [
      {
        reason: "FieldValueNotSupported",
        message: 'Unsupported value: ["Some"]: supported values: "All"',
        field: "dryRun",
      },
    ],
  });
});

test("delete honours uid and resourceVersion preconditions", everywhere, async (t) => {
  const target = await serve(t);
  const svcPath = core(target, "services");
  const created = await createService(target, "web");
  const wrongUid = await call<V1Status>(target, "DELETE", `${svcPath}/web`, {
    preconditions: { uid: "nope" },
  });
  // The storage layer refuses these: its message names the kind, not the resource.
  assert.equal(wrongUid.status, 409);
  assert.equal(wrongUid.body.reason, "Conflict");
  assert.equal(
    wrongUid.body.message,
    `Operation cannot be fulfilled on Service "web": the UID in the precondition (nope) does not match the UID in record (${created.metadata?.uid}). The object might have been deleted and then recreated`,
  );
  assert.deepEqual(wrongUid.body.details, { name: "web", kind: "Service" });
  const wrongRv = await call<V1Status>(target, "DELETE", `${svcPath}/web`, {
    preconditions: { resourceVersion: "1" },
  });
  assert.equal(wrongRv.status, 409);
  assert.equal(
    wrongRv.body.message,
    `Operation cannot be fulfilled on Service "web": the ResourceVersion in the precondition (1) does not match the ResourceVersion in record (${created.metadata?.resourceVersion}). The object might have been modified`,
  );
  await expectStatus(target, 200, "DELETE", `${svcPath}/web`, {
    kind: "DeleteOptions",
    apiVersion: "v1",
    propagationPolicy: "Foreground",
    preconditions: { uid: created.metadata?.uid, resourceVersion: created.metadata?.resourceVersion },
  });
});

test(
  "deletecollection deletes what the selectors match and answers with the deleted list",
  everywhere,
  async (t) => {
    const target = await serve(t);
    const cms = core(target, "configmaps");
    for (const [name, group] of [
      ["a", "x"],
      ["b", "x"],
      ["c", "y"],
    ])
      await expectStatus(target, 201, "POST", cms, { metadata: { name, labels: { group } } });
    const deleted = await expectStatus<V1ServiceList>(
      target,
      200,
      "DELETE",
      `${cms}?labelSelector=group%3Dx`,
    );
    assert.equal(deleted.kind, "ConfigMapList");
    assert.deepEqual(names(deleted), ["a", "b"]);
    const left = await expectStatus<V1ServiceList>(target, 200, "GET", `${cms}?labelSelector=group`);
    assert.deepEqual(names(left), ["c"]);
  },
);

test("deleting a namespace terminates it, deletes its contents, then removes it", everywhere, async (t) => {
  const target = await serve(t);
  const team = await createNamespace(target, "team");
  const teamPath = `/api/v1/namespaces/${team}`;
  await createService(target, "web", {}, {}, team);
  await createService(target, "held", {}, { finalizers: ["example.com/hold"] }, team);
  const terminating = await expectStatus<V1Namespace>(target, 200, "DELETE", teamPath);
  assert.equal(terminating.status?.phase, "Terminating");
  assert.ok(terminating.metadata?.deletionTimestamp);
  const refused = await call<V1Status>(target, "POST", `${teamPath}/services`, service("late"));
  assert.equal(refused.status, 403);
  assert.equal(
    refused.body.message,
    `services "late" is forbidden: unable to create new content in namespace ${team} because it is being terminated`,
  );
  await eventually(
    "web to be deleted",
    async () => (await call(target, "GET", `${teamPath}/services/web`)).status === 404,
    30_000,
  );
  const held = await expectStatus<V1Service>(target, 200, "GET", `${teamPath}/services/held`);
  assert.ok(held.metadata?.deletionTimestamp, "objects with finalizers wait");
  assert.equal((await call(target, "GET", teamPath)).status, 200);
  await expectStatus(
    target,
    200,
    "PATCH",
    `${teamPath}/services/held`,
    { metadata: { finalizers: null } },
    "application/merge-patch+json",
  );
  await eventually(
    "the namespace to go",
    async () => (await call(target, "GET", teamPath)).status === 404,
    60_000,
  );
});

test("owned objects are garbage collected when their owner is deleted", everywhere, async (t) => {
  const target = await serve(t);
  const owner = await createService(target, "web");
  const ref = { apiVersion: "v1", kind: "Service", name: "web", uid: owner.metadata?.uid, controller: true };
  const slices = grouped(target, "discovery.k8s.io/v1", "endpointslices");
  await expectStatus(target, 201, "POST", slices, {
    metadata: { name: "web-1", ownerReferences: [ref] },
    addressType: "IPv4",
    endpoints: [],
  });
  await expectStatus(target, 201, "POST", slices, {
    metadata: { name: "other" },
    addressType: "IPv4",
    endpoints: [],
  });
  await expectStatus(target, 200, "DELETE", `${core(target, "services")}/web`);
  await eventually(
    "the owned slice to be collected",
    async () => (await call(target, "GET", `${slices}/web-1`)).status === 404,
    30_000,
  );
  await expectStatus(target, 200, "GET", `${slices}/other`);
});

test("client-node CoreV1Api round trip", everywhere, async (t) => {
  const target = await serve(t);
  const api = coreApi(target);
  const apps = await createNamespace(target, "apps");
  const created = await api.createNamespacedService({ namespace: apps, body: service("api") });
  assert.ok(created.spec?.clusterIP);
  const list = await api.listNamespacedService({ namespace: apps });
  assert.deepEqual(names(list), ["api"]);
  created.metadata = { ...created.metadata, annotations: { a: "b" } };
  const replaced = await api.replaceNamespacedService({ namespace: apps, name: "api", body: created });
  assert.equal(replaced.metadata?.annotations?.a, "b");
  await assert.rejects(
    api.replaceNamespacedService({ namespace: apps, name: "api", body: created }),
    (error: Error & { code?: number }) => {
      assert.equal(error.code, 409);
      return true;
    },
  );
  await api.deleteNamespacedService({ namespace: apps, name: "api" });
  await assert.rejects(
    api.readNamespacedService({ namespace: apps, name: "api" }),
    (error: Error & { code?: number }) => error.code === 404,
  );
});
