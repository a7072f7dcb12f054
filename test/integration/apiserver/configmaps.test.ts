import assert from "node:assert/strict";
import { test } from "node:test";
import type { V1APIResourceList, V1ConfigMap, V1Status } from "@kubernetes/client-node";
import { call, coreApi, createService, eventually, expectStatus, serve } from "./harness.ts";

const cms = "/api/v1/namespaces/default/configmaps";

test("configmaps: discovery, create, get, replace with resourceVersion, conflict on a stale one, delete", async (t) => {
  const server = await serve(t);
  const v1 = await expectStatus<V1APIResourceList>(server, 200, "GET", "/api/v1");
  const entry = v1.resources.find((r) => r.name === "configmaps");
  assert.equal(entry?.kind, "ConfigMap");
  assert.equal(entry?.namespaced, true);
  assert.deepEqual(entry?.shortNames, ["cm"]);

  const core = coreApi(server);
  const created = await core.createNamespacedConfigMap({
    namespace: "default",
    body: { metadata: { name: "targets" }, data: { "tg.0a1b": "10.0.0.1:80" } },
  });
  assert.equal(created.kind, "ConfigMap");
  assert.equal(created.apiVersion, "v1");
  assert.ok(created.metadata?.uid && created.metadata.resourceVersion);
  const read = await core.readNamespacedConfigMap({ namespace: "default", name: "targets" });
  assert.deepEqual(read.data, { "tg.0a1b": "10.0.0.1:80" });

  const replaced = await core.replaceNamespacedConfigMap({
    namespace: "default",
    name: "targets",
    body: { ...read, data: { "tg.0a1b": "10.0.0.1:80,10.0.0.2:80" } },
  });
  assert.notEqual(replaced.metadata?.resourceVersion, read.metadata?.resourceVersion);
  await assert.rejects(
    core.replaceNamespacedConfigMap({ namespace: "default", name: "targets", body: read }),
    (error: Error & { code?: number }) => error.code === 409,
  );
  // Unlike Services and Leases, a PUT does not create a missing ConfigMap.
  const missing = await call<V1Status>(server, "PUT", `${cms}/absent`, {
    metadata: { name: "absent" },
    data: {},
  });
  assert.equal(missing.status, 404);

  // A delete with a uid precondition of another object is refused.
  const wrongUid = await call<V1Status>(server, "DELETE", `${cms}/targets`, {
    preconditions: { uid: "00000000-0000-0000-0000-000000000000" },
  });
  assert.equal(wrongUid.status, 409);
  await core.deleteNamespacedConfigMap({
    namespace: "default",
    name: "targets",
    body: { preconditions: { uid: created.metadata?.uid } },
  });
  assert.equal((await call(server, "GET", `${cms}/targets`)).status, 404);
});

test("configmaps: keys, data and binaryData, size and immutable are validated as kube-apiserver does", async (t) => {
  const server = await serve(t);
  const invalid = async (body: V1ConfigMap, field: string) => {
    const reply = await call<V1Status>(server, "POST", cms, body);
    assert.equal(reply.status, 422, JSON.stringify(reply.body));
    assert.ok(
      (reply.body.details?.causes ?? []).some((c) => c.field === field),
      `${field} in ${JSON.stringify(reply.body.details?.causes)}`,
    );
  };
  await invalid({ metadata: { name: "a" }, data: { "no/slash": "x" } }, "data[no/slash]");
  await invalid({ metadata: { name: "b" }, data: { "..": "x" } }, "data[..]");
  await invalid({ metadata: { name: "c" }, data: { k: "x" }, binaryData: { k: "eA==" } }, "binaryData[k]");
  await invalid({ metadata: { name: "d" }, data: { k: "x".repeat(1024 * 1024 + 1) } }, "");
  await invalid({ metadata: { name: "Upper" }, data: {} }, "metadata.name");

  await expectStatus(server, 201, "POST", cms, {
    metadata: { name: "frozen" },
    data: { k: "v" },
    immutable: true,
  });
  const frozen = await expectStatus<V1ConfigMap>(server, 200, "GET", `${cms}/frozen`);
  const changed = await call<V1Status>(server, "PUT", `${cms}/frozen`, { ...frozen, data: { k: "w" } });
  assert.equal(changed.status, 422);
  assert.ok((changed.body.details?.causes ?? []).some((c) => c.field === "data"));
  const thawed = await call<V1Status>(server, "PUT", `${cms}/frozen`, { ...frozen, immutable: false });
  assert.equal(thawed.status, 422);
  const labelled = await call<V1ConfigMap>(server, "PUT", `${cms}/frozen`, {
    ...frozen,
    metadata: { ...frozen.metadata, labels: { a: "b" } },
  });
  assert.equal(labelled.status, 200, "metadata of an immutable ConfigMap can still change");
});

test("configmaps owned by a Service are garbage collected with it", async (t) => {
  const server = await serve(t);
  const owner = await createService(server, "web");
  const ref = { apiVersion: "v1", kind: "Service", name: "web", uid: owner.metadata?.uid };
  await expectStatus(server, 201, "POST", cms, {
    metadata: { name: "aws-nlb-targets-web", ownerReferences: [ref] },
  });
  await expectStatus(server, 201, "POST", cms, { metadata: { name: "unrelated" } });
  await expectStatus(server, 200, "DELETE", "/api/v1/namespaces/default/services/web");
  await eventually(
    "the owned ConfigMap to be collected",
    async () => (await call(server, "GET", `${cms}/aws-nlb-targets-web`)).status === 404,
  );
  await expectStatus(server, 200, "GET", `${cms}/unrelated`);
});
