import assert from "node:assert/strict";
import { test } from "node:test";
import type { V1Service, V1Status } from "@kubernetes/client-node";
import { at, call, createService, expectStatus, serve, watch } from "./harness.ts";

const path = "/api/v1/namespaces/default/services";

test("failNextRequests fails exactly the next N matching requests with a Status", async (t) => {
  const server = await serve(t);
  server.faults.failNextRequests(2);
  for (let i = 0; i < 2; i++) {
    const reply = await call<V1Status>(server, "GET", path);
    assert.equal(reply.status, 500);
    assert.equal(reply.body.kind, "Status");
    assert.equal(reply.body.reason, "InternalError");
    assert.equal(reply.body.code, 500);
  }
  await expectStatus(server, 200, "GET", path);

  server.faults.failNextRequests(1, { code: 429, method: "POST" });
  await expectStatus(server, 200, "GET", path);
  const throttled = await call<V1Status>(server, "POST", path, {
    metadata: { name: "x" },
    spec: { ports: [{ port: 80 }] },
  });
  assert.equal(throttled.status, 429);
  assert.equal(throttled.headers.get("retry-after"), "1");
  assert.equal(throttled.body.reason, "TooManyRequests");

  server.faults.failNextRequests(1, { code: 503, path: /\/services\/web$/ });
  await expectStatus(server, 200, "GET", path);
  assert.equal((await call(server, "GET", `${path}/web`)).status, 503);
});

test("setLatency delays every request until turned off", async (t) => {
  const server = await serve(t);
  server.faults.setLatency(150);
  let started = Date.now();
  await expectStatus(server, 200, "GET", path);
  assert.ok(Date.now() - started >= 140, "the request waited");
  server.faults.reset();
  started = Date.now();
  await expectStatus(server, 200, "GET", path);
  assert.ok(Date.now() - started < 140);
});

test("conflictOnNextWrites makes the next write a 409 Conflict; reads are untouched", async (t) => {
  const server = await serve(t);
  const created = await createService(server, "web");
  server.faults.conflictOnNextWrites(1);
  await expectStatus(server, 200, "GET", `${path}/web`);
  const reply = await call<V1Status>(server, "PUT", `${path}/web`, created);
  assert.equal(reply.status, 409);
  assert.equal(reply.body.reason, "Conflict");
  const retried = await expectStatus<V1Service>(server, 200, "PUT", `${path}/web`, created);
  assert.equal(retried.metadata?.name, "web");
});

test("expireNextWatches answers the next watch with 410 whatever its version", async (t) => {
  const server = await serve(t);
  server.faults.expireNextWatches(1);
  const expired = await watch(
    t,
    server,
    `${path}?watch=true&resourceVersion=${server.stats().resourceVersion}`,
  );
  await expired.end();
  assert.equal(expired.events[0]?.type, "ERROR");
  assert.equal(at(expired.events[0]?.object, "code"), 410);
  const fine = await watch(t, server, `${path}?watch=true&resourceVersion=${server.stats().resourceVersion}`);
  await createService(server, "web");
  await fine.count(1);
  assert.equal(fine.events[0]?.type, "ADDED");
});

test("dropWatches closes every open watch, cleanly or abruptly", async (t) => {
  const server = await serve(t);
  const rv = server.stats().resourceVersion;
  const a = await watch(t, server, `${path}?watch=true&resourceVersion=${rv}`);
  const b = await watch(t, server, `/api/v1/nodes?watch=true&resourceVersion=${rv}`);
  assert.equal(server.stats().openWatches, 2);
  assert.equal(server.faults.dropWatches(), 2);
  await a.end();
  await b.end();
  assert.equal(server.stats().openWatches, 0);
  const c = await watch(t, server, `${path}?watch=true&resourceVersion=${rv}`);
  assert.equal(server.faults.dropWatches({ abrupt: true }), 1);
  await c.end();
  await expectStatus(server, 200, "GET", path);
});

test("faults can be driven over HTTP under /__faults", async (t) => {
  const server = await serve(t);
  const armed = await expectStatus(server, 200, "POST", "/__faults/fail-next?count=1&code=503");
  assert.equal(armed.pendingFailures, 1);
  assert.equal((await call(server, "GET", path)).status, 503);
  await expectStatus(server, 200, "POST", "/__faults/conflict-next?count=1");
  assert.equal(
    (await call(server, "POST", path, { metadata: { name: "a" }, spec: { ports: [{ port: 80 }] } })).status,
    409,
  );
  await expectStatus(server, 200, "POST", "/__faults/latency?ms=50");
  assert.equal((await expectStatus(server, 200, "GET", "/__faults")).latencyMs, 50);
  await expectStatus(server, 200, "POST", "/__faults/expire-next-watch");
  const w = await watch(t, server, `${path}?watch=true&resourceVersion=${server.stats().resourceVersion}`);
  await w.end();
  assert.equal(w.events[0]?.type, "ERROR");
  const w2 = await watch(t, server, `${path}?watch=true&resourceVersion=${server.stats().resourceVersion}`);
  const dropped = await expectStatus(server, 200, "POST", "/__faults/drop-watches");
  assert.equal(dropped.dropped, 1);
  await w2.end();
  await expectStatus(server, 200, "POST", "/__faults/reset");
  assert.deepEqual(await expectStatus(server, 200, "GET", "/__faults"), {
    latencyMs: 0,
    pendingFailures: 0,
    pendingConflicts: 0,
    pendingExpiredWatches: 0,
  });
  assert.equal((await call(server, "POST", "/__faults/nonsense")).status, 404);
});
