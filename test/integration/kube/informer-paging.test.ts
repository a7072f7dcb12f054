// The informer's initial sync pages through the LIST (never one unpaginated answer of a whole
// resource), survives an expired continue token, and keeps an exact cache; on the real
// kube-apiserver and on the emulator.
import assert from "node:assert/strict";
import { afterEach, beforeEach, describe, it } from "node:test";
import { loadKubeConfig, makeKubeApis, mergePatch } from "../../../src/kube/client.ts";
import { Informer, LIST_PAGE_SIZE, listParams, pageOf } from "../../../src/kube/informer.ts";
import { slimNode } from "../../../src/kube/slim.ts";
import type { Node } from "../../../src/model/types.ts";
import { makeLogger } from "../../../src/observability/logger.ts";
import { awsTestEnv } from "../../support/aws.ts";
import { startTestCluster, type TestCluster, waitFor } from "../../support/cluster.ts";

awsTestEnv();
const COUNT = 2 * LIST_PAGE_SIZE + 137;

describe("informer initial sync", () => {
  let c: TestCluster;
  let informer: Informer<Node> | undefined;
  beforeEach(async () => {
    c = await startTestCluster({ nodes: 0 });
  });
  afterEach(async () => {
    informer?.stop();
    await c.close();
  });

  async function makeNodes(from: number, to: number): Promise<void> {
    const names = Array.from({ length: to - from }, (_, i) => `node-${from + i}`);
    for (let i = 0; i < names.length; i += 32) {
      await Promise.all(
        names.slice(i, i + 32).map((name) => c.kube.core.createNode({ body: { metadata: { name } } })),
      );
    }
  }

  it("lists in pages, re-lists on an expired continue token, and stays exact", async () => {
    await makeNodes(0, COUNT);
    // The controller's own identity, through the fault proxy where there is one.
    const kube = makeKubeApis(loadKubeConfig(c.controllerKubeconfig));
    const pages: { continued: boolean; items: number; failed?: number }[] = [];
    let expire = Boolean(c.kubeFaults);
    informer = new Informer<Node>(
      "nodes",
      kube.config,
      "/api/v1/nodes",
      async (page) => {
        try {
          const list = await kube.core.listNode(listParams(page));
          pages.push({ continued: Boolean(page.continue), items: list.items.length });
          // After the first page, the next request (its continue) answers 410 Expired once.
          if (expire) {
            expire = false;
            c.kubeFaults?.failNextRequests(1, { code: 410, path: "/api/v1/nodes", watch: false });
          }
          return pageOf<Node>(list);
        } catch (err) {
          pages.push({
            continued: Boolean(page.continue),
            items: 0,
            failed: (err as { code?: number }).code,
          });
          throw err;
        }
      },
      makeLogger("silent"),
      slimNode,
    );
    informer.start();
    await waitFor("synced", () => informer?.synced, 60_000);
    assert.equal(informer.size, COUNT, "every Node, once");
    assert.ok(
      pages.slice(0, 2).every((p) => p.items <= LIST_PAGE_SIZE),
      `pages of at most ${LIST_PAGE_SIZE}: ${JSON.stringify(pages)}`,
    );
    const full = pages.filter((p) => !p.failed);
    if (c.kubeFaults) {
      assert.deepEqual(
        pages.map((p) => p.failed ?? p.items),
        [LIST_PAGE_SIZE, 410, COUNT],
        "the 410 on the continue started the list again, in one answer (pages that slow would expire again)",
      );
    } else {
      assert.equal(full.length, 3);
    }

    // Then the watch from the list's resourceVersion keeps it exact.
    await makeNodes(COUNT, COUNT + 3);
    await c.kube.core.deleteNode({ name: "node-0" });
    // Size alone passes on the way up (two of three adds before the delete), so wait for the delete.
    await waitFor("watch events applied", () => informer?.get("node-0") === undefined);
    assert.equal(informer.size, COUNT + 2);
    assert.ok(informer.get(`node-${COUNT + 2}`));
  });

  it("keeps its index exact through adds, relabels and deletes, and shares one array until a change", async () => {
    const kube = makeKubeApis(loadKubeConfig(c.controllerKubeconfig));
    informer = new Informer<Node>(
      "nodes",
      kube.config,
      "/api/v1/nodes",
      async (page) => pageOf<Node>(await kube.core.listNode(listParams(page))),
      makeLogger("silent"),
      slimNode,
    );
    const pool = (n: Node) => n.metadata.labels?.pool;
    informer.indexBy(pool);
    const node = (name: string, p: string) => ({ metadata: { name, labels: { pool: p } } });
    await c.kube.core.createNode({ body: node("a", "blue") });
    informer.start();
    await waitFor("synced", () => informer?.synced);
    await c.kube.core.createNode({ body: node("b", "blue") });
    await c.kube.core.createNode({ body: node("c", "green") });
    const names = (p: string) =>
      (informer?.byIndex(p) ?? [])
        .map((n) => n.metadata.name)
        .sort()
        .join();
    await waitFor("three nodes", () => informer?.size === 3);
    assert.equal(names("blue"), "a,b");
    const shared = informer.all();
    assert.equal(informer.all(), shared, "one array while nothing changes");

    await c.kube.core.patchNode({ name: "b", body: { metadata: { labels: { pool: "green" } } } }, mergePatch);
    await c.kube.core.deleteNode({ name: "a" });
    await waitFor("relabel and delete applied", () => names("blue") === "" && names("green") === "b,c");
    assert.notEqual(informer.all(), shared, "a new array after a change");
    assert.equal(informer.all().length, 2);
  });
});
