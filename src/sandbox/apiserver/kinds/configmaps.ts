import type { FieldErrors } from "../errors.ts";
import { deepEqual, isObject, objectAt } from "../json.ts";
import { dns1123SubdomainProblems } from "../names.ts";
import type { KubeObject } from "../object.ts";
import type { KindStrategy } from "../resource.ts";

/** corev1.MaxSecretSize, which kube-apiserver applies to ConfigMaps too. */
const maxTotalBytes = 1024 * 1024;
const configKey = /^[-._a-zA-Z0-9]+$/;

function keyProblems(key: string): string[] {
  const problems: string[] = [];
  if (key.length > 253) problems.push("must be no more than 253 characters");
  if (!configKey.test(key))
    problems.push(
      "a valid config key must consist of alphanumeric characters, '-', '_' or '.' (e.g. 'key.name',  or 'KEY_NAME',  or 'key-name', regex used for validation is '[-._a-zA-Z0-9]+')",
    );
  if (key === ".") problems.push("must not be '.'");
  if (key === "..") problems.push("must not be '..'");
  else if (key.startsWith("..")) problems.push("must not start with '..'");
  return problems;
}

function validateConfigMap(obj: KubeObject, old: KubeObject | undefined, errors: FieldErrors): void {
  let total = 0;
  const data = objectAt(obj, "data") ?? {};
  const binary = objectAt(obj, "binaryData") ?? {};
  for (const [field, map] of [
    ["data", data],
    ["binaryData", binary],
  ] as const) {
    if (obj[field] !== undefined && obj[field] !== null && !isObject(obj[field])) {
      errors.invalid(field, obj[field], "must be a map of strings");
      continue;
    }
    for (const [key, value] of Object.entries(map)) {
      for (const p of keyProblems(key)) errors.invalid(`${field}[${key}]`, key, p);
      if (typeof value !== "string") errors.invalid(`${field}[${key}]`, value, "must be a string");
      else total += value.length;
    }
  }
  for (const key of Object.keys(data)) {
    if (Object.hasOwn(binary, key))
      errors.invalid(`data[${key}]`, key, "duplicate of key present in binaryData");
  }
  // The real server names no field here and prints the empty path as "[]".
  if (total > maxTotalBytes) errors.tooLong("[]", maxTotalBytes);
  if (old?.immutable === true) {
    if (obj.immutable !== true) errors.forbidden("immutable", "field is immutable when `immutable` is set");
    if (!deepEqual(obj.data ?? {}, old.data ?? {}))
      errors.forbidden("data", "field is immutable when `immutable` is set");
    if (!deepEqual(obj.binaryData ?? {}, old.binaryData ?? {}))
      errors.forbidden("binaryData", "field is immutable when `immutable` is set");
  }
}

export const configMapStrategy: KindStrategy = {
  nameRule: dns1123SubdomainProblems,
  statusSubresource: false,
  createOnUpdate: false,
  validate: validateConfigMap,
};
