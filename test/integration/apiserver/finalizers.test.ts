import assert from "node:assert/strict";
import { test } from "node:test";
import type { V1Service, V1Status } from "@kubernetes/client-node";
import {
  call,
  core,
  createService,
  everywhere,
  expectStatus,
  freeNodePort,
  listVersion,
  serve,
  watch,
} from "./harness.ts";

const merge = "application/merge-patch+json";

test("delete with finalizers marks the object terminating and keeps it", everywhere, async (t) => {
  const target = await serve(t);
  const path = core(target, "services");
  const created = await createService(target, "web", {}, { finalizers: ["service.k8s.aws/resources"] });
  const events = await watch(
    t,
    target,
    `${path}?watch=true&resourceVersion=${created.metadata?.resourceVersion}`,
  );
  const deleted = await expectStatus<V1Service>(target, 200, "DELETE", `${path}/web`);
  assert.ok(deleted.metadata?.deletionTimestamp);
  assert.equal(deleted.metadata?.deletionGracePeriodSeconds, 0);
  const read = await expectStatus<V1Service>(target, 200, "GET", `${path}/web`);
  assert.equal(String(read.metadata?.deletionTimestamp), String(deleted.metadata?.deletionTimestamp));
  const again = await expectStatus<V1Service>(target, 200, "DELETE", `${path}/web`);
  assert.equal(
    again.metadata?.resourceVersion,
    read.metadata?.resourceVersion,
    "a second delete changes nothing",
  );
  await events.count(1);
  assert.equal(events.events[0]?.type, "MODIFIED");
  assert.ok(events.events[0]?.object.metadata?.deletionTimestamp);
});

test("removing the last finalizer (update or patch) removes the object", everywhere, async (t) => {
  const target = await serve(t);
  const path = core(target, "services");
  await createService(target, "by-patch", {}, { finalizers: ["a.io/x", "b.io/y"] });
  await createService(target, "by-update", {}, { finalizers: ["a.io/x"] });
  await expectStatus(target, 200, "DELETE", `${path}/by-patch`);
  await expectStatus(target, 200, "DELETE", `${path}/by-update`);
  const start = await listVersion(target, path);
  const events = await watch(t, target, `${path}?watch=1&resourceVersion=${start}`);

  const one = await expectStatus<V1Service>(
    target,
    200,
    "PATCH",
    `${path}/by-patch`,
    { metadata: { finalizers: ["b.io/y"] } },
    merge,
  );
  assert.deepEqual(one.metadata?.finalizers, ["b.io/y"]);
  await expectStatus(
    target,
    200,
    "PATCH",
    `${path}/by-patch`,
    [{ op: "remove", path: "/metadata/finalizers" }],
    "application/json-patch+json",
  );
  assert.equal((await call(target, "GET", `${path}/by-patch`)).status, 404);

  const current = await expectStatus<V1Service>(target, 200, "GET", `${path}/by-update`);
  current.metadata = { ...current.metadata, finalizers: [] };
  const last = await expectStatus<V1Service>(target, 200, "PUT", `${path}/by-update`, current);
  assert.equal(last.metadata?.name, "by-update");
  assert.equal((await call(target, "GET", `${path}/by-update`)).status, 404);

  await events.count(3);
  assert.deepEqual(
    events.events.map((e) => `${e.type} ${e.object.metadata?.name}`),
    ["MODIFIED by-patch", "DELETED by-patch", "DELETED by-update"],
  );
  const deletedRv = Number(events.events[1]?.object.metadata?.resourceVersion);
  assert.ok(deletedRv > Number(one.metadata?.resourceVersion), "DELETED carries the version of the delete");
});

test("no new finalizer may be added to an object being deleted", everywhere, async (t) => {
  const target = await serve(t);
  const path = core(target, "services");
  await createService(target, "web", {}, { finalizers: ["a.io/x"] });
  await expectStatus(target, 200, "DELETE", `${path}/web`);
  const reply = await call<V1Status>(
    target,
    "PATCH",
    `${path}/web`,
    { metadata: { finalizers: ["a.io/x", "b.io/new"] } },
    merge,
  );
  assert.equal(reply.status, 422);
  assert.equal(reply.body.reason, "Invalid");
  assert.equal(
    reply.body.message,
    'Service "web" is invalid: metadata.finalizers: Forbidden: no new finalizers can be added if the object is being deleted, found new finalizers []string{"b.io/new"}',
  );
  const relabel = await expectStatus<V1Service>(
    target,
    200,
    "PATCH",
    `${path}/web`,
    { metadata: { labels: { still: "editable" } } },
    merge,
  );
  assert.equal(relabel.metadata?.labels?.still, "editable", "other updates to a terminating object are fine");
  const clear = await call(target, "PATCH", `${path}/web`, { metadata: { deletionTimestamp: null } }, merge);
  assert.equal(clear.status, 200);
  const read = await expectStatus<V1Service>(target, 200, "GET", `${path}/web`);
  assert.ok(read.metadata?.deletionTimestamp, "clients cannot clear deletionTimestamp");
});

test("a Service holding node ports keeps them until its finalizers are gone", everywhere, async (t) => {
  const target = await serve(t);
  const path = core(target, "services");
  const port = await freeNodePort(target);
  await createService(
    target,
    "web",
    { type: "NodePort", ports: [{ port: 80, nodePort: port }] },
    { finalizers: ["a.io/x"] },
  );
  await expectStatus(target, 200, "DELETE", `${path}/web`);
  const taken = await call(target, "POST", path, {
    metadata: { name: "next" },
    spec: { type: "NodePort", ports: [{ port: 80, nodePort: port }] },
  });
  assert.equal(taken.status, 422);
  await expectStatus(target, 200, "PATCH", `${path}/web`, { metadata: { finalizers: null } }, merge);
  await createService(target, "next", { type: "NodePort", ports: [{ port: 80, nodePort: port }] });
});
