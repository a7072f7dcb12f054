// metav1.Time and metav1.MicroTime as kube-apiserver decodes and stores them: Time parses any
// RFC 3339 value and keeps whole seconds in UTC; MicroTime wants exactly six fraction digits.
import { undecodable } from "./errors.ts";
import { isObject, type JsonObject } from "./json.ts";

const rfc3339 = /^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(\.\d+)?(Z|[+-]\d\d:\d\d)$/;
const timeLayout = "2006-01-02T15:04:05Z07:00";
const microLayout = "2006-01-02T15:04:05.000000Z07:00";

/** Go's time.Parse complaint for a value that does not fit `layout`, as near as it matters. */
function parseError(value: string, layout: string): string {
  const head = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d/.exec(value);
  if (!head)
    return `parsing time ${JSON.stringify(value)} as ${JSON.stringify(layout)}: cannot parse ${JSON.stringify(value)} as "2006"`;
  const rest = value.slice(head[0].length);
  const expected = layout === microLayout ? ".000000" : "Z07:00";
  return `parsing time ${JSON.stringify(value)} as ${JSON.stringify(layout)}: cannot parse ${JSON.stringify(rest)} as ${JSON.stringify(expected)}`;
}

function utcSeconds(seconds: string, offset: string): string {
  return `${new Date(`${seconds}${offset}`).toISOString().slice(0, 19)}`;
}

/** A metav1.Time value as stored, or the decoder's error text. */
function storedTime(value: string): string | { error: string } {
  const m = rfc3339.exec(value);
  if (!m) return { error: parseError(value, timeLayout) };
  return `${utcSeconds(m[1] ?? "", m[3] ?? "Z")}Z`;
}

/** A metav1.MicroTime value as stored, or the decoder's error text. */
function storedMicroTime(value: string): string | { error: string } {
  const m = rfc3339.exec(value);
  if (!m || (m[2] ?? "").length !== 7) return { error: parseError(value, microLayout) };
  return `${utcSeconds(m[1] ?? "", m[3] ?? "Z")}${m[2]}Z`;
}

export type TimeKind = "time" | "micro";

/**
 * Normalises the time fields `fields` (dotted paths; "[]" steps into every element of a list)
 * of `obj` in place; a value the Go decoder refuses is a 400 for `kind`.
 */
export function normaliseTimes(obj: JsonObject, fields: [string, TimeKind][], kind: string): void {
  for (const [path, type] of fields)
    visit(obj, path.split("."), (parent, key) => {
      const value = parent[key];
      if (value === undefined || value === null) return;
      const stored =
        typeof value !== "string"
          ? { error: `json: cannot unmarshal ${typeof value} into Go value of type string` }
          : type === "micro"
            ? storedMicroTime(value)
            : storedTime(value);
      if (typeof stored !== "string") throw undecodable(kind, "v1", stored.error);
      parent[key] = stored;
    });
}

function visit(node: unknown, steps: string[], at: (parent: JsonObject, key: string) => void): void {
  if (!isObject(node)) return;
  const [step, ...rest] = steps;
  if (step === undefined) return;
  if (step.endsWith("[]")) {
    const list = node[step.slice(0, -2)];
    if (Array.isArray(list)) for (const item of list) visit(item, rest, at);
    return;
  }
  if (rest.length === 0) at(node, step);
  else visit(node[step], rest, at);
}
