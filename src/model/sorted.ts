/**
 * A copy with keys in code-point order, so JSON output and comparisons are stable.
 * Built with Object.fromEntries so a user key such as `__proto__` stays a plain own key.
 */
export function sortedRecord(record: Record<string, string> | Map<string, string>): Record<string, string> {
  const entries = record instanceof Map ? [...record] : Object.entries(record);
  return Object.fromEntries(entries.sort(([a], [b]) => byCodePoint(a, b)));
}

export function byCodePoint(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
