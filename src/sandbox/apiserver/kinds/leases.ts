import type { FieldErrors } from "../errors.ts";
import { objectAt } from "../json.ts";
import { dns1123SubdomainProblems } from "../names.ts";
import type { KubeObject } from "../object.ts";
import type { KindStrategy } from "../resource.ts";
import { normaliseTimes } from "../times.ts";

function validateLease(obj: KubeObject, _old: KubeObject | undefined, errors: FieldErrors): void {
  const spec = objectAt(obj, "spec");
  const duration = spec?.leaseDurationSeconds;
  if (duration !== undefined && duration !== null && (typeof duration !== "number" || duration <= 0)) {
    errors.invalid("spec.leaseDurationSeconds", duration, "must be greater than 0");
  }
  const transitions = spec?.leaseTransitions;
  if (
    transitions !== undefined &&
    transitions !== null &&
    (typeof transitions !== "number" || transitions < 0)
  ) {
    errors.invalid("spec.leaseTransitions", transitions, "must be greater than or equal to 0");
  }
}

export const leaseStrategy: KindStrategy = {
  decode: (obj) =>
    normaliseTimes(
      obj,
      [
        ["spec.acquireTime", "micro"],
        ["spec.renewTime", "micro"],
      ],
      "Lease",
    ),
  nameRule: dns1123SubdomainProblems,
  statusSubresource: false,
  createOnUpdate: true,
  validate: validateLease,
};
