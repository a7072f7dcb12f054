import assert from "node:assert/strict";
import { test } from "node:test";
import type { V1PodList, V1ServiceList, V1Status } from "@kubernetes/client-node";
import {
  call,
  core,
  createNamespace,
  createService,
  everywhere,
  expectStatus,
  names,
  podsAdmitted,
  serve,
  type Target,
} from "./harness.ts";

async function labelled(target: Target): Promise<void> {
  await createService(target, "a", {}, { labels: { app: "web", tier: "front", rank: "1" } });
  await createService(target, "b", {}, { labels: { app: "web", tier: "back", rank: "5" } });
  await createService(target, "c", {}, { labels: { app: "db" } });
  await createService(target, "d");
}

async function select(target: Target, query: string): Promise<string[]> {
  const list = await expectStatus<V1ServiceList>(target, 200, "GET", `${core(target, "services")}?${query}`);
  return names(list);
}

test("label selectors: equality, inequality, sets, existence and comparisons", everywhere, async (t) => {
  const target = await serve(t);
  await labelled(target);
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
    ["app in ()", []],
    ["tier notin ()", ["a", "b", "c", "d"]],
  ];
  for (const [selector, expected] of cases) {
    assert.deepEqual(
      await select(target, `labelSelector=${encodeURIComponent(selector)}`),
      expected,
      selector,
    );
  }
});

test("a malformed label selector is 400 BadRequest", everywhere, async (t) => {
  const target = await serve(t);
  for (const selector of ["app in web", "app=(x", "=x", "app==a==b", "a b", "app in (a", "!", "x>a"]) {
    const reply = await call<V1Status>(
      target,
      "GET",
      `${core(target, "services")}?labelSelector=${encodeURIComponent(selector)}`,
    );
    assert.equal(reply.status, 400, selector);
    assert.equal(reply.body.reason, "BadRequest");
  }
});

test("field selectors on metadata.name and metadata.namespace", everywhere, async (t) => {
  const target = await serve(t);
  await labelled(target);
  const other = await createNamespace(target, "other");
  await createService(target, "a", {}, { labels: { suite: target.ns } }, other);
  await createService(target, "e", {}, { labels: { suite: target.ns } });
  assert.deepEqual(await select(target, "fieldSelector=metadata.name%3Da"), ["a"]);
  assert.deepEqual(await select(target, "fieldSelector=metadata.name%3D%3Da"), ["a"]);
  assert.deepEqual(await select(target, "fieldSelector=metadata.name!%3Da"), ["b", "c", "d", "e"]);
  assert.deepEqual(await select(target, "fieldSelector=metadata.name%3Da,metadata.name%3Db"), []);
  assert.deepEqual(await select(target, "fieldSelector=metadata.name!%3Da&labelSelector=app%3Dweb"), ["b"]);
  const inOther = await expectStatus<V1ServiceList>(
    target,
    200,
    "GET",
    `/api/v1/services?fieldSelector=metadata.namespace%3D${other}`,
  );
  assert.deepEqual(
    inOther.items.map((s) => `${s.metadata?.namespace}/${s.metadata?.name}`),
    [`${other}/a`],
  );
  const notOurs = await expectStatus<V1ServiceList>(
    target,
    200,
    "GET",
    `/api/v1/services?fieldSelector=metadata.namespace!%3D${target.ns}&labelSelector=suite%3D${target.ns}`,
  );
  assert.deepEqual(names(notOurs), ["a"]);
});

test("unsupported field labels are 400; kinds add their own", everywhere, async (t) => {
  const target = await serve(t);
  const pods = core(target, "pods");
  const bad = await call<V1Status>(target, "GET", `${core(target, "services")}?fieldSelector=spec.ports%3D1`);
  assert.equal(bad.status, 400);
  assert.equal(bad.body.reason, "BadRequest");
  assert.equal(bad.body.message, "field label not supported: spec.ports");
  const byType = await call(target, "GET", `${core(target, "services")}?fieldSelector=spec.type%3DClusterIP`);
  assert.equal(byType.status, 200, "Services select on spec.type");
  await podsAdmitted(target);
  await expectStatus(target, 201, "POST", pods, {
    metadata: { name: "on-n1" },
    spec: { nodeName: "n1", containers: [{ name: "c", image: "nginx" }] },
  });
  await expectStatus(target, 201, "POST", pods, {
    metadata: { name: "unscheduled" },
    spec: { containers: [{ name: "c", image: "nginx" }] },
  });
  const onNode = await expectStatus<V1PodList>(
    target,
    200,
    "GET",
    `${pods}?fieldSelector=spec.nodeName%3Dn1`,
  );
  assert.deepEqual(names(onNode), ["on-n1"]);
  const pending = await expectStatus<V1PodList>(
    target,
    200,
    "GET",
    `${pods}?fieldSelector=status.phase%3DPending,spec.nodeName%3D`,
  );
  assert.deepEqual(names(pending), ["unscheduled"]);
});
