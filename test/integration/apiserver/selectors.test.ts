import assert from "node:assert/strict";
import { test } from "node:test";
import type { V1PodList, V1ServiceList, V1Status } from "@kubernetes/client-node";
import type { ApiServer } from "../../../src/sandbox/apiserver/index.ts";
import { call, createNamespace, createService, expectStatus, names, serve } from "./harness.ts";

async function labelled(server: ApiServer): Promise<void> {
  await createService(server, "a", {}, { labels: { app: "web", tier: "front", rank: "1" } });
  await createService(server, "b", {}, { labels: { app: "web", tier: "back", rank: "5" } });
  await createService(server, "c", {}, { labels: { app: "db" } });
  await createService(server, "d");
}

async function select(server: ApiServer, query: string): Promise<string[]> {
  const list = await expectStatus<V1ServiceList>(
    server,
    200,
    "GET",
    `/api/v1/namespaces/default/services?${query}`,
  );
  return names(list).filter((n) => n !== "kubernetes");
}

test("label selectors: equality, inequality, sets, existence and comparisons", async (t) => {
  const server = await serve(t);
  await labelled(server);
  const cases: [string, string[]][] = [
    ["app=web", ["a", "b"]],
    ["app==web", ["a", "b"]],
    ["app!=web", ["c", "d"]],
    ["app=web,tier=back", ["b"]],
    ["tier in (front, back)", ["a", "b"]],
    ["app notin (web)", ["c", "d"]],
    ["tier", ["a", "b"]],
    ["!tier", ["c", "d"]],
    ["app=web,!rank", []],
    ["rank>2", ["b"]],
    ["rank<2", ["a"]],
    ["app in (web,db),tier notin (front)", ["b", "c"]],
    ["", ["a", "b", "c", "d"]],
  ];
  for (const [selector, expected] of cases) {
    assert.deepEqual(
      await select(server, `labelSelector=${encodeURIComponent(selector)}`),
      expected,
      selector,
    );
  }
});

test("a malformed label selector is 400 BadRequest", async (t) => {
  const server = await serve(t);
  for (const selector of ["app in web", "app=(x", "=x", "app in ()", "app==a==b", "a b"]) {
    const reply = await call<V1Status>(
      server,
      "GET",
      `/api/v1/services?labelSelector=${encodeURIComponent(selector)}`,
    );
    assert.equal(reply.status, 400, selector);
    assert.equal(reply.body.reason, "BadRequest");
  }
});

test("field selectors on metadata.name and metadata.namespace", async (t) => {
  const server = await serve(t);
  await labelled(server);
  await createNamespace(server, "other");
  await createService(server, "a", {}, {}, "other");
  assert.deepEqual(await select(server, "fieldSelector=metadata.name%3Da"), ["a"]);
  assert.deepEqual(await select(server, "fieldSelector=metadata.name%3D%3Da"), ["a"]);
  assert.deepEqual(await select(server, "fieldSelector=metadata.name!%3Da"), ["b", "c", "d"]);
  assert.deepEqual(await select(server, "fieldSelector=metadata.name%3Da,metadata.name%3Db"), []);
  assert.deepEqual(await select(server, "fieldSelector=metadata.name!%3Da&labelSelector=app%3Dweb"), ["b"]);
  const all = await expectStatus<V1ServiceList>(
    server,
    200,
    "GET",
    "/api/v1/services?fieldSelector=metadata.namespace%3Dother",
  );
  assert.deepEqual(
    all.items.map((s) => `${s.metadata?.namespace}/${s.metadata?.name}`),
    ["other/a"],
  );
  const notDefault = await expectStatus<V1ServiceList>(
    server,
    200,
    "GET",
    "/api/v1/services?fieldSelector=metadata.namespace!%3Ddefault",
  );
  assert.deepEqual(names(notDefault), ["a"]);
});

test("unsupported field labels are 400; kinds add their own", async (t) => {
  const server = await serve(t);
  const bad = await call<V1Status>(server, "GET", "/api/v1/services?fieldSelector=spec.ports%3D1");
  assert.equal(bad.status, 400);
  assert.equal(bad.body.message, "field label not supported: spec.ports");
  await expectStatus(server, 201, "POST", "/api/v1/namespaces/default/pods", {
    metadata: { name: "on-n1" },
    spec: { nodeName: "n1", containers: [{ name: "c", image: "nginx" }] },
  });
  await expectStatus(server, 201, "POST", "/api/v1/namespaces/default/pods", {
    metadata: { name: "unscheduled" },
    spec: { containers: [{ name: "c", image: "nginx" }] },
  });
  const onNode = await expectStatus<V1PodList>(
    server,
    200,
    "GET",
    "/api/v1/pods?fieldSelector=spec.nodeName%3Dn1",
  );
  assert.deepEqual(names(onNode), ["on-n1"]);
  const pending = await expectStatus<V1PodList>(
    server,
    200,
    "GET",
    "/api/v1/pods?fieldSelector=status.phase%3DPending,spec.nodeName%3D",
  );
  assert.deepEqual(names(pending), ["unscheduled"]);
});
