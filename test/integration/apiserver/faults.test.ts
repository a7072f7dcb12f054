import assert from "node:assert/strict";
import { test } from "node:test";
import type { V1Service, V1Status } from "@kubernetes/client-node";
import {
  at,
  call,
  core,
  createService,
  emulatorOnly,
  expectStatus,
  serveEmulator,
  watch,
} from "./harness.ts";

const faultsOnly = emulatorOnly("fault injection (server.faults, /__faults) is the emulator's own API");

test("failNextRequests fails exactly the next N matching requests with a Status", faultsOnly, async (t) => {
  const { target, server } = await serveEmulator(t);
  const path = core(target, "services");
  server.faults.failNextRequests(2);
  for (let i = 0; i < 2; i++) {
    const reply = await call<V1Status>(target, "GET", path);
    assert.equal(reply.status, 500);
    assert.equal(reply.body.kind, "Status");
    assert.equal(reply.body.reason, "InternalError");
    assert.equal(reply.body.code, 500);
  }
  await expectStatus(target, 200, "GET", path);

  server.faults.failNextRequests(1, { code: 429, method: "POST" });
  await expectStatus(target, 200, "GET", path);
  const throttled = await call<V1Status>(target, "POST", path, {
    metadata: { name: "x" },
    spec: { ports: [{ port: 80 }] },
  });
  assert.equal(throttled.status, 429);
  assert.equal(throttled.headers.get("retry-after"), "1");
  assert.equal(throttled.body.reason, "TooManyRequests");

  server.faults.failNextRequests(1, { code: 503, path: /\/services\/web$/ });
  await expectStatus(target, 200, "GET", path);
  assert.equal((await call(target, "GET", `${path}/web`)).status, 503);
});

test("setLatency delays every request until turned off", faultsOnly, async (t) => {
  const { target, server } = await serveEmulator(t);
  const path = core(target, "services");
  server.faults.setLatency(150);
  let started = Date.now();
  await expectStatus(target, 200, "GET", path);
  assert.ok(Date.now() - started >= 140, "the request waited");
  server.faults.reset();
  started = Date.now();
  await expectStatus(target, 200, "GET", path);
  assert.ok(Date.now() - started < 140);
});

test(
  "conflictOnNextWrites makes the next write a 409 Conflict; reads are untouched",
  faultsOnly,
  async (t) => {
    const { target, server } = await serveEmulator(t);
    const path = core(target, "services");
    const created = await createService(target, "web");
    server.faults.conflictOnNextWrites(1);
    await expectStatus(target, 200, "GET", `${path}/web`);
    const reply = await call<V1Status>(target, "PUT", `${path}/web`, created);
    assert.equal(reply.status, 409);
    assert.equal(reply.body.reason, "Conflict");
    const retried = await expectStatus<V1Service>(target, 200, "PUT", `${path}/web`, created);
    assert.equal(retried.metadata?.name, "web");
  },
);

test("expireNextWatches answers the next watch with 410 whatever its version", faultsOnly, async (t) => {
  const { target, server } = await serveEmulator(t);
  const path = core(target, "services");
  server.faults.expireNextWatches(1);
  const expired = await watch(
    t,
    target,
    `${path}?watch=true&resourceVersion=${server.stats().resourceVersion}`,
  );
  await expired.end();
  assert.equal(expired.events[0]?.type, "ERROR");
  assert.equal(at(expired.events[0]?.object, "code"), 410);
  const fine = await watch(t, target, `${path}?watch=true&resourceVersion=${server.stats().resourceVersion}`);
  await createService(target, "web");
  await fine.count(1);
  assert.equal(fine.events[0]?.type, "ADDED");
});

test("dropWatches closes every open watch, cleanly or abruptly", faultsOnly, async (t) => {
  const { target, server } = await serveEmulator(t);
  const path = core(target, "services");
  const rv = server.stats().resourceVersion;
  const a = await watch(t, target, `${path}?watch=true&resourceVersion=${rv}`);
  const b = await watch(t, target, `/api/v1/nodes?watch=true&resourceVersion=${rv}`);
  assert.equal(server.stats().openWatches, 2);
  assert.equal(server.faults.dropWatches(), 2);
  await a.end();
  await b.end();
  assert.equal(server.stats().openWatches, 0);
  const c = await watch(t, target, `${path}?watch=true&resourceVersion=${rv}`);
  assert.equal(server.faults.dropWatches({ abrupt: true }), 1);
  await c.end();
  await expectStatus(target, 200, "GET", path);
});

test("faults can be driven over HTTP under /__faults", faultsOnly, async (t) => {
  const { target, server } = await serveEmulator(t);
  const path = core(target, "services");
  const armed = await expectStatus(target, 200, "POST", "/__faults/fail-next?count=1&code=503");
  assert.equal(armed.pendingFailures, 1);
  assert.equal((await call(target, "GET", path)).status, 503);
  await expectStatus(target, 200, "POST", "/__faults/conflict-next?count=1");
  assert.equal(
    (await call(target, "POST", path, { metadata: { name: "a" }, spec: { ports: [{ port: 80 }] } })).status,
    409,
  );
  await expectStatus(target, 200, "POST", "/__faults/latency?ms=50");
  assert.equal((await expectStatus(target, 200, "GET", "/__faults")).latencyMs, 50);
  await expectStatus(target, 200, "POST", "/__faults/expire-next-watch");
  const w = await watch(t, target, `${path}?watch=true&resourceVersion=${server.stats().resourceVersion}`);
  await w.end();
  assert.equal(w.events[0]?.type, "ERROR");
  const w2 = await watch(t, target, `${path}?watch=true&resourceVersion=${server.stats().resourceVersion}`);
  const dropped = await expectStatus(target, 200, "POST", "/__faults/drop-watches");
  assert.equal(dropped.dropped, 1);
  await w2.end();
  await expectStatus(target, 200, "POST", "/__faults/reset");
  assert.deepEqual(await expectStatus(target, 200, "GET", "/__faults"), {
    latencyMs: 0,
    pendingFailures: 0,
    pendingConflicts: 0,
    pendingExpiredWatches: 0,
  });
  assert.equal((await call(target, "POST", "/__faults/nonsense")).status, 404);
});
