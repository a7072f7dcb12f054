// The annotation parsers on generated values: total, canonical (a parsed value written back
// parses to itself), blind to padding and to the order of map entries, strict about repeats,
// and exact about the AWS ranges of the health check numbers.
// Long run (20x): FC_NUM_RUNS=6000 node --test test/unit/fuzz/annotations.test.ts   (FC_SEED=<n> for another seed)
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import fc from "fast-check";
import { ANNOTATIONS, type AnnotationSpec, annotationTable } from "../../../src/model/annotations.ts";
import {
  annotationValueFor,
  fuzzOptions,
  LINE_BREAKS,
  validAnnotationValue,
  wildAnnotationValue,
} from "./arbitraries.ts";

type Field = keyof typeof annotationTable;
const FIELDS = Object.keys(annotationTable) as Field[];

/** A field and a value for it: valid, mangled or wild. */
const fieldAndValue = fc
  .constantFrom(...FIELDS)
  .chain((field) => fc.tuple(fc.constant(field), annotationValueFor(field)));

/** A parsed value written back as a user would write it. */
function rendered(spec: AnnotationSpec, value: unknown): string {
  if (Array.isArray(value)) return value.join(",");
  if (typeof value === "object" && value !== null) {
    if ("portName" in value) return String(value.portName);
    return Object.entries(value as Record<string, string>)
      .map(([k, v]) => `${k}=${v}`)
      .join(",");
  }
  assert.ok(typeof value === "string" || typeof value === "number" || typeof value === "boolean", spec.key);
  return String(value);
}

/** AWS's ranges for NLB target group health checks (seconds and counts). */
const AWS_RANGES: Partial<Record<Field, [number, number]>> = {
  healthCheckInterval: [5, 300],
  healthCheckTimeout: [2, 120],
  healthCheckHealthyThreshold: [2, 10],
  healthCheckUnhealthyThreshold: [2, 10],
};

describe("annotation parsers (fuzz)", () => {
  it("never throw: a value, or errors that each say what is allowed", () => {
    fc.assert(
      fc.property(fc.constantFrom(...ANNOTATIONS), wildAnnotationValue, (spec, raw) => {
        const parsed = spec.parse(raw);
        if (parsed.ok) return;
        assert.ok(parsed.errors.length > 0, spec.key);
        for (const error of parsed.errors) {
          assert.ok(error.allowed.length > 0 && !/[\r\n]/.test(error.allowed), error.allowed);
          assert.equal(typeof error.value, "string");
        }
      }),
      fuzzOptions(1500),
    );
  });

  it("accept every value the generators call valid", () => {
    const independent = new Set<Field>(["targetGroupAttributes", "attributes"]);
    fc.assert(
      fc.property(
        fc
          .constantFrom(...FIELDS.filter((f) => !independent.has(f)))
          .chain((field) => fc.tuple(fc.constant(field), validAnnotationValue[field])),
        ([field, raw]) => {
          const parsed = annotationTable[field].parse(raw);
          assert.ok(parsed.ok, `${field}: ${JSON.stringify(raw)} ${JSON.stringify(parsed)}`);
        },
      ),
      fuzzOptions(800),
    );
  });

  it("are canonical: a parsed value written back parses to the same value", () => {
    fc.assert(
      fc.property(fieldAndValue, ([field, raw]) => {
        const spec: AnnotationSpec = annotationTable[field];
        const parsed = spec.parse(raw);
        if (!parsed.ok) return;
        const again = spec.parse(rendered(spec, parsed.value));
        assert.ok(again.ok, `${field}: ${JSON.stringify(raw)} -> ${rendered(spec, parsed.value)}`);
        assert.deepEqual(again.value, parsed.value);
      }),
      fuzzOptions(1500),
    );
  });

  it("ignore spaces and tabs around the whole value", () => {
    fc.assert(
      fc.property(fieldAndValue, fc.constantFrom(" ", "\t", "  \t"), ([field, raw], pad) => {
        const spec: AnnotationSpec = annotationTable[field];
        const plain = spec.parse(raw);
        const padded = spec.parse(`${pad}${raw}${pad}`);
        assert.equal(padded.ok, plain.ok, `${field}: ${JSON.stringify(raw)}`);
        if (plain.ok && padded.ok) assert.deepEqual(padded.value, plain.value);
      }),
      fuzzOptions(1500),
    );
  });

  it("map annotations: entry order does not matter, a repeated key is refused", () => {
    const maps = FIELDS.filter((f) => annotationTable[f].shape === "stringMap");
    fc.assert(
      fc.property(
        fc.constantFrom(...maps).chain((f) => fc.tuple(fc.constant(f), validAnnotationValue[f])),
        fc.array(fc.integer(), { maxLength: 8 }),
        ([field, raw], ranks) => {
          const spec: AnnotationSpec = annotationTable[field];
          const parsed = spec.parse(raw);
          fc.pre(parsed.ok);
          const entries = raw.split(",").filter((e) => e.trim() !== "");
          const shuffled = entries
            .map((entry, i) => ({ entry, rank: ranks[i] ?? i }))
            .sort((a, b) => a.rank - b.rank)
            .map(({ entry }) => entry);
          const reparsed = spec.parse(shuffled.join(","));
          assert.ok(reparsed.ok);
          assert.deepEqual(reparsed.value, parsed.value);
          const first = entries[0];
          if (first !== undefined) {
            const key = first.slice(0, first.indexOf("=")).trim();
            assert.equal(spec.parse(`${raw},${key}=${first.slice(first.indexOf("=") + 1)}`).ok, false, key);
          }
        },
      ),
      fuzzOptions(500),
    );
  });

  it("subnets: a repeated entry or an empty entry is refused", () => {
    fc.assert(
      fc.property(validAnnotationValue.subnets, fc.constantFrom("repeat", "empty"), (raw, how) => {
        const spec = annotationTable.subnets;
        const parsed = spec.parse(raw);
        fc.pre(parsed.ok);
        const changed = how === "repeat" ? `${raw},${parsed.value[0]}` : `${raw},,`;
        assert.equal(spec.parse(changed).ok, false, changed);
      }),
      fuzzOptions(300),
    );
  });

  it("health check numbers: accepted exactly within AWS's ranges", () => {
    const numeric = Object.keys(AWS_RANGES) as Field[];
    fc.assert(
      fc.property(
        fc.constantFrom(...numeric),
        fc.oneof(fc.integer({ min: -5, max: 400 }), fc.integer()),
        (field, n) => {
          const [min, max] = AWS_RANGES[field]!;
          const parsed = annotationTable[field].parse(String(n));
          assert.equal(parsed.ok, n >= min && n <= max, `${field}=${n}`);
          if (parsed.ok) assert.equal(parsed.value, n);
        },
      ),
      fuzzOptions(800),
    );
  });

  it("a line break inside a value is never part of an accepted value (where AWS refuses it too)", () => {
    // EC2 tag values may hold any character, so a subnet Name can only be refused by the lookup;
    // AWS's tag pattern allows \p{Z}, which holds LINE and PARAGRAPH SEPARATOR, and so does an
    // access log prefix (S3 keys are any UTF-8): for those only control characters are refused.
    const freeText = new Set<Field>(["additionalResourceTags", "attributes"]);
    const forbidden = (field: Field) =>
      freeText.has(field) ? LINE_BREAKS.filter((b) => !/^\p{Z}$/u.test(b)) : LINE_BREAKS;
    fc.assert(
      fc.property(fieldAndValue, fc.constantFrom(...LINE_BREAKS), ([field, raw], lineBreak) => {
        if (field === "subnets") return;
        const spec: AnnotationSpec = annotationTable[field];
        const middle = Math.floor(raw.length / 2);
        const parsed = spec.parse(`${raw.slice(0, middle)}${lineBreak}${raw.slice(middle)}`);
        if (parsed.ok) {
          const text = rendered(spec, parsed.value);
          assert.ok(!forbidden(field).some((b) => text.includes(b)), `${field}: ${JSON.stringify(text)}`);
        }
      }),
      fuzzOptions(800),
    );
  });
});
