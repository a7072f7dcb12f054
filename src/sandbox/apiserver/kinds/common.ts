// Checks every kind shares: object metadata and label maps.
import type { FieldErrors } from "../errors.ts";
import { isObject, type Json } from "../json.ts";
import { labelValueProblems, type NameRule, qualifiedNameProblems } from "../names.ts";
import type { KubeObject } from "../object.ts";

const maxAnnotationBytes = 256 * 1024;

export function validateLabelMap(value: Json | undefined, field: string, errors: FieldErrors): void {
  if (!isObject(value)) {
    errors.invalid(field, value, "must be a map of strings");
    return;
  }
  for (const [key, v] of Object.entries(value)) {
    for (const p of qualifiedNameProblems(key)) errors.invalid(field, key, p);
    if (typeof v !== "string") errors.invalid(`${field}.${key}`, v, "must be a string");
    else for (const p of labelValueProblems(v)) errors.invalid(field, v, p);
  }
}

export function validateObjectMeta(obj: KubeObject, nameRule: NameRule, errors: FieldErrors): void {
  const meta = obj.metadata;
  const name = meta.name ?? "";
  if (name === "") errors.required("metadata.name", "name or generateName is required");
  else for (const p of nameRule(name)) errors.invalid("metadata.name", name, p);
  if (meta.labels !== undefined) validateLabelMap(meta.labels, "metadata.labels", errors);
  if (meta.annotations !== undefined) {
    let size = 0;
    for (const [key, value] of Object.entries(meta.annotations)) {
      for (const p of qualifiedNameProblems(key.toLowerCase()))
        errors.invalid("metadata.annotations", key, p);
      size += key.length + value.length;
    }
    if (size > maxAnnotationBytes) errors.tooLong("metadata.annotations", maxAnnotationBytes);
  }
  (meta.finalizers ?? []).forEach((finalizer, i) => {
    for (const p of qualifiedNameProblems(finalizer))
      errors.invalid(`metadata.finalizers[${i}]`, finalizer, p);
  });
  let controllers = 0;
  (meta.ownerReferences ?? []).forEach((ref, i) => {
    const field = `metadata.ownerReferences[${i}]`;
    for (const key of ["apiVersion", "kind", "name", "uid"]) {
      if (typeof ref[key] !== "string" || ref[key] === "")
        errors.invalid(`${field}.${key}`, ref[key] ?? "", `${key} must not be empty`);
    }
    if (ref.controller === true) controllers++;
  });
  if (controllers > 1)
    errors.invalid(
      "metadata.ownerReferences",
      controllers,
      "Only one reference can have Controller set to true",
    );
}
