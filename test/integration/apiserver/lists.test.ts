// What a list reads, by its resourceVersion, resourceVersionMatch, limit and continue: the
// informer's initial sync (and its memory) depends on these.
import assert from "node:assert/strict";
import { test } from "node:test";
import type { V1ConfigMapList, V1Status } from "@kubernetes/client-node";
import {
  call,
  core,
  emulatorOnly,
  everywhere,
  expectStatus,
  names,
  serve,
  serveEmulator,
  type Target,
} from "./harness.ts";

async function fill(target: Target, ...list: string[]): Promise<bigint[]> {
  const versions: bigint[] = [];
  for (const name of list) {
    const made = await expectStatus(target, 201, "POST", core(target, "configmaps"), { metadata: { name } });
    versions.push(BigInt(made.metadata?.resourceVersion ?? "0"));
  }
  return versions;
}

/** A list as it is on the wire (client-node's model calls `continue` `_continue`). */
interface Page extends V1ConfigMapList {
  metadata?: { resourceVersion?: string; continue?: string; remainingItemCount?: number };
}

function list(target: Target, query: string): Promise<Page> {
  return expectStatus<Page>(target, 200, "GET", `${core(target, "configmaps")}?${query}`);
}

test(
  "a list is as new as the store: its resourceVersion is at least every write before it",
  everywhere,
  async (t) => {
    const target = await serve(t);
    const versions = await fill(target, "a", "b", "c");
    for (const query of [
      "",
      "resourceVersion=0",
      `resourceVersion=${versions[0]}&resourceVersionMatch=NotOlderThan`,
    ]) {
      const page = await list(target, query);
      assert.deepEqual(names(page), ["a", "b", "c"], query);
      assert.ok(BigInt(page.metadata?.resourceVersion ?? "0") >= (versions[2] ?? 0n), query);
      assert.equal(page.metadata?.continue, undefined, query);
    }
    const legacy = await list(target, `resourceVersion=${versions[0]}`);
    assert.deepEqual(names(legacy), ["a", "b", "c"], "a version without a match means 'not older than'");
  },
);

test("resourceVersionMatch=Exact reads the state at that version", everywhere, async (t) => {
  const target = await serve(t);
  const [, b] = await fill(target, "a", "b", "c");
  const exact = await list(target, `resourceVersion=${b}&resourceVersionMatch=Exact`);
  assert.deepEqual(names(exact), ["a", "b"]);
  assert.equal(exact.metadata?.resourceVersion, String(b));
  const paged = await list(target, `resourceVersion=${b}&limit=1`);
  assert.deepEqual(names(paged), ["a"], "with a limit and no match, a version is exact (the legacy rule)");
  assert.equal(paged.metadata?.resourceVersion, String(b));
  assert.equal(paged.metadata?.remainingItemCount, 1);
});

test("resourceVersion=0 is served from the watch cache, which ignores the limit", everywhere, async (t) => {
  const target = await serve(t);
  await fill(target, "a", "b", "c");
  const all = await list(target, "resourceVersion=0&limit=1");
  assert.deepEqual(names(all), ["a", "b", "c"]);
  assert.equal(all.metadata?.continue, undefined);
});

test("a version the store has not reached is a 504 Timeout saying so", everywhere, async (t) => {
  const target = await serve(t);
  const reply = await call<V1Status>(
    target,
    "GET",
    `${core(target, "configmaps")}?resourceVersion=999999999&resourceVersionMatch=NotOlderThan`,
  );
  assert.equal(reply.status, 504);
  assert.equal(reply.body.reason, "Timeout");
  assert.match(reply.body.message ?? "", /^Timeout: Too large resource version: 999999999, current: \d+$/);
  assert.deepEqual(reply.body.details, {
    causes: [{ reason: "ResourceVersionTooLarge", message: "Too large resource version" }],
    retryAfterSeconds: 1,
  });
});

test("list options that do not go together are a 422 on ListOptions", everywhere, async (t) => {
  const target = await serve(t);
  const path = core(target, "configmaps");
  const cases: [string, string][] = [
    [
      "resourceVersionMatch=NotOlderThan",
      "Forbidden: resourceVersionMatch is forbidden unless resourceVersion is provided",
    ],
    [
      "resourceVersion=0&resourceVersionMatch=Exact",
      'Forbidden: resourceVersionMatch "exact" is forbidden for resourceVersion "0"',
    ],
    [
      "resourceVersion=5&resourceVersionMatch=Bogus",
      'Unsupported value: "Bogus": supported values: "Exact", "NotOlderThan", ""',
    ],
  ];
  for (const [query, message] of cases) {
    const reply = await call<V1Status>(target, "GET", `${path}?${query}`);
    assert.equal(reply.status, 422, query);
    assert.equal(
      reply.body.message,
      `ListOptions.meta.k8s.io "" is invalid: resourceVersionMatch: ${message}`,
    );
    assert.deepEqual(reply.body.details, {
      group: "meta.k8s.io",
      kind: "ListOptions",
      causes: [
        {
          reason: message.startsWith("Forbidden") ? "FieldValueForbidden" : "FieldValueNotSupported",
          message,
          field: "resourceVersionMatch",
        },
      ],
    });
  }
});

test("limit and continue page through one snapshot, whatever changes in between", everywhere, async (t) => {
  const target = await serve(t);
  const path = core(target, "configmaps");
  await fill(target, "a", "b", "c", "d");
  const first = await list(target, "limit=2");
  assert.deepEqual(names(first), ["a", "b"]);
  assert.equal(first.metadata?.remainingItemCount, 2);
  const token = first.metadata?.continue ?? "";
  assert.ok(token, "a continue token is given");
  await fill(target, "bb");
  await expectStatus(target, 200, "DELETE", `${path}/c`);
  const second = await list(target, `limit=2&continue=${encodeURIComponent(token)}`);
  assert.deepEqual(
    names(second),
    ["c", "d"],
    "the snapshot of the first page: bb not yet there, c still there",
  );
  assert.equal(second.metadata?.resourceVersion, first.metadata?.resourceVersion);
  assert.equal(second.metadata?.continue, undefined);
  const selected = await list(target, "limit=1&fieldSelector=metadata.name!%3Da");
  assert.ok(selected.metadata?.continue);
  assert.equal(selected.metadata?.remainingItemCount, undefined, "no count when a selector filters");

  const withVersion = await call<V1Status>(
    target,
    "GET",
    `${path}?continue=${encodeURIComponent(token)}&resourceVersion=1`,
  );
  assert.equal(withVersion.status, 400);
  assert.equal(withVersion.body.message, "specifying resource version is not allowed when using continue");
  const withMatch = await call<V1Status>(
    target,
    "GET",
    `${path}?continue=${encodeURIComponent(token)}&resourceVersion=1&resourceVersionMatch=NotOlderThan`,
  );
  assert.equal(withMatch.status, 422);
  assert.equal(
    withMatch.body.details?.causes?.[0]?.message,
    "Forbidden: resourceVersionMatch is forbidden when continue is provided",
  );
  const garbage = await call<V1Status>(target, "GET", `${path}?continue=garbage`);
  assert.equal(garbage.status, 400);
  assert.equal(garbage.body.reason, "BadRequest");
  assert.match(garbage.body.message ?? "", /^invalid continue token: continue key is not valid: /);
});

test(
  "a continue token older than the history is a 410 Expired that offers a token for the rest",
  emulatorOnly(
    "needs the history to be compacted: watchWindow here, etcd compaction (every 5 minutes) on a real server",
  ),
  async (t) => {
    const { target } = await serveEmulator(t, { watchWindow: 2 });
    await fill(target, "a", "b", "c", "d");
    const first = await list(target, "limit=2");
    await fill(target, "e", "f", "g");
    const reply = await call<V1Status>(
      target,
      "GET",
      `${core(target, "configmaps")}?limit=2&continue=${encodeURIComponent(first.metadata?.continue ?? "")}`,
    );
    assert.equal(reply.status, 410);
    assert.equal(reply.body.reason, "Expired");
    assert.match(
      reply.body.message ?? "",
      /^The provided continue parameter is too old to display a consistent list result\./,
    );
    const fresh = (reply.body.metadata as { continue?: string }).continue ?? "";
    assert.ok(fresh, "the Status offers a token that continues at the latest state");
    const rest = await list(target, `limit=10&continue=${encodeURIComponent(fresh)}`);
    assert.deepEqual(names(rest), ["c", "d", "e", "f", "g"], "an inconsistent rest: what exists now");
    const exact = await call<V1Status>(
      target,
      "GET",
      `${core(target, "configmaps")}?resourceVersion=${first.metadata?.resourceVersion}&resourceVersionMatch=Exact`,
    );
    assert.equal(exact.status, 410);
    assert.equal(exact.body.message, "The resourceVersion for the provided list is too old.");
  },
);
