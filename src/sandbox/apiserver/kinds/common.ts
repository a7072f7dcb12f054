// Checks every kind shares: object metadata and label maps.
import type { FieldErrors } from "../errors.ts";
import { isObject, type Json } from "../json.ts";
import { labelValueProblems, type NameRule, qualifiedNameProblems } from "../names.ts";
import type { KubeObject } from "../object.ts";

const maxAnnotationBytes = 256 * 1024;
const standardFinalizers = ["kubernetes", "orphan", "foregroundDeletion"];

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

function validateAnnotations(annotations: Record<string, string> | undefined, errors: FieldErrors): void {
  if (annotations === undefined) return;
  let size = 0;
  for (const [key, value] of Object.entries(annotations)) {
    for (const p of qualifiedNameProblems(key.toLowerCase())) errors.invalid("metadata.annotations", key, p);
    size += key.length + value.length;
  }
  if (size > maxAnnotationBytes) errors.tooLong("metadata.annotations", maxAnnotationBytes);
}

function validateOwnerReferences(refs: KubeObject["metadata"]["ownerReferences"], errors: FieldErrors): void {
  let controllers = 0;
  (refs ?? []).forEach((ref, i) => {
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

/** The labels, annotations and owners checks both metadata validations share. */
function validateMetaMaps(obj: KubeObject, errors: FieldErrors): void {
  if (obj.metadata.labels !== undefined) validateLabelMap(obj.metadata.labels, "metadata.labels", errors);
  validateAnnotations(obj.metadata.annotations, errors);
  validateOwnerReferences(obj.metadata.ownerReferences, errors);
}

/** ValidateObjectMetaAccessor: name, labels, annotations, owners, finalizer names. */
export function validateGenericMeta(obj: KubeObject, nameRule: NameRule, errors: FieldErrors): void {
  const name = obj.metadata.name ?? "";
  if (name === "") errors.required("metadata.name", "name or generateName is required");
  else for (const p of nameRule(name)) errors.invalid("metadata.name", name, p);
  validateMetaMaps(obj, errors);
  for (const finalizer of obj.metadata.finalizers ?? [])
    for (const p of qualifiedNameProblems(finalizer)) errors.invalid("metadata.finalizers", finalizer, p);
}

/** ValidateObjectMetaAccessorUpdate: no new finalizer once deleting, then the shared checks. */
export function validateMetaUpdate(obj: KubeObject, old: KubeObject, errors: FieldErrors): void {
  if (old.metadata.deletionTimestamp !== undefined) {
    const had = old.metadata.finalizers ?? [];
    const added = [...new Set((obj.metadata.finalizers ?? []).filter((f) => !had.includes(f)))].sort();
    if (added.length > 0) {
      errors.forbidden(
        "metadata.finalizers",
        `no new finalizers can be added if the object is being deleted, found new finalizers []string{${added.map((f) => JSON.stringify(f)).join(", ")}}`,
      );
    }
  }
  validateMetaMaps(obj, errors);
}

/** The core group's extra rule: a finalizer without a prefix must be a standard one. */
export function validateKubeFinalizers(obj: KubeObject, errors: FieldErrors): void {
  (obj.metadata.finalizers ?? []).forEach((finalizer, i) => {
    if (!finalizer.includes("/") && !standardFinalizers.includes(finalizer))
      errors.invalid(
        `metadata.finalizers[${i}]`,
        finalizer,
        "name is neither a standard finalizer name nor is it fully qualified",
      );
  });
}

/** ValidateObjectMeta of a create (pkg/apis/core/validation). */
export function validateObjectMeta(obj: KubeObject, nameRule: NameRule, errors: FieldErrors): void {
  validateGenericMeta(obj, nameRule, errors);
  validateKubeFinalizers(obj, errors);
}

/**
 * What an update's metadata goes through: the generic checks every update gets
 * (validateCommonFields), then the kind's own ValidateObjectMetaUpdate. Both run the update
 * checks, so the real server lists each of their problems more than once.
 */
export function validateObjectMetaForUpdate(
  obj: KubeObject,
  old: KubeObject,
  nameRule: NameRule,
  errors: FieldErrors,
): void {
  validateGenericMeta(obj, nameRule, errors);
  validateMetaUpdate(obj, old, errors);
  validateMetaUpdate(obj, old, errors);
  validateKubeFinalizers(obj, errors);
}
