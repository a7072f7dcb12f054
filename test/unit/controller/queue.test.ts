import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import { WorkQueue } from "../../../src/controller/queue.ts";

const WINDOW = 200;

function recorder() {
  const runs: number[] = [];
  const start = performance.now();
  let release: (() => void) | undefined;
  let hold = false;
  const queue = new WorkQueue(
    async () => {
      runs.push(Math.round(performance.now() - start));
      if (hold) await new Promise<void>((r) => (release = r));
    },
    { concurrency: 1 },
  );
  return {
    queue,
    runs,
    holdNext: () => (hold = true),
    release: () => {
      hold = false;
      release?.();
    },
  };
}

describe("WorkQueue.addCoalesced(): leading edge, then coalescing", () => {
  it("runs the first change of a quiet key at once", async () => {
    const r = recorder();
    r.queue.addCoalesced("a", WINDOW);
    await sleep(20);
    assert.equal(r.runs.length, 1);
    assert.ok(r.runs[0]! < 40, `ran after ${r.runs[0]} ms`);
  });

  it("gathers what arrives within the window after a run into one run at its end", async () => {
    const r = recorder();
    r.queue.addCoalesced("a", WINDOW);
    await sleep(10);
    for (let i = 0; i < 5; i++) {
      r.queue.addCoalesced("a", WINDOW);
      await sleep(10);
    }
    await r.queue.drained();
    assert.equal(r.runs.length, 2, `runs at ${r.runs}`);
    assert.ok(r.runs[1]! >= WINDOW - 5, `the second waited for the window: ${r.runs}`);
  });

  it("gathers what arrives during a run into one run a window after it", async () => {
    const r = recorder();
    r.holdNext();
    r.queue.addCoalesced("a", WINDOW);
    await sleep(10);
    r.queue.addCoalesced("a", WINDOW);
    r.queue.addCoalesced("a", WINDOW);
    await sleep(50);
    r.release();
    await r.queue.drained();
    assert.equal(r.runs.length, 2, `runs at ${r.runs}`);
    assert.ok(r.runs[1]! >= 50 + WINDOW - 5, `a window after the first ended: ${r.runs}`);
  });

  it("is quiet again once a window has passed: the next change runs at once", async () => {
    const r = recorder();
    r.queue.addCoalesced("a", WINDOW);
    await sleep(WINDOW + 30);
    const before = performance.now();
    r.queue.addCoalesced("a", WINDOW);
    await sleep(20);
    assert.equal(r.runs.length, 2);
    assert.ok(performance.now() - before < 40);
  });

  it("keeps keys apart: another key's change is not held by this one's window", async () => {
    const r = recorder();
    r.queue.addCoalesced("a", WINDOW);
    await sleep(10);
    r.queue.addCoalesced("b", WINDOW);
    await sleep(20);
    assert.equal(r.runs.length, 2);
  });

  it("after a failed run, only its retry runs: what arrived during the run is covered by it", async () => {
    const runs: number[] = [];
    const start = performance.now();
    let fail = true;
    let release: (() => void) | undefined;
    const queue = new WorkQueue(
      async () => {
        runs.push(Math.round(performance.now() - start));
        if (fail) {
          fail = false;
          await new Promise<void>((r) => (release = r));
          throw new Error("AWS said no");
        }
      },
      { concurrency: 1, baseBackoffMs: 60 },
    );
    queue.addCoalesced("a", WINDOW);
    await sleep(10);
    queue.addCoalesced("a", WINDOW);
    release?.();
    await queue.drained();
    await sleep(WINDOW + 50);
    assert.equal(runs.length, 2, `runs at ${runs}`);
  });
});
