import assert from "node:assert/strict";
import { test } from "node:test";
import type { V1ServiceList, V1Status } from "@kubernetes/client-node";
import {
  at,
  call,
  core,
  createNamespace,
  createService,
  emulatorOnly,
  everywhere,
  expectStatus,
  listVersion,
  send,
  serve,
  serveEmulator,
  type WatchEvent,
  type WatchReader,
  watch,
} from "./harness.ts";

const merge = "application/merge-patch+json";

function summary(reader: WatchReader): string[] {
  return reader.events.map((e) => `${e.type} ${e.object.metadata?.name ?? ""}`);
}

test("a watch without resourceVersion starts with ADDED for every current object", everywhere, async (t) => {
  const target = await serve(t);
  const path = core(target, "services");
  await createService(target, "a");
  await createService(target, "b");
  for (const query of ["watch=true", "watch=1&resourceVersion=0"]) {
    const reader = await watch(t, target, `${path}?${query}`);
    await reader.count(2);
    assert.deepEqual(summary(reader), ["ADDED a", "ADDED b"], query);
    assert.equal(reader.events[0]?.object.kind, "Service", "watch objects carry kind and apiVersion");
    await reader.close();
  }
});

test(
  "the stream is chunked newline-delimited JSON with live ADDED, MODIFIED and DELETED",
  everywhere,
  async (t) => {
    const target = await serve(t);
    const path = core(target, "services");
    const list = await expectStatus<V1ServiceList>(target, 200, "GET", path);
    const res = await send(target, `${path}?watch=true&resourceVersion=${list.metadata?.resourceVersion}`);
    const reader = res.body?.getReader();
    assert.ok(reader);
    t.after(() => reader.cancel());
    // Chunked framing is HTTP/1.1's; over TLS the real server may speak HTTP/2, which has none.
    assert.equal(res.status, 200);
    assert.equal(res.headers.get("content-type"), "application/json");
    await createService(target, "web");
    await expectStatus(target, 200, "PATCH", `${path}/web`, { metadata: { labels: { a: "b" } } }, merge);
    await expectStatus(target, 200, "DELETE", `${path}/web`);
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
  },
);

test("a watch resumes from a resourceVersion with every event after it", everywhere, async (t) => {
  const target = await serve(t);
  const path = core(target, "services");
  const a = await createService(target, "a");
  await expectStatus(target, 200, "PATCH", `${path}/a`, { metadata: { labels: { v: "2" } } }, merge);
  await createService(target, "b");
  await expectStatus(target, 200, "DELETE", `${path}/a`);
  const reader = await watch(t, target, `${path}?watch=true&resourceVersion=${a.metadata?.resourceVersion}`);
  await reader.count(3);
  assert.deepEqual(summary(reader), ["MODIFIED a", "ADDED b", "DELETED a"]);
  await createService(target, "c");
  await reader.count(4);
  assert.equal(summary(reader)[3], "ADDED c");
});

test("watches on all namespaces and on one namespace see their own objects", everywhere, async (t) => {
  const target = await serve(t);
  const path = core(target, "services");
  const other = await createNamespace(target, "other");
  const rv = await listVersion(target, path);
  const suite = `labelSelector=suite%3D${target.ns}`;
  const all = await watch(t, target, `/api/v1/services?watch=true&resourceVersion=${rv}&${suite}`);
  const one = await watch(t, target, `${core(target, "services", other)}?watch=true&resourceVersion=${rv}`);
  const legacy = await watch(t, target, `/api/v1/watch/namespaces/${other}/services?resourceVersion=${rv}`);
  await createService(target, "x", {}, { labels: { suite: target.ns } });
  await createService(target, "y", {}, { labels: { suite: target.ns } }, other);
  await all.count(2);
  await one.count(1);
  await legacy.count(1);
  assert.deepEqual(summary(all), ["ADDED x", "ADDED y"]);
  assert.deepEqual(summary(one), ["ADDED y"]);
  assert.deepEqual(summary(legacy), ["ADDED y"]);
});

test(
  "selectors apply to watches; objects entering or leaving the selection are ADDED or DELETED",
  everywhere,
  async (t) => {
    const target = await serve(t);
    const path = core(target, "services");
    const rv = await listVersion(target, path);
    const reader = await watch(
      t,
      target,
      `${path}?watch=true&resourceVersion=${rv}&labelSelector=${encodeURIComponent("app=web")}`,
    );
    const named = await watch(
      t,
      target,
      `${path}?watch=true&resourceVersion=${rv}&fieldSelector=${encodeURIComponent("metadata.name=two")}`,
    );
    await createService(target, "one", {}, { labels: { app: "web" } });
    await createService(target, "two", {}, { labels: { app: "db" } });
    await expectStatus(target, 200, "PATCH", `${path}/two`, { metadata: { labels: { app: "web" } } }, merge);
    await expectStatus(target, 200, "PATCH", `${path}/one`, { metadata: { labels: { app: "db" } } }, merge);
    await expectStatus(target, 200, "PATCH", `${path}/two`, { metadata: { annotations: { x: "y" } } }, merge);
    await expectStatus(target, 200, "PATCH", `${path}/one`, { metadata: { annotations: { x: "y" } } }, merge);
    await expectStatus(target, 200, "DELETE", `${path}/two`);
    await reader.count(5);
    assert.deepEqual(summary(reader), [
      "ADDED one",
      "ADDED two",
      "DELETED one",
      "MODIFIED two",
      "DELETED two",
    ]);
    const left = reader.events[2]?.object;
    assert.equal(left?.metadata?.labels?.app, "web", "the DELETED event shows the object as it was selected");
    assert.ok(
      Number(left?.metadata?.resourceVersion) > Number(reader.events[0]?.object.metadata?.resourceVersion),
      "at the version of the change that took it out",
    );
    await named.count(4);
    assert.deepEqual(summary(named), ["ADDED two", "MODIFIED two", "MODIFIED two", "DELETED two"]);
  },
);

test("a single-object watch path is a watch with a metadata.name field selector", everywhere, async (t) => {
  const target = await serve(t);
  await createService(target, "a");
  await createService(target, "b");
  const reader = await watch(t, target, `/api/v1/watch/namespaces/${target.ns}/services/b`);
  await reader.count(1);
  assert.deepEqual(summary(reader), ["ADDED b"]);
});

test(
  "allowWatchBookmarks sends periodic BOOKMARK events with the current version",
  emulatorOnly("bookmarkIntervalMs; see the timeoutSeconds bookmark for what a real server does"),
  async (t) => {
    const { target } = await serveEmulator(t, { bookmarkIntervalMs: 30 });
    const path = core(target, "services");
    const reader = await watch(
      t,
      target,
      `${path}?watch=true&allowWatchBookmarks=true&resourceVersion=${await listVersion(target, path)}`,
    );
    const web = await createService(target, "web");
    await reader.until((events) =>
      events.some(
        (e) =>
          e.type === "BOOKMARK" &&
          Number(e.object.metadata?.resourceVersion) >= Number(web.metadata?.resourceVersion),
      ),
    );
    const quiet = await watch(
      t,
      target,
      `${path}?watch=true&resourceVersion=${await listVersion(target, path)}`,
    );
    await new Promise((resolve) => setTimeout(resolve, 100));
    assert.deepEqual(quiet.events, [], "no bookmarks unless asked for");
  },
);

const watchList =
  "watch=true&sendInitialEvents=true&allowWatchBookmarks=true&resourceVersionMatch=NotOlderThan";

test(
  "watch-list (sendInitialEvents) is served: the state, then a BOOKMARK annotated initial-events-end",
  everywhere,
  async (t) => {
    const target = await serve(t);
    const path = core(target, "services");
    const a = await createService(target, "a");
    await createService(target, "b");
    const reader = await watch(t, target, `${path}?${watchList}`);
    await reader.count(3);
    assert.deepEqual(summary(reader), ["ADDED a", "ADDED b", "BOOKMARK "]);
    const end = reader.events[2]?.object;
    // An empty Service (Go zero values: spec {}, status.loadBalancer {}) at the list's version.
    assert.deepEqual(Object.keys(end ?? {}), ["kind", "apiVersion", "metadata", "spec", "status"]);
    assert.equal(end?.kind, "Service");
    assert.equal(end?.apiVersion, "v1");
    assert.deepEqual(end?.spec, {});
    assert.deepEqual(end?.status, { loadBalancer: {} });
    assert.deepEqual(Object.keys(end?.metadata ?? {}), ["resourceVersion", "annotations"]);
    assert.deepEqual(end?.metadata?.annotations, { "k8s.io/initial-events-end": "true" });
    assert.ok(BigInt(end?.metadata?.resourceVersion ?? "0") >= BigInt(a.metadata?.resourceVersion ?? "x"));
    await createService(target, "c");
    await reader.count(4);
    assert.equal(summary(reader)[3], "ADDED c", "then it carries on as a watch");
  },
);

test(
  "watch-list from a resourceVersion still sends the whole state; without bookmarks, no end marker",
  everywhere,
  async (t) => {
    const target = await serve(t);
    const path = core(target, "services");
    const a = await createService(target, "a");
    await createService(target, "b");
    const fromA = await watch(
      t,
      target,
      `${path}?${watchList}&resourceVersion=${a.metadata?.resourceVersion}`,
    );
    await fromA.count(3);
    assert.deepEqual(summary(fromA), ["ADDED a", "ADDED b", "BOOKMARK "]);
    const quiet = await watch(
      t,
      target,
      `${path}?watch=true&sendInitialEvents=true&resourceVersionMatch=NotOlderThan&timeoutSeconds=1`,
    );
    await quiet.end();
    assert.deepEqual(
      summary(quiet),
      ["ADDED a", "ADDED b"],
      "the end marker is a bookmark, and those were not allowed",
    );
  },
);

test("watch-list options that do not go together are a 422 on ListOptions", everywhere, async (t) => {
  const target = await serve(t);
  const path = core(target, "services");
  const cases: [string, string[]][] = [
    [
      "watch=true&sendInitialEvents=true",
      ["Forbidden: sendInitialEvents requires setting resourceVersionMatch to NotOlderThan"],
    ],
    [
      "watch=true&sendInitialEvents=true&allowWatchBookmarks=true&resourceVersionMatch=Exact",
      [
        "Forbidden: sendInitialEvents requires setting resourceVersionMatch to NotOlderThan",
        'Unsupported value: "Exact": supported values: "NotOlderThan"',
      ],
    ],
    [
      "watch=true&resourceVersionMatch=NotOlderThan&resourceVersion=1",
      ["Forbidden: resourceVersionMatch is forbidden for watch unless sendInitialEvents is provided"],
    ],
    ["sendInitialEvents=true", ["Forbidden: sendInitialEvents is forbidden for list"]],
  ];
  for (const [query, messages] of cases) {
    const reply = await call<V1Status>(target, "GET", `${path}?${query}`);
    assert.equal(reply.status, 422, query);
    assert.equal(reply.body.details?.kind, "ListOptions", query);
    assert.equal(reply.body.details?.group, "meta.k8s.io", query);
    assert.deepEqual(
      reply.body.details?.causes?.map((c) => c.message),
      messages,
      query,
    );
    assert.match(reply.body.message ?? "", /^ListOptions\.meta\.k8s\.io "" is invalid: /, query);
  }
});

test(
  "allowWatchBookmarks: a BOOKMARK shortly before the watch times out, once the version moved",
  everywhere,
  async (t) => {
    const target = await serve(t);
    const path = core(target, "services");
    const started = Date.now();
    const reader = await watch(
      t,
      target,
      `${path}?watch=true&allowWatchBookmarks=true&timeoutSeconds=4&resourceVersion=${await listVersion(target, path)}`,
    );
    const web = await createService(target, "web");
    await reader.until((events) => events.some((e) => e.type === "BOOKMARK"), 5000);
    const elapsed = Date.now() - started;
    assert.ok(
      elapsed >= 1000 && elapsed < 3800,
      `the bookmark came ${elapsed} ms in, about 2 s before the timeout`,
    );
    const bookmark = reader.events.find((e) => e.type === "BOOKMARK")?.object;
    assert.equal(summary(reader)[0], "ADDED web");
    assert.ok(
      BigInt(bookmark?.metadata?.resourceVersion ?? "0") >= BigInt(web.metadata?.resourceVersion ?? "x"),
    );
    assert.deepEqual(Object.keys(bookmark?.metadata ?? {}), ["resourceVersion"]);
    await reader.end(3000);
  },
);

test("timeoutSeconds ends the stream cleanly", everywhere, async (t) => {
  const target = await serve(t);
  const path = core(target, "services");
  const started = Date.now();
  const reader = await watch(
    t,
    target,
    `${path}?watch=true&timeoutSeconds=1&resourceVersion=${await listVersion(target, path)}`,
  );
  await reader.end(3000);
  const elapsed = Date.now() - started;
  assert.ok(elapsed >= 900 && elapsed < 2500, `ended after ${elapsed} ms`);
  assert.deepEqual(reader.events, []);
});

test(
  "a version older than the retained window gets an in-stream 410 Expired",
  emulatorOnly("watchWindow; a real server answers so only after etcd compaction (every 5 minutes)"),
  async (t) => {
    const { target } = await serveEmulator(t, { watchWindow: 3 });
    const path = core(target, "services");
    const first = await createService(target, "s0");
    for (let i = 1; i <= 5; i++) await createService(target, `s${i}`);
    const reader = await watch(
      t,
      target,
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
      target,
      `${path}?watch=true&resourceVersion=${await listVersion(target, path)}`,
    );
    await createService(target, "later");
    await recent.count(1);
    assert.deepEqual(summary(recent), ["ADDED later"], "a version inside the window still works");
  },
);

test("a non-numeric resourceVersion: a bare 500 on watch, 400 BadRequest on list", everywhere, async (t) => {
  const target = await serve(t);
  const parse = 'resourceVersion: Invalid value: "abc": strconv.ParseUint: parsing "abc": invalid syntax';
  const watched = await call(target, "GET", `${core(target, "services")}?watch=true&resourceVersion=abc`);
  assert.deepEqual(watched.body, {
    kind: "Status",
    apiVersion: "v1",
    metadata: {},
    status: "Failure",
    message: parse,
    code: 500,
  });
  const listed = await call(target, "GET", `${core(target, "services")}?resourceVersion=abc`);
  assert.equal(listed.status, 400);
  assert.equal(listed.body.reason, "BadRequest");
  assert.equal(listed.body.message, `invalid resource version: ${parse}`);
});

test("Table watches (kubectl get -w) carry one row per event", everywhere, async (t) => {
  const target = await serve(t);
  const path = core(target, "services");
  const accept = "application/json;as=Table;v=v1;g=meta.k8s.io,application/json";
  const reader = await watch(
    t,
    target,
    `${path}?watch=true&resourceVersion=${await listVersion(target, path)}`,
    { Accept: accept },
  );
  await createService(target, "web", { type: "LoadBalancer" });
  await reader.count(1);
  const table = reader.events[0]?.object;
  assert.equal(table?.kind, "Table");
  const rows = at(table, "rows") as { cells: unknown[]; object: { kind: string } }[];
  assert.equal(rows[0]?.cells[0], "web");
  assert.equal(rows[0]?.cells[1], "LoadBalancer");
  assert.equal(rows[0]?.cells[3], "<pending>");
  assert.equal(rows[0]?.object.kind, "PartialObjectMetadata");
});
