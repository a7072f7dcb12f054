// Strict parsers for annotation values. Each returns every problem it finds, never throws.
import type { ValueError } from "./problems.ts";

export type Parsed<T> = { ok: true; value: T } | { ok: false; errors: ValueError[] };
export type Parser<T> = (raw: string) => Parsed<T>;

export function ok<T>(value: T): Parsed<T> {
  return { ok: true, value };
}

export function fail(value: string, allowed: string): { ok: false; errors: ValueError[] } {
  return { ok: false, errors: [{ value, allowed }] };
}

/** Unicode-aware length: AWS counts characters, not UTF-16 code units. */
export function charCount(text: string): number {
  return [...text].length;
}

export function integer(min: number, max: number, unit = ""): Parser<number> {
  const allowed = `a whole number from ${min} to ${max}${unit}`;
  return (raw) => {
    const text = raw.trim();
    if (!/^\+?\d{1,10}$/.test(text)) return fail(raw, allowed);
    const value = Number(text);
    return value >= min && value <= max ? ok(value) : fail(raw, allowed);
  };
}

/** An enumeration, matched case-insensitively and returned in its canonical spelling. */
export function oneOf<const T extends string>(values: readonly T[]): Parser<T> {
  const allowed = `one of ${values.join(", ")}`;
  return (raw) => {
    const text = raw.trim().toLowerCase();
    const found = values.find((v) => v.toLowerCase() === text);
    return found === undefined ? fail(raw, allowed) : ok(found);
  };
}

const TRUE_WORDS = new Set(["true", "t", "1"]);
const FALSE_WORDS = new Set(["false", "f", "0"]);

/** true/false in any case; also 1/0 and t/f, which the Go controllers accept (strconv.ParseBool). */
export const boolean: Parser<boolean> = (raw) => {
  const text = raw.trim().toLowerCase();
  if (TRUE_WORDS.has(text)) return ok(true);
  if (FALSE_WORDS.has(text)) return ok(false);
  return fail(raw, "true or false");
};

/** The same, as the lower-case string AWS attributes expect. */
export const booleanText: Parser<string> = (raw) => {
  const parsed = boolean(raw);
  return parsed.ok ? ok(String(parsed.value)) : parsed;
};

/** A comma-separated list: entries trimmed, none empty, none repeated. */
export function list<T extends string | number>(item: Parser<T>, what: string): Parser<T[]> {
  return (raw) => {
    const shape = `a comma-separated list of ${what}`;
    if (raw.trim() === "") return fail(raw, `${shape}, at least one`);
    const errors: ValueError[] = [];
    const seen = new Set<T>();
    const values: T[] = [];
    for (const part of raw.split(",")) {
      const entry = part.trim();
      if (entry === "") {
        errors.push({ value: raw, allowed: `${shape} without empty entries` });
        continue;
      }
      const parsed = item(entry);
      if (!parsed.ok) {
        errors.push(...parsed.errors);
        continue;
      }
      if (seen.has(parsed.value)) {
        errors.push({ value: entry, allowed: `${shape}, each entry once` });
        continue;
      }
      seen.add(parsed.value);
      values.push(parsed.value);
    }
    return errors.length > 0 ? { ok: false, errors } : ok(values);
  };
}

export interface MapRules {
  what: string;
  key: (key: string) => ValueError | undefined;
  value: (value: string, key: string) => Parsed<string>;
}

/**
 * `k1=v1,k2=v2`: entries separated by commas, split at the first `=`, both sides trimmed.
 * Keys may not be empty or repeated; values may be empty where the rules allow it.
 * A blank value is an empty map (Helm charts often render an unset value that way).
 */
export function keyValueMap(rules: MapRules): Parser<Record<string, string>> {
  return (raw) => {
    const shape = `${rules.what} as key=value pairs separated by commas`;
    const entries = new Map<string, string>();
    const errors: ValueError[] = [];
    if (raw.trim() === "") return ok({});
    for (const part of raw.split(",")) {
      const entry = part.trim();
      const equals = entry.indexOf("=");
      if (entry === "") {
        errors.push({ value: raw, allowed: `${shape}, without empty entries` });
        continue;
      }
      if (equals < 0) {
        errors.push({ value: entry, allowed: shape });
        continue;
      }
      const key = entry.slice(0, equals).trim();
      const value = entry.slice(equals + 1).trim();
      if (key === "") {
        errors.push({ value: entry, allowed: `${shape}, every key non-empty` });
        continue;
      }
      if (entries.has(key)) {
        errors.push({ value: key, allowed: `${shape}, each key once` });
        continue;
      }
      const keyError = rules.key(key);
      if (keyError) {
        errors.push(keyError);
        continue;
      }
      const parsedValue = rules.value(value, key);
      if (!parsedValue.ok) {
        errors.push(...parsedValue.errors);
        continue;
      }
      entries.set(key, parsedValue.value);
    }
    return errors.length > 0 ? { ok: false, errors } : ok(Object.fromEntries(entries));
  };
}

// ---- AWS tags ----

const TAG_CHARACTERS = /^[\p{L}\p{Z}\p{N}_.:/=+\-@]*$/u;
const TAG_CHARACTERS_TEXT = "letters, digits, spaces and _ . : / = + - @";

export function tagKeyError(key: string): ValueError | undefined {
  if (charCount(key) > 128) return { value: key, allowed: "a tag key of 1 to 128 characters" };
  if (/^aws:/i.test(key))
    return { value: key, allowed: 'a tag key not starting with "aws:" (reserved by AWS)' };
  if (!TAG_CHARACTERS.test(key)) return { value: key, allowed: `a tag key made of ${TAG_CHARACTERS_TEXT}` };
  return undefined;
}

export function tagValue(value: string): Parsed<string> {
  if (charCount(value) > 256) return fail(value, "a tag value of at most 256 characters");
  if (!TAG_CHARACTERS.test(value)) return fail(value, `a tag value made of ${TAG_CHARACTERS_TEXT}`);
  return ok(value);
}

// ---- Kubernetes label selectors (target-node-labels) ----

const LABEL_NAME = /^[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$/;
const DNS_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

export function labelKeyError(key: string): ValueError | undefined {
  const slash = key.lastIndexOf("/");
  const prefix = slash >= 0 ? key.slice(0, slash) : undefined;
  const name = slash >= 0 ? key.slice(slash + 1) : key;
  const prefixOk = prefix === undefined || (prefix.length <= 253 && DNS_SUBDOMAIN.test(prefix));
  if (prefixOk && LABEL_NAME.test(name)) return undefined;
  return {
    value: key,
    allowed:
      "a label key: an optional DNS prefix and '/', then up to 63 letters, digits, '-', '_' or '.', starting and ending with a letter or digit",
  };
}

export function labelValue(value: string): Parsed<string> {
  if (value === "" || LABEL_NAME.test(value)) return ok(value);
  return fail(
    value,
    "a label value: empty, or up to 63 letters, digits, '-', '_' or '.', starting and ending with a letter or digit",
  );
}
