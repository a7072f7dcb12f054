/** Equal as sets: order and repeats do not count. */
export function sameSet(a: readonly string[], b: readonly string[]): boolean {
  const left = new Set(a);
  const right = new Set(b);
  return left.size === right.size && [...left].every((x) => right.has(x));
}

/** The desired attributes whose actual value differs; attributes the user did not set are left alone. */
export function attributeChanges(
  want: Record<string, string>,
  have: Record<string, string>,
): Record<string, string> | undefined {
  const out: Record<string, string> = {};
  for (const [key, value] of Object.entries(want)) {
    if (have[key] !== value) out[key] = value;
  }
  return Object.keys(out).length > 0 ? out : undefined;
}

/**
 * Tags to add or change and tags to remove. Keys under `aws:` belong to AWS and are never removed;
 * any other tag on an owned resource that the desired set lacks is removed, as LBC does.
 */
export function tagChanges(
  want: Record<string, string>,
  have: Record<string, string>,
): { add: Record<string, string>; remove: string[] } | undefined {
  const add: Record<string, string> = {};
  for (const [key, value] of Object.entries(want)) {
    if (have[key] !== value) add[key] = value;
  }
  const remove = Object.keys(have).filter((key) => !(key in want) && !key.startsWith("aws:"));
  return Object.keys(add).length > 0 || remove.length > 0 ? { add, remove } : undefined;
}
