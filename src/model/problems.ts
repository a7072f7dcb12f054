import type { InputProblem } from "./types.ts";

/** One reason a single value was refused: the offending part and what would have been accepted. */
export interface ValueError {
  value: string;
  allowed: string;
}

const SHOWN_VALUE_LIMIT = 120;

/** Quoted, escaped (one line, whatever the input) and cut short so events and logs stay readable. */
export function quoteValue(value: string): string {
  const chars = [...value];
  const shown =
    chars.length > SHOWN_VALUE_LIMIT
      ? `${chars.slice(0, SHOWN_VALUE_LIMIT).join("")}… (${chars.length} characters)`
      : value;
  // JSON.stringify leaves NEL and the Unicode line and paragraph separators raw: escape them too.
  return JSON.stringify(shown).replace(
    /[\u0085\u2028\u2029]/g,
    (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`,
  );
}

function oneLine(text: string): string {
  return text.replace(/[\r\n\t\u0085\u2028\u2029]+/g, " ");
}

/** Any manifest value as text, even one whose toString is broken (a YAML file can hold anything). */
export function textOf(value: unknown): string {
  try {
    return typeof value === "string" ? value : (JSON.stringify(value) ?? String(value));
  } catch {
    return Object.prototype.toString.call(value);
  }
}

function shortValue(value: string): string {
  const chars = [...value];
  return chars.length > 256 ? chars.slice(0, 256).join("") : value;
}

export function annotationProblem(object: string, key: string, error: ValueError): InputProblem {
  const field = `annotation ${key}`;
  return {
    object,
    field: oneLine(field),
    value: shortValue(error.value),
    allowed: oneLine(error.allowed),
    reason: "InvalidAnnotation",
    message: oneLine(
      `service ${object}: ${field}: ${quoteValue(error.value)} is not valid: ${error.allowed}`,
    ),
  };
}

export function specProblem(object: string, field: string, error: ValueError): InputProblem {
  return {
    object,
    field,
    value: shortValue(error.value),
    allowed: oneLine(error.allowed),
    reason: "InvalidSpec",
    message: oneLine(
      `service ${object}: ${field}: ${quoteValue(error.value)} is not valid: ${error.allowed}`,
    ),
  };
}
