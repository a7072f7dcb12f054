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
  return JSON.stringify(shown);
}

function oneLine(text: string): string {
  return text.replace(/[\r\n\t]+/g, " ");
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
