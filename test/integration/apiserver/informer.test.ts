// A client-node informer must keep an exact cache through every way a watch can break:
// no object missed, none left behind (phantom), and its callbacks tell the same story.
import assert from "node:assert/strict";
import { type TestContext, test } from "node:test";
import {
  CoreV1Api,
  type Informer,
  makeInformer,
  type ObjectCache,
  type V1Service,
  type V1ServiceList,
} from "@kubernetes/client-node";
import type { ApiServer } from "../../../src/sandbox/apiserver/index.ts";
import { createService, eventually, expectStatus, kubeConfig, serve } from "./harness.ts";

const path = "/api/v1/namespaces/default/services";
const merge = "application/merge-patch+json";

type ServiceInformer = Informer<V1Service> & ObjectCache<V1Service>;

interface Watched {
  informer: ServiceInformer;
  /** What the add/update/delete callbacks say exists: name -> resourceVersion. */
  mirror: Map<string, string>;
  errors: unknown[];
  lists: number;
}

async function startInformer(t: TestContext, server: ApiServer): Promise<Watched> {
  const kc = kubeConfig(server);
  const core = kc.makeApiClient(CoreV1Api);
  const watched: Watched = {
    informer: undefined as unknown as ServiceInformer,
    mirror: new Map(),
    errors: [],
    lists: 0,
  };
  const informer = makeInformer<V1Service>(kc, path, () => {
    watched.lists++;
    return core.listNamespacedService({ namespace: "default" });
  });
  watched.informer = informer;
  const record = (svc: V1Service) =>
    watched.mirror.set(svc.metadata?.name ?? "", svc.metadata?.resourceVersion ?? "");
  informer.on("add", record);
  informer.on("update", record);
  informer.on("delete", (svc) => watched.mirror.delete(svc.metadata?.name ?? ""));
  informer.on("error", (error) => watched.errors.push(error));
  t.after(() => informer.stop());
  await informer.start();
  await eventually("the informer's watch to open", () => server.stats().openWatches === 1);
  return watched;
}

async function serverState(server: ApiServer): Promise<Map<string, string>> {
  const list = await expectStatus<V1ServiceList>(server, 200, "GET", path);
  return new Map(list.items.map((s) => [s.metadata?.name ?? "", s.metadata?.resourceVersion ?? ""]));
}

function cacheState(watched: Watched): Map<string, string> {
  return new Map(
    watched.informer.list("default").map((s) => [s.metadata?.name ?? "", s.metadata?.resourceVersion ?? ""]),
  );
}

function sorted(map: Map<string, string>): [string, string][] {
  return [...map.entries()].sort(([a], [b]) => a.localeCompare(b));
}

async function expectExact(server: ApiServer, watched: Watched): Promise<void> {
  const expected = sorted(await serverState(server));
  await eventually(
    "the informer cache to equal the server",
    () => JSON.stringify(sorted(cacheState(watched))) === JSON.stringify(expected),
    8000,
  ).catch((error: Error) => {
    assert.deepEqual(sorted(cacheState(watched)), expected, error.message);
  });
  assert.deepEqual(sorted(cacheState(watched)), expected, "cache");
  assert.deepEqual(sorted(watched.mirror), expected, "callbacks");
}

/** Creates, updates and deletes (also through finalizers) while the informer is not watching. */
async function churn(server: ApiServer, round: number): Promise<void> {
  for (let i = 0; i < 4; i++) await createService(server, `r${round}-new-${i}`);
  await expectStatus(
    server,
    200,
    "PATCH",
    `${path}/s1`,
    { metadata: { labels: { round: String(round) } } },
    merge,
  );
  await expectStatus(server, 200, "DELETE", `${path}/r${round}-new-0`);
  await expectStatus(server, 200, "DELETE", `${path}/s${round + 2}`);
  await createService(server, `r${round}-held`, {}, { finalizers: ["example.com/hold"] });
  await expectStatus(server, 200, "DELETE", `${path}/r${round}-held`);
  await expectStatus(
    server,
    200,
    "PATCH",
    `${path}/r${round}-held`,
    { metadata: { finalizers: null } },
    merge,
  );
  await expectStatus(
    server,
    200,
    "PATCH",
    `${path}/s0/status`,
    { status: { loadBalancer: { ingress: [{ ip: `192.0.2.${round}` }] } } },
    merge,
  );
}

async function seed(server: ApiServer): Promise<void> {
  for (let i = 0; i < 10; i++) await createService(server, `s${i}`);
}

test("informer: a watch cut off while changes happen resumes from its version without a relist", async (t) => {
  const server = await serve(t);
  await seed(server);
  const watched = await startInformer(t, server);
  await expectExact(server, watched);

  server.faults.dropWatches({ abrupt: true });
  await eventually("the informer to see the broken watch", () => watched.errors.length === 1);
  await churn(server, 1);
  await watched.informer.start();
  await expectExact(server, watched);
  assert.equal(watched.lists, 1, "the events after its version were replayed; no relist was needed");

  await churn(server, 2);
  await expectExact(server, watched);
});

test("informer: a watch the server ends is re-opened and nothing is missed", async (t) => {
  const server = await serve(t);
  await seed(server);
  const watched = await startInformer(t, server);
  assert.equal(server.faults.dropWatches(), 1);
  await churn(server, 1);
  await expectExact(server, watched);
  assert.deepEqual(watched.errors, []);
});

test("informer: a forced 410 Gone makes it relist; objects deleted meanwhile disappear", async (t) => {
  const server = await serve(t);
  await seed(server);
  const watched = await startInformer(t, server);
  await expectExact(server, watched);

  server.faults.dropWatches({ abrupt: true });
  await eventually("the informer to see the broken watch", () => watched.errors.length === 1);
  await churn(server, 1);
  server.faults.expireNextWatches(1);
  await watched.informer.start();
  await expectExact(server, watched);
  assert.equal(watched.lists, 2, "the 410 made the informer list again");
  assert.ok(!cacheState(watched).has("s3"), "no phantom of a Service deleted while the watch was down");

  await churn(server, 2);
  await expectExact(server, watched);
});

test("informer: a version that fell out of the watch window gets a real 410 and a relist", async (t) => {
  const server = await serve(t, { watchWindow: 5 });
  await seed(server);
  const watched = await startInformer(t, server);
  server.faults.dropWatches({ abrupt: true });
  await eventually("the informer to see the broken watch", () => watched.errors.length === 1);
  await churn(server, 1);
  await churn(server, 2);
  await watched.informer.start();
  await expectExact(server, watched);
  assert.equal(watched.lists, 2);
});

test("informer: bookmarks keep its version current", async (t) => {
  const server = await serve(t, { bookmarkIntervalMs: 20 });
  await seed(server);
  const kc = kubeConfig(server);
  const core = kc.makeApiClient(CoreV1Api);
  const informer = makeInformer<V1Service>(
    kc,
    "/api/v1/namespaces/default/services?allowWatchBookmarks=true",
    () => core.listNamespacedService({ namespace: "default" }),
  );
  t.after(() => informer.stop());
  await informer.start();
  await expectStatus(server, 201, "POST", "/api/v1/nodes", { metadata: { name: "n1" } });
  const latest = server.stats().resourceVersion;
  assert.equal(informer.list().length, 11);
  // No Service changed, so only a BOOKMARK can carry the informer to the node's version.
  // client-node keeps the query string of the informer's path on its watch requests.
  const version = () =>
    Number((informer as unknown as { latestResourceVersion(): string }).latestResourceVersion());
  assert.ok(version() < Number(latest));
  await eventually("a bookmark to move the informer's version", () => version() >= Number(latest));
  assert.equal(informer.list().length, 11);
});
