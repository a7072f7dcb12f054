// Renders docs/annotations.md from the annotation table. Pure: the writer script and the drift
// test (test/support/write-annotations-doc.ts, test/unit/model/annotations-doc.test.ts) do the I/O.
import { stringify } from "yaml";
import {
  ANNOTATIONS,
  type AnnotationSpec,
  annotationTable,
  exampleKeyOf,
  REFUSED_ANNOTATIONS,
  type ValueShape,
} from "./annotations.ts";
import { RECONCILED_CONDITION } from "./condition.ts";
import type { Service } from "./types.ts";

export const ANNOTATIONS_DOC_PATH = "docs/annotations.md";
export const REGENERATE_ANNOTATIONS_DOC = "node test/support/write-annotations-doc.ts";

/** The class selected by default; the --load-balancer-class flag can change it. */
const DEFAULT_LOAD_BALANCER_CLASS = "service.k8s.aws/nlb";

const SHAPE_WORDS: Record<ValueShape, string> = {
  string: "string",
  boolean: "boolean",
  integer: "integer",
  stringList: "comma-separated list",
  stringMap: "comma-separated key=value pairs",
};

// Values no parser accepts as a whole value or as a map key: the answer is the very "allowed" text
// an InvalidAnnotation event shows, so the docs and the events use the same words.
const VALUE_PROBES = ["", "\u0000", "\u0000="];
const MAP_KEY_PROBE = "\u0000=x";

export function renderAnnotationsDoc(specs: readonly AnnotationSpec[] = ANNOTATIONS): string {
  const blocks = [
    "# Service annotations",
    `<!-- Generated from src/model/annotations.ts by \`${REGENERATE_ANNOTATIONS_DOC}\`. Do not edit by hand: a unit test fails when this file and the table differ. -->`,
    strictParsingParagraph(),
    ...selectionSection(),
    ...summarySection(specs),
    "## Annotations",
    ...specs.flatMap(annotationSection),
    ...refusedSection(),
  ];
  return `${blocks.join("\n\n")}\n`;
}

/** The `metadata.annotations` snippet a section shows for its annotation. */
export function annotationExampleYaml(spec: AnnotationSpec): string {
  return stringify({ metadata: { annotations: { [exampleKeyOf(spec)]: spec.example } } }, { lineWidth: 0 });
}

/** The complete Service shown in the selection section: the smallest manifest this controller serves. */
export function sampleService(): Service {
  return {
    metadata: {
      name: "web",
      namespace: "shop",
      annotations: { [annotationTable.targetType.key]: "ip" },
    },
    spec: {
      type: "LoadBalancer",
      loadBalancerClass: DEFAULT_LOAD_BALANCER_CLASS,
      selector: { app: "web" },
      ports: [{ name: "http", port: 80, protocol: "TCP", targetPort: 8080 }],
    },
  };
}

function strictParsingParagraph(): string {
  return [
    "Every annotation below is parsed strictly: numbers within their ranges, enumerations in any case,",
    "lists and key=value maps with their separators, and the rules between annotations (a health check",
    "timeout not above its interval). A value that does not parse gets the Service a Warning event",
    "`InvalidAnnotation` naming the annotation, the value and what is allowed, and the status condition",
    `\`${RECONCILED_CONDITION}=False\` with the same message. Nothing in AWS is created, changed or`,
    "deleted for that Service: an NLB that already serves it keeps serving as it is, and every other",
    "Service reconciles as usual. Fixing the annotation heals the Service without a restart. Keys that",
    "look like AWS Load Balancer Controller annotations but that this controller does not act on",
    "(misspellings, annotations not supported yet, the in-tree `aws-load-balancer-type: nlb`) get a",
    "Warning event `UnsupportedAnnotation` and are otherwise ignored.",
  ].join("\n");
}

function selectionSection(): string[] {
  const type = annotationTable.type.key;
  const targetType = annotationTable.targetType.key;
  return [
    "## Which Services this controller serves",
    [
      "A Service of `type: LoadBalancer` is served when",
      "",
      `- its \`spec.loadBalancerClass\` is \`${DEFAULT_LOAD_BALANCER_CLASS}\` (the default of \`--load-balancer-class\`), or`,
      `- it has no \`spec.loadBalancerClass\`, and \`${type}\` is \`external\` with \`${targetType}\` set to \`ip\` or \`instance\`, or`,
      `- it has no \`spec.loadBalancerClass\`, and \`${type}\` is \`nlb-ip\` (ip targets).`,
    ].join("\n"),
    "Both annotation values are compared exactly as written, as the in-tree cloud provider and the AWS Load Balancer Controller compare them. Services of any other class are never touched. The smallest Service this controller serves:",
    yamlBlock(stringify(sampleServiceManifest(), { lineWidth: 0 })),
  ];
}

function sampleServiceManifest(): Record<string, unknown> {
  return { apiVersion: "v1", kind: "Service", ...sampleService() };
}

function summarySection(specs: readonly AnnotationSpec[]): string[] {
  const rows = specs.map((spec) => {
    const deprecated = spec.deprecated === undefined ? "" : " (deprecated)";
    return `| [\`${spec.key}\`](#${headingAnchor(spec.key)})${deprecated} | ${SHAPE_WORDS[spec.shape]} | ${tableCell(defaultText(spec))} |`;
  });
  return ["## Summary", ["| annotation | value | default |", "| --- | --- | --- |", ...rows].join("\n")];
}

function annotationSection(spec: AnnotationSpec): string[] {
  const facts = [`- **Value:** ${prose(refusal(spec, VALUE_PROBES) ?? SHAPE_WORDS[spec.shape])}`];
  const keys = spec.shape === "stringMap" ? refusal(spec, [MAP_KEY_PROBE]) : undefined;
  if (keys !== undefined) facts.push(`- **Keys:** ${prose(keys)}`);
  if (spec.keyPrefix !== undefined && spec.keyEnd === "listener") {
    facts.unshift(
      `- **Annotation key:** one per listener, \`${spec.keyPrefix}<protocol>-<port number>\` (\`${exampleKeyOf(spec)}\` for the TCP listener on port 80)`,
    );
  } else if (spec.keyPrefix !== undefined) {
    facts.unshift(
      `- **Annotation key:** one per service port, \`${spec.keyPrefix}<port number>\` (\`${exampleKeyOf(spec)}\` for port 80)`,
    );
  }
  facts.push(`- **Default:** ${prose(defaultText(spec))}`);
  if (spec.deprecated !== undefined) {
    facts.push(`- **Deprecated:** kept for compatibility; use ${referenceText(spec.deprecated)} instead.`);
  }
  return [`### \`${spec.key}\``, facts.join("\n"), prose(spec.docs), yamlBlock(annotationExampleYaml(spec))];
}

/** What the parser says is allowed when it refuses the first probe it refuses. */
function refusal(spec: AnnotationSpec, probes: readonly string[]): string | undefined {
  for (const probe of probes) {
    const parsed = spec.parse(probe);
    if (!parsed.ok) return parsed.errors[0]?.allowed;
  }
  return undefined;
}

function refusedSection(): string[] {
  const rows = Object.entries(REFUSED_ANNOTATIONS).map(
    ([key, instead]) => `- \`${key}\`: accepts ${prose(instead)}.`,
  );
  if (rows.length === 0) return [];
  return [
    "## Refused annotations",
    "These keys would do nothing on an NLB, so a Service carrying them is refused with `InvalidAnnotation` rather than served with the annotation silently ignored.",
    rows.join("\n"),
  ];
}

function defaultText(spec: AnnotationSpec): string {
  return spec.default === "" ? "not set" : spec.default;
}

/** A key or flag in a code span; anything with spaces is prose. */
function referenceText(text: string): string {
  return /^\S+$/.test(text) ? `\`${text}\`` : prose(text);
}

/** GitHub's heading anchors: lower case, punctuation other than - and _ dropped, spaces to hyphens. */
function headingAnchor(text: string): string {
  return text
    .toLowerCase()
    .replace(/[^\p{L}\p{N}\s_-]/gu, "")
    .replace(/\s/g, "-");
}

const MARKDOWN_SPECIAL = /[\\<*]|(?<![\p{L}\p{N}])_|_(?![\p{L}\p{N}])/gu;

/**
 * Table text as Markdown: outside `code spans`, backslashes, `<` (which would open an HTML tag), `*`
 * and any `_` not inside a word (either could open emphasis) are escaped.
 */
function prose(text: string): string {
  return text
    .split(/(`[^`]*`)/)
    .map((part) => (part.startsWith("`") ? part : part.replace(MARKDOWN_SPECIAL, (c) => `\\${c}`)))
    .join("");
}

function tableCell(text: string): string {
  return prose(text).replace(/\|/g, "\\|");
}

function yamlBlock(yaml: string): string {
  return `\`\`\`yaml\n${yaml.trimEnd()}\n\`\`\``;
}
