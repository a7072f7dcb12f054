// What every reliability scenario shares: its mode (short inside `npm test`, full from
// `npm run test:reliability`), a printed seed it replays exactly from, and the result it writes,
// whose must-be-zero counts fail the run when they are not.
import assert from "node:assert/strict";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { uniformInt } from "pure-rand/distribution/uniformInt";
import { xoroshiro128plus } from "pure-rand/generator/xoroshiro128plus";

export type ReliabilityMode = "short" | "full";

export const RESULTS_DIR = join(import.meta.dirname, "results");

export function reliabilityMode(): ReliabilityMode {
  const mode = process.env.RELIABILITY_MODE ?? "short";
  if (mode !== "short" && mode !== "full")
    throw new Error(`RELIABILITY_MODE=${mode}: expected short or full`);
  return mode;
}

/** The scenario's seed: RELIABILITY_SEED when set (to replay a run), else a fresh one; printed either way. */
export function scenarioSeed(scenario: string): number {
  const given = process.env.RELIABILITY_SEED;
  const seed = given === undefined ? Math.floor(Math.random() * 2 ** 31) : Number(given);
  if (!Number.isInteger(seed)) throw new Error(`RELIABILITY_SEED=${given}: expected an integer`);
  console.log(`# reliability ${scenario}: seed ${seed} (replay: RELIABILITY_SEED=${seed})`);
  return seed;
}

/** A seeded random source; the same seed gives the same sequence. */
export class SeededRandom {
  readonly #gen: ReturnType<typeof xoroshiro128plus>;
  constructor(seed: number) {
    this.#gen = xoroshiro128plus(seed);
  }
  /** An integer in [min, max]. */
  int(min: number, max: number): number {
    return uniformInt(this.#gen, min, max);
  }
  /** A float in [0, 1). */
  next(): number {
    return this.int(0, 2 ** 30 - 1) / 2 ** 30;
  }
  chance(p: number): boolean {
    return this.next() < p;
  }
  pick<T>(items: readonly T[]): T {
    if (items.length === 0) throw new Error("pick from nothing");
    return items[this.int(0, items.length - 1)] as T;
  }
}

/** The counts a run must end with at zero. */
export interface MustBeZero {
  leakedResources: number;
  duplicatedResources: number;
  foreignResourcesTouched: number;
  rulesLeftOpen: number;
  momentsWithTwoWriters: number;
}

export interface ScenarioResult {
  /** File-name-safe id, e.g. "crash-consistency". */
  scenario: string;
  title: string;
  seed: number;
  mode: ReliabilityMode;
  iterations: number;
  /** Fault kind -> how many were injected (kills, throttles, 5xx, dropped watches...). */
  faultsInjected: Record<string, number>;
  awsCalls: { total: number; mutating: number; baseline?: number };
  convergeSeconds: { median: number; max: number };
  zero: MustBeZero;
  /** Anything else worth reporting, in a line each. */
  notes?: string[];
}

export const noneYet = (): MustBeZero => ({
  leakedResources: 0,
  duplicatedResources: 0,
  foreignResourcesTouched: 0,
  rulesLeftOpen: 0,
  momentsWithTwoWriters: 0,
});

/** Writes results/<scenario>.json, then fails the test when a must-be-zero count is not. */
export function writeResult(result: ScenarioResult): void {
  mkdirSync(RESULTS_DIR, { recursive: true });
  writeFileSync(
    join(RESULTS_DIR, `${result.scenario}.json`),
    `${JSON.stringify({ ...result, at: new Date().toISOString() }, null, 2)}\n`,
  );
  const nonZero = Object.entries(result.zero).filter(([, n]) => n !== 0);
  assert.deepEqual(
    nonZero,
    [],
    `${result.scenario} (seed ${result.seed}, replay with RELIABILITY_SEED=${result.seed}): ${JSON.stringify(result.zero)}`,
  );
}

export function median(values: number[]): number {
  if (values.length === 0) return 0;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] as number;
}
