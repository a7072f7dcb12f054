import assert from "node:assert/strict";
import { test } from "node:test";
import type { V1APIResourceList, V1ConfigMap, V1Status } from "@kubernetes/client-node";
import {
  call,
  core,
  coreApi,
  createService,
  eventually,
  everywhere,
  expectStatus,
  serve,
} from "./harness.ts";

test(
  "configmaps: discovery, create, get, replace with resourceVersion, conflict on a stale one, delete",
  everywhere,
  async (t) => {
    const target = await serve(t);
    const cms = core(target, "configmaps");
    const v1 = await expectStatus<V1APIResourceList>(target, 200, "GET", "/api/v1");
    const entry = v1.resources.find((r) => r.name === "configmaps");
    assert.equal(entry?.kind, "ConfigMap");
    assert.equal(entry?.namespaced, true);
    assert.deepEqual(entry?.shortNames, ["cm"]);

    const api = coreApi(target);
    const created = await api.createNamespacedConfigMap({
      namespace: target.ns,
      body: { metadata: { name: "targets" }, data: { "tg.0a1b": "10.0.0.1:80" } },
    });
    assert.equal(created.kind, "ConfigMap");
    assert.equal(created.apiVersion, "v1");
    assert.ok(created.metadata?.uid && created.metadata.resourceVersion);
    const read = await api.readNamespacedConfigMap({ namespace: target.ns, name: "targets" });
    assert.deepEqual(read.data, { "tg.0a1b": "10.0.0.1:80" });

    const replaced = await api.replaceNamespacedConfigMap({
      namespace: target.ns,
      name: "targets",
      body: { ...read, data: { "tg.0a1b": "10.0.0.1:80,10.0.0.2:80" } },
    });
    assert.notEqual(replaced.metadata?.resourceVersion, read.metadata?.resourceVersion);
    await assert.rejects(
      api.replaceNamespacedConfigMap({ namespace: target.ns, name: "targets", body: read }),
      (error: Error & { code?: number }) => error.code === 409,
    );
    // Unlike Services and Leases, a PUT does not create a missing ConfigMap.
    const missing = await call<V1Status>(target, "PUT", `${cms}/absent`, {
      metadata: { name: "absent" },
      data: {},
    });
    assert.equal(missing.status, 404);

    // A delete with a uid precondition of another object is refused.
    const wrongUid = await call<V1Status>(target, "DELETE", `${cms}/targets`, {
      preconditions: { uid: "00000000-0000-0000-0000-000000000000" },
    });
    assert.equal(wrongUid.status, 409);
    await api.deleteNamespacedConfigMap({
      namespace: target.ns,
      name: "targets",
      body: { preconditions: { uid: created.metadata?.uid } },
    });
    assert.equal((await call(target, "GET", `${cms}/targets`)).status, 404);
  },
);

test(
  "configmaps: keys, data and binaryData, size and immutable are validated as kube-apiserver does",
  everywhere,
  async (t) => {
    const target = await serve(t);
    const cms = core(target, "configmaps");
    const invalid = async (body: V1ConfigMap, field: string) => {
      const reply = await call<V1Status>(target, "POST", cms, body);
      assert.equal(reply.status, 422, JSON.stringify(reply.body));
      assert.deepEqual(
        (reply.body.details?.causes ?? []).map((c) => c.field),
        [field],
      );
      return reply.body;
    };
    await invalid({ metadata: { name: "a" }, data: { "no/slash": "x" } }, "data[no/slash]");
    await invalid({ metadata: { name: "b" }, data: { "..": "x" } }, "data[..]");
    const both = await invalid(
      { metadata: { name: "c" }, data: { k: "x" }, binaryData: { k: "eA==" } },
      "data[k]",
    );
    assert.equal(
      both.message,
      'ConfigMap "c" is invalid: data[k]: Invalid value: "k": duplicate of key present in binaryData',
    );
    // Sic: the size limit names no field, and the real server prints the empty path as "[]".
    const big = await invalid({ metadata: { name: "d" }, data: { k: "x".repeat(1024 * 1024 + 1) } }, "[]");
    assert.equal(big.message, 'ConfigMap "d" is invalid: []: Too long: may not be more than 1048576 bytes');
    await invalid({ metadata: { name: "Upper" }, data: {} }, "metadata.name");

    await expectStatus(target, 201, "POST", cms, {
      metadata: { name: "frozen" },
      data: { k: "v" },
      immutable: true,
    });
    const frozen = await expectStatus<V1ConfigMap>(target, 200, "GET", `${cms}/frozen`);
    const changed = await call<V1Status>(target, "PUT", `${cms}/frozen`, { ...frozen, data: { k: "w" } });
    assert.equal(changed.status, 422);
    assert.equal(
      changed.body.message,
      'ConfigMap "frozen" is invalid: data: Forbidden: field is immutable when `immutable` is set',
    );
    const thawed = await call<V1Status>(target, "PUT", `${cms}/frozen`, { ...frozen, immutable: false });
    assert.equal(thawed.status, 422);
    assert.equal(
      thawed.body.message,
      'ConfigMap "frozen" is invalid: immutable: Forbidden: field is immutable when `immutable` is set',
    );
    const labelled = await call<V1ConfigMap>(target, "PUT", `${cms}/frozen`, {
      ...frozen,
      metadata: { ...frozen.metadata, labels: { a: "b" } },
    });
    assert.equal(labelled.status, 200, "metadata of an immutable ConfigMap can still change");
  },
);

test("configmaps owned by a Service are garbage collected with it", everywhere, async (t) => {
  const target = await serve(t);
  const cms = core(target, "configmaps");
  const owner = await createService(target, "web");
  const ref = { apiVersion: "v1", kind: "Service", name: "web", uid: owner.metadata?.uid };
  await expectStatus(target, 201, "POST", cms, {
    metadata: { name: "aws-nlb-targets-web", ownerReferences: [ref] },
  });
  await expectStatus(target, 201, "POST", cms, { metadata: { name: "unrelated" } });
  await expectStatus(target, 200, "DELETE", `${core(target, "services")}/web`);
  await eventually(
    "the owned ConfigMap to be collected",
    async () => (await call(target, "GET", `${cms}/aws-nlb-targets-web`)).status === 404,
  );
  await expectStatus(target, 200, "GET", `${cms}/unrelated`);
});
