// Warnings for annotations that look like LBC's but that this controller does not act on.
import {
  ANNOTATION_PREFIX,
  annotationTable,
  isKnownAnnotationKey,
  KNOWN_ANNOTATION_KEYS,
} from "./annotations.ts";
import { quoteValue } from "./problems.ts";
import { byCodePoint } from "./sorted.ts";
import type { Service } from "./types.ts";

/** LBC annotations this controller recognises but does not implement (yet): they are ignored. */
const NOT_YET_SUPPORTED = new Set(
  ["enable-prefix-for-ipv6-source-nat", "source-nat-ipv6-prefixes", "minimum-load-balancer-capacity"].map(
    (suffix) => `${ANNOTATION_PREFIX}${suffix}`,
  ),
);

/** Annotations of Classic (and Application) Load Balancers, meaningless for an NLB. */
const CLASSIC_ONLY = new Set(
  [
    "access-log-emit-interval",
    "connection-draining-enabled",
    "connection-draining-timeout",
    "connection-idle-timeout",
    "extra-security-groups",
  ].map((suffix) => `${ANNOTATION_PREFIX}${suffix}`),
);

const SUGGESTABLE = [...KNOWN_ANNOTATION_KEYS, ...NOT_YET_SUPPORTED];
const MAX_TYPO_DISTANCE = 2;

export function lookalikeWarnings(service: Service): string[] {
  const annotations = service.metadata?.annotations ?? {};
  const warnings: string[] = [];
  for (const key of Object.keys(annotations).sort(byCodePoint)) {
    const warning = keyWarning(key);
    if (warning) warnings.push(warning);
  }
  warnings.push(...selectionWarnings(service));
  return warnings;
}

function keyWarning(key: string): string | undefined {
  if (isKnownAnnotationKey(key)) return undefined;
  const shown = key.length > 120 ? `${key.slice(0, 120)}…` : key;
  if (NOT_YET_SUPPORTED.has(key)) {
    return `annotation ${shown} is an AWS Load Balancer Controller annotation that this controller does not support yet; it is ignored`;
  }
  if (CLASSIC_ONLY.has(key)) {
    return `annotation ${shown} applies only to Classic Load Balancers of the in-tree cloud provider; it has no effect on this NLB`;
  }
  const suggestion = nearestKey(key);
  const looksOurs = key.toLowerCase().startsWith(ANNOTATION_PREFIX) || suggestion !== undefined;
  if (!looksOurs) return undefined;
  const hint = suggestion ? ` (did you mean ${suggestion}?)` : "";
  return `annotation ${shown} looks like an AWS load balancer annotation but is not one this controller knows${hint}; it is ignored`;
}

function nearestKey(key: string): string | undefined {
  if (key.length > 200) return undefined;
  const lower = key.toLowerCase();
  let best: string | undefined;
  let bestDistance = MAX_TYPO_DISTANCE + 1;
  for (const candidate of SUGGESTABLE) {
    if (Math.abs(candidate.length - lower.length) > MAX_TYPO_DISTANCE) continue;
    const distance = editDistance(lower, candidate);
    if (distance < bestDistance) {
      best = candidate;
      bestDistance = distance;
    }
  }
  return best;
}

/** Levenshtein distance, two rows. */
function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      const substitution = previous[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1);
      current.push(Math.min(previous[j]! + 1, current[j - 1]! + 1, substitution));
    }
    previous = current;
  }
  return previous[b.length]!;
}

/** Values that come close to selecting the Service but do not (selection compares values exactly). */
function selectionWarnings(service: Service): string[] {
  const annotations = service.metadata?.annotations ?? {};
  const typeKey = annotationTable.type.key;
  const targetTypeKey = annotationTable.targetType.key;
  const type = textOf(annotations[typeKey]);
  const targetType = textOf(annotations[targetTypeKey]);
  const hasClass = service.spec?.loadBalancerClass !== undefined && service.spec?.loadBalancerClass !== null;
  const warnings: string[] = [];
  if (type === undefined) return warnings;
  const normalised = type.trim().toLowerCase();
  if (normalised === "nlb") {
    warnings.push(
      `annotation ${typeKey}: "nlb" asks for the in-tree cloud provider's NLB, which this controller does not manage; use "external" with ${targetTypeKey} ip or instance, or spec.loadBalancerClass`,
    );
  } else if ((normalised === "external" || normalised === "nlb-ip") && type !== normalised && !hasClass) {
    warnings.push(
      `annotation ${typeKey}: ${quoteValue(type)} is compared exactly; write "${normalised}" for this controller to manage the Service`,
    );
  } else if (type === "external" && !hasClass) {
    const normalisedTarget = targetType?.trim().toLowerCase();
    if (targetType === undefined) {
      warnings.push(
        `annotation ${typeKey}: "external" needs ${targetTypeKey} set to ip or instance for this controller to manage the Service`,
      );
    } else if (
      (normalisedTarget === "ip" || normalisedTarget === "instance") &&
      targetType !== normalisedTarget
    ) {
      warnings.push(
        `annotation ${targetTypeKey}: ${quoteValue(targetType)} is compared exactly; write "${normalisedTarget}" for this controller to manage the Service`,
      );
    }
  }
  return warnings;
}

function textOf(value: unknown): string | undefined {
  return typeof value === "string" ? value : undefined;
}
