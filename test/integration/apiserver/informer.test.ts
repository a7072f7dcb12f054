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
import {
  core,
  createService,
  emulatorOnly,
  eventually,
  everywhere,
  expectStatus,
  kubeConfig,
  serve,
  serveEmulator,
  type Target,
} from "./harness.ts";

const merge = "application/merge-patch+json";
/** Breaking watches on purpose takes the emulator's fault injection. */
const faultsOnly = emulatorOnly("breaks watches with the emulator's fault injection (server.faults)");

type ServiceInformer = Informer<V1Service> & ObjectCache<V1Service>;

interface Watched {
  informer: ServiceInformer;
  /** What the add/update/delete callbacks say exists: name -> resourceVersion. */
  mirror: Map<string, string>;
  errors: unknown[];
  lists: number;
}

async function startInformer(t: TestContext, target: Target): Promise<Watched> {
  const kc = kubeConfig(target);
  const api = kc.makeApiClient(CoreV1Api);
  const watched: Watched = {
    informer: undefined as unknown as ServiceInformer,
    mirror: new Map(),
    errors: [],
    lists: 0,
  };
  const informer = makeInformer<V1Service>(kc, core(target, "services"), () => {
    watched.lists++;
    return api.listNamespacedService({ namespace: target.ns });
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
  return watched;
}

/** The informer's watch is open (the emulator counts them). */
async function watching(server: ApiServer): Promise<void> {
  await eventually("the informer's watch to open", () => server.stats().openWatches === 1);
}

async function serverState(target: Target): Promise<Map<string, string>> {
  const list = await expectStatus<V1ServiceList>(target, 200, "GET", core(target, "services"));
  return new Map(list.items.map((s) => [s.metadata?.name ?? "", s.metadata?.resourceVersion ?? ""]));
}

function cacheState(watched: Watched, ns: string): Map<string, string> {
  return new Map(
    watched.informer.list(ns).map((s) => [s.metadata?.name ?? "", s.metadata?.resourceVersion ?? ""]),
  );
}

function sorted(map: Map<string, string>): [string, string][] {
  return [...map.entries()].sort(([a], [b]) => a.localeCompare(b));
}

async function expectExact(target: Target, watched: Watched): Promise<void> {
  const expected = sorted(await serverState(target));
  const cached = () => sorted(cacheState(watched, target.ns));
  await eventually(
    "the informer cache to equal the server",
    () => JSON.stringify(cached()) === JSON.stringify(expected),
    8000,
  ).catch((error: Error) => {
    assert.deepEqual(cached(), expected, error.message);
  });
  assert.deepEqual(cached(), expected, "cache");
  assert.deepEqual(sorted(watched.mirror), expected, "callbacks");
}

/** Creates, updates and deletes (also through finalizers) while the informer may not be watching. */
async function churn(target: Target, round: number): Promise<void> {
  const path = core(target, "services");
  for (let i = 0; i < 4; i++) await createService(target, `r${round}-new-${i}`);
  await expectStatus(
    target,
    200,
    "PATCH",
    `${path}/s1`,
    { metadata: { labels: { round: String(round) } } },
    merge,
  );
  await expectStatus(target, 200, "DELETE", `${path}/r${round}-new-0`);
  await expectStatus(target, 200, "DELETE", `${path}/s${round + 2}`);
  await createService(target, `r${round}-held`, {}, { finalizers: ["example.com/hold"] });
  await expectStatus(target, 200, "DELETE", `${path}/r${round}-held`);
  await expectStatus(
    target,
    200,
    "PATCH",
    `${path}/r${round}-held`,
    { metadata: { finalizers: null } },
    merge,
  );
  await expectStatus(
    target,
    200,
    "PATCH",
    `${path}/s0/status`,
    { status: { loadBalancer: { ingress: [{ ip: `192.0.2.${round}` }] } } },
    merge,
  );
}

async function seed(target: Target): Promise<void> {
  // s0 gets a load balancer status in churn(), which only a LoadBalancer Service may have.
  await createService(target, "s0", { type: "LoadBalancer" });
  for (let i = 1; i < 10; i++) await createService(target, `s${i}`);
}

test(
  "informer: list then watch keeps an exact cache through creates, updates and deletes",
  everywhere,
  async (t) => {
    const target = await serve(t);
    await seed(target);
    const watched = await startInformer(t, target);
    await expectExact(target, watched);
    await churn(target, 1);
    await churn(target, 2);
    await expectExact(target, watched);
    assert.equal(watched.lists, 1);
    assert.deepEqual(watched.errors, []);
  },
);

test(
  "informer: a watch cut off while changes happen resumes from its version without a relist",
  faultsOnly,
  async (t) => {
    const { target, server } = await serveEmulator(t);
    await seed(target);
    const watched = await startInformer(t, target);
    await watching(server);
    await expectExact(target, watched);

    server.faults.dropWatches({ abrupt: true });
    await eventually("the informer to see the broken watch", () => watched.errors.length === 1);
    await churn(target, 1);
    await watched.informer.start();
    await expectExact(target, watched);
    assert.equal(watched.lists, 1, "the events after its version were replayed; no relist was needed");

    await churn(target, 2);
    await expectExact(target, watched);
  },
);

test("informer: a watch the server ends is re-opened and nothing is missed", faultsOnly, async (t) => {
  const { target, server } = await serveEmulator(t);
  await seed(target);
  const watched = await startInformer(t, target);
  await watching(server);
  assert.equal(server.faults.dropWatches(), 1);
  await churn(target, 1);
  await expectExact(target, watched);
  assert.deepEqual(watched.errors, []);
});

test(
  "informer: a forced 410 Gone makes it relist; objects deleted meanwhile disappear",
  faultsOnly,
  async (t) => {
    const { target, server } = await serveEmulator(t);
    await seed(target);
    const watched = await startInformer(t, target);
    await watching(server);
    await expectExact(target, watched);

    server.faults.dropWatches({ abrupt: true });
    await eventually("the informer to see the broken watch", () => watched.errors.length === 1);
    await churn(target, 1);
    server.faults.expireNextWatches(1);
    await watched.informer.start();
    await expectExact(target, watched);
    assert.equal(watched.lists, 2, "the 410 made the informer list again");
    assert.ok(
      !cacheState(watched, target.ns).has("s3"),
      "no phantom of a Service deleted while the watch was down",
    );

    await churn(target, 2);
    await expectExact(target, watched);
  },
);

test(
  "informer: a version that fell out of the watch window gets a real 410 and a relist",
  faultsOnly,
  async (t) => {
    const { target, server } = await serveEmulator(t, { watchWindow: 5 });
    await seed(target);
    const watched = await startInformer(t, target);
    await watching(server);
    server.faults.dropWatches({ abrupt: true });
    await eventually("the informer to see the broken watch", () => watched.errors.length === 1);
    await churn(target, 1);
    await churn(target, 2);
    await watched.informer.start();
    await expectExact(target, watched);
    assert.equal(watched.lists, 2);
  },
);

test(
  "informer: bookmarks keep its version current",
  emulatorOnly(
    "needs bookmarks within milliseconds (bookmarkIntervalMs); a real server sends them about once a minute",
  ),
  async (t) => {
    const { target, server } = await serveEmulator(t, { bookmarkIntervalMs: 20 });
    await seed(target);
    const kc = kubeConfig(target);
    const api = kc.makeApiClient(CoreV1Api);
    const informer = makeInformer<V1Service>(kc, `${core(target, "services")}?allowWatchBookmarks=true`, () =>
      api.listNamespacedService({ namespace: target.ns }),
    );
    t.after(() => informer.stop());
    await informer.start();
    await expectStatus(target, 201, "POST", "/api/v1/nodes", { metadata: { name: "n1" } });
    const latest = server.stats().resourceVersion;
    assert.equal(informer.list().length, 10);
    // No Service changed, so only a BOOKMARK can carry the informer to the node's version.
    // client-node keeps the query string of the informer's path on its watch requests.
    const version = () =>
      Number((informer as unknown as { latestResourceVersion(): string }).latestResourceVersion());
    assert.ok(version() < Number(latest));
    await eventually("a bookmark to move the informer's version", () => version() >= Number(latest));
    assert.equal(informer.list().length, 10);
  },
);
