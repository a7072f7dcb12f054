import assert from "node:assert/strict";
import { test } from "node:test";
import type { V1ServiceList } from "@kubernetes/client-node";
import {
  at,
  createNamespace,
  createService,
  expectStatus,
  serve,
  type WatchEvent,
  type WatchReader,
  watch,
} from "./harness.ts";

const path = "/api/v1/namespaces/default/services";
const merge = "application/merge-patch+json";

function summary(reader: WatchReader): string[] {
  return reader.events.map((e) => `${e.type} ${e.object.metadata?.name ?? ""}`);
}

test("a watch without resourceVersion starts with ADDED for every current object", async (t) => {
  const server = await serve(t);
  await createService(server, "a");
  await createService(server, "b");
  for (const query of ["watch=true", "watch=1&resourceVersion=0"]) {
    const reader = await watch(t, server, `${path}?${query}`);
    await reader.count(3);
    assert.deepEqual(summary(reader), ["ADDED a", "ADDED b", "ADDED kubernetes"], query);
    assert.equal(reader.events[0]?.object.kind, "Service", "watch objects carry kind and apiVersion");
    await reader.close();
  }
});

test("the stream is chunked newline-delimited JSON with live ADDED, MODIFIED and DELETED", async (t) => {
  const server = await serve(t);
  const list = await expectStatus<V1ServiceList>(server, 200, "GET", path);
  const res = await fetch(
    `${server.url}${path}?watch=true&resourceVersion=${list.metadata?.resourceVersion}`,
  );
  const reader = res.body?.getReader();
  assert.ok(reader);
  t.after(() => reader.cancel());
  assert.equal(res.status, 200);
  assert.equal(res.headers.get("content-type"), "application/json");
  assert.equal(res.headers.get("transfer-encoding"), "chunked");
  await createService(server, "web");
  await expectStatus(server, 200, "PATCH", `${path}/web`, { metadata: { labels: { a: "b" } } }, merge);
  await expectStatus(server, 200, "DELETE", `${path}/web`);
  let text = "";
  while (text.split("\n").length < 4) {
    const chunk = await reader.read();
    assert.ok(!chunk.done);
    text += new TextDecoder().decode(chunk.value);
  }
  const lines = text
    .trim()
    .split("\n")
    .map((l) => JSON.parse(l) as WatchEvent);
  assert.deepEqual(
    lines.map((l) => l.type),
    ["ADDED", "MODIFIED", "DELETED"],
  );
  const [first = 0, second = 0, third = 0] = lines.map((l) => Number(l.object.metadata?.resourceVersion));
  assert.ok(first < second && second < third, "each event carries its own version");
});

test("a watch resumes from a resourceVersion with every event after it", async (t) => {
  const server = await serve(t);
  const a = await createService(server, "a");
  await expectStatus(server, 200, "PATCH", `${path}/a`, { metadata: { labels: { v: "2" } } }, merge);
  await createService(server, "b");
  await expectStatus(server, 200, "DELETE", `${path}/a`);
  const reader = await watch(t, server, `${path}?watch=true&resourceVersion=${a.metadata?.resourceVersion}`);
  await reader.count(3);
  assert.deepEqual(summary(reader), ["MODIFIED a", "ADDED b", "DELETED a"]);
  await createService(server, "c");
  await reader.count(4);
  assert.equal(summary(reader)[3], "ADDED c");
});

test("watches on all namespaces and on one namespace see their own objects", async (t) => {
  const server = await serve(t);
  await createNamespace(server, "other");
  const rv = server.stats().resourceVersion;
  const all = await watch(t, server, `/api/v1/services?watch=true&resourceVersion=${rv}`);
  const one = await watch(t, server, `/api/v1/namespaces/other/services?watch=true&resourceVersion=${rv}`);
  const legacy = await watch(t, server, `/api/v1/watch/namespaces/other/services?resourceVersion=${rv}`);
  await createService(server, "x");
  await createService(server, "y", {}, {}, "other");
  await all.count(2);
  await one.count(1);
  await legacy.count(1);
  assert.deepEqual(summary(all), ["ADDED x", "ADDED y"]);
  assert.deepEqual(summary(one), ["ADDED y"]);
  assert.deepEqual(summary(legacy), ["ADDED y"]);
});

test("selectors apply to watches; objects entering or leaving the selection are ADDED or DELETED", async (t) => {
  const server = await serve(t);
  const rv = server.stats().resourceVersion;
  const reader = await watch(
    t,
    server,
    `${path}?watch=true&resourceVersion=${rv}&labelSelector=${encodeURIComponent("app=web")}`,
  );
  const named = await watch(
    t,
    server,
    `${path}?watch=true&resourceVersion=${rv}&fieldSelector=${encodeURIComponent("metadata.name=two")}`,
  );
  await createService(server, "one", {}, { labels: { app: "web" } });
  await createService(server, "two", {}, { labels: { app: "db" } });
  await expectStatus(server, 200, "PATCH", `${path}/two`, { metadata: { labels: { app: "web" } } }, merge);
  await expectStatus(server, 200, "PATCH", `${path}/one`, { metadata: { labels: { app: "db" } } }, merge);
  await expectStatus(server, 200, "PATCH", `${path}/two`, { metadata: { annotations: { x: "y" } } }, merge);
  await expectStatus(server, 200, "PATCH", `${path}/one`, { metadata: { annotations: { x: "y" } } }, merge);
  await expectStatus(server, 200, "DELETE", `${path}/two`);
  await reader.count(5);
  assert.deepEqual(summary(reader), ["ADDED one", "ADDED two", "DELETED one", "MODIFIED two", "DELETED two"]);
  assert.equal(
    reader.events[2]?.object.metadata?.labels?.app,
    "db",
    "the DELETED event shows the object as it left",
  );
  await named.count(4);
  assert.deepEqual(summary(named), ["ADDED two", "MODIFIED two", "MODIFIED two", "DELETED two"]);
});

test("a single-object watch path is a watch with a metadata.name field selector", async (t) => {
  const server = await serve(t);
  await createService(server, "a");
  await createService(server, "b");
  const reader = await watch(t, server, `/api/v1/watch/namespaces/default/services/b`);
  await reader.count(1);
  assert.deepEqual(summary(reader), ["ADDED b"]);
});

test("allowWatchBookmarks sends periodic BOOKMARK events with the current version", async (t) => {
  const server = await serve(t, { bookmarkIntervalMs: 30 });
  const reader = await watch(
    t,
    server,
    `${path}?watch=true&allowWatchBookmarks=true&resourceVersion=${server.stats().resourceVersion}`,
  );
  await createService(server, "web");
  await reader.until((events) =>
    events.some(
      (e) =>
        e.type === "BOOKMARK" &&
        Number(e.object.metadata?.resourceVersion) >= Number(server.stats().resourceVersion),
    ),
  );
  const bookmark = reader.events.find((e) => e.type === "BOOKMARK");
  assert.equal(bookmark?.object.kind, "Service");
  assert.equal(bookmark?.object.apiVersion, "v1");
  assert.deepEqual(Object.keys(bookmark?.object.metadata ?? {}), ["resourceVersion"]);
  const quiet = await watch(
    t,
    server,
    `${path}?watch=true&resourceVersion=${server.stats().resourceVersion}`,
  );
  await new Promise((resolve) => setTimeout(resolve, 100));
  assert.deepEqual(quiet.events, [], "no bookmarks unless asked for");
});

test("sendInitialEvents streams the state then a bookmark marking its end", async (t) => {
  const server = await serve(t, { bookmarkIntervalMs: 60_000 });
  await createService(server, "a");
  const reader = await watch(
    t,
    server,
    `${path}?watch=true&sendInitialEvents=true&allowWatchBookmarks=true&resourceVersionMatch=NotOlderThan`,
  );
  await reader.count(3);
  assert.deepEqual(
    reader.events.map((e) => e.type),
    ["ADDED", "ADDED", "BOOKMARK"],
  );
  assert.equal(reader.events[2]?.object.metadata?.annotations?.["k8s.io/initial-events-end"], "true");
});

test("timeoutSeconds ends the stream cleanly", async (t) => {
  const server = await serve(t);
  const started = Date.now();
  const reader = await watch(
    t,
    server,
    `${path}?watch=true&timeoutSeconds=1&resourceVersion=${server.stats().resourceVersion}`,
  );
  await reader.end(3000);
  const elapsed = Date.now() - started;
  assert.ok(elapsed >= 900 && elapsed < 2500, `ended after ${elapsed} ms`);
  assert.equal(server.stats().openWatches, 0);
});

test("a version older than the retained window gets an in-stream 410 Expired", async (t) => {
  const server = await serve(t, { watchWindow: 3 });
  const first = await createService(server, "s0");
  for (let i = 1; i <= 5; i++) await createService(server, `s${i}`);
  const reader = await watch(
    t,
    server,
    `${path}?watch=true&resourceVersion=${first.metadata?.resourceVersion}`,
  );
  assert.equal(reader.status, 200);
  await reader.end();
  assert.equal(reader.events.length, 1);
  const error = reader.events[0];
  assert.equal(error?.type, "ERROR");
  assert.equal(error?.object.kind, "Status");
  assert.equal(at(error?.object, "code"), 410);
  assert.equal(at(error?.object, "reason"), "Expired");
  assert.match(String(at(error?.object, "message")), /^too old resource version: \d+ \(\d+\)$/);
  const recent = await watch(
    t,
    server,
    `${path}?watch=true&resourceVersion=${server.stats().resourceVersion}`,
  );
  await createService(server, "later");
  await recent.count(1);
  assert.deepEqual(summary(recent), ["ADDED later"], "a version inside the window still works");
});

test("a non-numeric resourceVersion on watch is 400", async (t) => {
  const server = await serve(t);
  const res = await fetch(`${server.url}${path}?watch=true&resourceVersion=abc`);
  assert.equal(res.status, 400);
  await res.text();
});

test("Table watches (kubectl get -w) carry one row per event", async (t) => {
  const server = await serve(t);
  const accept = "application/json;as=Table;v=v1;g=meta.k8s.io,application/json";
  const reader = await watch(
    t,
    server,
    `${path}?watch=true&resourceVersion=${server.stats().resourceVersion}`,
    { Accept: accept },
  );
  await createService(server, "web", { type: "LoadBalancer" });
  await reader.count(1);
  const table = reader.events[0]?.object;
  assert.equal(table?.kind, "Table");
  const rows = at(table, "rows") as { cells: unknown[]; object: { kind: string } }[];
  assert.equal(rows[0]?.cells[0], "web");
  assert.equal(rows[0]?.cells[1], "LoadBalancer");
  assert.equal(rows[0]?.cells[3], "<pending>");
  assert.equal(rows[0]?.object.kind, "PartialObjectMetadata");
});
