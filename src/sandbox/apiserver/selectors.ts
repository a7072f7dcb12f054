// Label and field selectors with the grammar of k8s.io/apimachinery's labels and fields packages.
import { badRequest } from "./errors.ts";
import { labelValueProblems, qualifiedNameProblems } from "./names.ts";

type LabelOperator = "exists" | "notexists" | "in" | "notin" | "gt" | "lt";

interface LabelRequirement {
  key: string;
  operator: LabelOperator;
  values: string[];
}

export type Labels = Record<string, string> | undefined;

export interface LabelSelector {
  /** True when the selector selects everything. */
  readonly empty: boolean;
  matches(labels: Labels): boolean;
}

const everything: LabelSelector = { empty: true, matches: () => true };

type Token =
  | { kind: "id"; text: string }
  | { kind: "op"; text: "!" | "=" | "==" | "!=" | ">" | "<" | "(" | ")" | "," };

function tokenize(input: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  while (i < input.length) {
    const ch = input[i] ?? "";
    if (/\s/.test(ch)) {
      i++;
      continue;
    }
    const two = input.slice(i, i + 2);
    if (two === "==" || two === "!=") {
      tokens.push({ kind: "op", text: two });
      i += 2;
      continue;
    }
    if (ch === "!" || ch === "=" || ch === ">" || ch === "<" || ch === "(" || ch === ")" || ch === ",") {
      tokens.push({ kind: "op", text: ch });
      i++;
      continue;
    }
    let j = i;
    while (j < input.length && !/[\s!=<>(),]/.test(input[j] ?? "")) j++;
    tokens.push({ kind: "id", text: input.slice(i, j) });
    i = j;
  }
  return tokens;
}

function parseError(selector: string, why: string): Error {
  return badRequest(`unable to parse requirement: ${why} (selector "${selector}")`);
}

/** Parses a labelSelector query value; throws a 400 BadRequest Status on bad syntax. */
export function parseLabelSelector(selector: string | null | undefined): LabelSelector {
  if (!selector || selector.trim() === "") return everything;
  const tokens = tokenize(selector);
  const requirements: LabelRequirement[] = [];
  let pos = 0;
  const peek = (): Token | undefined => tokens[pos];
  const next = (): Token | undefined => tokens[pos++];
  const expectKey = (): string => {
    const t = next();
    if (t?.kind !== "id") throw parseError(selector, "found unexpected token, expected: identifier");
    const problems = qualifiedNameProblems(t.text);
    if (problems.length > 0)
      throw parseError(selector, `invalid label key "${t.text}": ${problems.join("; ")}`);
    return t.text;
  };
  const checkValue = (value: string): string => {
    const problems = labelValueProblems(value);
    if (problems.length > 0)
      throw parseError(selector, `invalid label value: "${value}": ${problems.join("; ")}`);
    return value;
  };
  const singleValue = (): string => {
    const t = peek();
    if (t === undefined || (t.kind === "op" && t.text === ",")) return "";
    if (t.kind !== "id") throw parseError(selector, "found unexpected token, expected: identifier");
    pos++;
    return checkValue(t.text);
  };
  const valueSet = (): string[] => {
    const open = next();
    if (open?.kind !== "op" || open.text !== "(")
      throw parseError(selector, "found unexpected token, expected: '('");
    const values: string[] = [];
    let expectingValue = true;
    for (;;) {
      const t = next();
      if (t === undefined) throw parseError(selector, "found end of input, expected: ')'");
      if (t.kind === "op" && t.text === ")") {
        if (expectingValue && values.length > 0) values.push("");
        break;
      }
      if (t.kind === "op" && t.text === ",") {
        if (expectingValue) values.push("");
        expectingValue = true;
        continue;
      }
      if (t.kind !== "id" || !expectingValue) {
        throw parseError(selector, `found '${t.text}', expected: ',', ')' or identifier`);
      }
      values.push(checkValue(t.text));
      expectingValue = false;
    }
    return values;
  };

  while (pos < tokens.length) {
    const first = peek();
    if (first?.kind === "op" && first.text === "!") {
      pos++;
      requirements.push({ key: expectKey(), operator: "notexists", values: [] });
    } else {
      const key = expectKey();
      const op = peek();
      if (op === undefined || (op.kind === "op" && op.text === ",")) {
        requirements.push({ key, operator: "exists", values: [] });
      } else if (op.kind === "id" && (op.text === "in" || op.text === "notin")) {
        pos++;
        // An empty set parses: "in ()" matches nothing, "notin ()" everything.
        const values = valueSet();
        requirements.push({ key, operator: op.text, values });
      } else if (op.kind === "op" && (op.text === "=" || op.text === "==")) {
        pos++;
        requirements.push({ key, operator: "in", values: [singleValue()] });
      } else if (op.kind === "op" && op.text === "!=") {
        pos++;
        requirements.push({ key, operator: "notin", values: [singleValue()] });
      } else if (op.kind === "op" && (op.text === ">" || op.text === "<")) {
        pos++;
        const value = singleValue();
        if (!/^-?\d+$/.test(value))
          throw parseError(selector, `for 'Gt', 'Lt' operators, the value must be an integer`);
        requirements.push({ key, operator: op.text === ">" ? "gt" : "lt", values: [value] });
      } else {
        throw parseError(selector, `found '${op.text}', expected: in, notin, =, ==, !=, gt, lt`);
      }
    }
    const sep = next();
    if (sep !== undefined && !(sep.kind === "op" && sep.text === ",")) {
      throw parseError(selector, `found '${sep.text}', expected: ','`);
    }
    if (sep !== undefined && pos >= tokens.length)
      throw parseError(selector, "found end of input, expected: identifier");
  }
  return {
    empty: requirements.length === 0,
    matches: (labels) => requirements.every((r) => matchesRequirement(r, labels)),
  };
}

function matchesRequirement(r: LabelRequirement, labels: Labels): boolean {
  const has = labels !== undefined && Object.hasOwn(labels, r.key);
  const value = has ? labels?.[r.key] : undefined;
  switch (r.operator) {
    case "exists":
      return has;
    case "notexists":
      return !has;
    case "in":
      return has && r.values.includes(value ?? "");
    case "notin":
      return !has || !r.values.includes(value ?? "");
    case "gt":
    case "lt": {
      if (!has || !/^-?\d+$/.test(value ?? "")) return false;
      const n = Number(value);
      const bound = Number(r.values[0]);
      return r.operator === "gt" ? n > bound : n < bound;
    }
  }
}

interface FieldRequirement {
  field: string;
  equal: boolean;
  value: string;
}

export interface FieldSelector {
  readonly empty: boolean;
  /** Fields the selector pins with `=`, e.g. metadata.name for single-object watches. */
  readonly exact: ReadonlyMap<string, string>;
  matches(fields: (field: string) => string): boolean;
}

function splitUnescaped(input: string, separator: string): string[] {
  const parts: string[] = [];
  let current = "";
  for (let i = 0; i < input.length; i++) {
    const ch = input[i] ?? "";
    if (ch === "\\" && i + 1 < input.length) {
      current += ch + (input[i + 1] ?? "");
      i++;
    } else if (ch === separator) {
      parts.push(current);
      current = "";
    } else {
      current += ch;
    }
  }
  parts.push(current);
  return parts;
}

function unescapeFieldValue(value: string): string {
  let out = "";
  for (let i = 0; i < value.length; i++) {
    const ch = value[i] ?? "";
    if (ch === "\\") {
      const nextCh = value[i + 1];
      if (nextCh === "\\" || nextCh === "," || nextCh === "=") {
        out += nextCh;
        i++;
        continue;
      }
      throw badRequest(`invalid field selector: invalid escape sequence in value "${value}"`);
    }
    if (ch === "," || ch === "=")
      throw badRequest(`invalid field selector: unescaped '${ch}' in value "${value}"`);
    out += ch;
  }
  return out;
}

/** Parses a fieldSelector; `supported` lists the field labels this resource accepts. */
export function parseFieldSelector(
  selector: string | null | undefined,
  supported: readonly string[],
): FieldSelector {
  const requirements: FieldRequirement[] = [];
  if (selector && selector.trim() !== "") {
    for (const term of splitUnescaped(selector, ",")) {
      if (term.trim() === "") continue;
      const match = /^([^!=]*?)(!=|==|=)(.*)$/s.exec(term);
      if (!match) throw badRequest(`invalid selector: '${selector}'; can't understand '${term}'`);
      const field = (match[1] ?? "").trim();
      if (!supported.includes(field)) throw badRequest(`field label not supported: ${field}`);
      requirements.push({ field, equal: match[2] !== "!=", value: unescapeFieldValue(match[3] ?? "") });
    }
  }
  const exact = new Map<string, string>();
  for (const r of requirements) if (r.equal) exact.set(r.field, r.value);
  return {
    empty: requirements.length === 0,
    exact,
    matches: (fields) => requirements.every((r) => (fields(r.field) === r.value) === r.equal),
  };
}
