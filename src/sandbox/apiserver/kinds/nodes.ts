import type { FieldErrors } from "../errors.ts";
import { arrayAt, isObject, objectAt, stringAt } from "../json.ts";
import { dns1123SubdomainProblems, qualifiedNameProblems } from "../names.ts";
import { isCidr } from "../net.ts";
import type { KubeObject } from "../object.ts";
import type { KindStrategy } from "../resource.ts";
import { normaliseTimes } from "../times.ts";

const taintEffects = ["NoSchedule", "PreferNoSchedule", "NoExecute"];

function validateNode(obj: KubeObject, old: KubeObject | undefined, errors: FieldErrors): void {
  const spec = objectAt(obj, "spec");
  (arrayAt(spec, "taints") ?? []).forEach((taint, i) => {
    const field = `spec.taints[${i}]`;
    if (!isObject(taint)) {
      errors.invalid(field, taint, "must be an object");
      return;
    }
    const key = stringAt(taint, "key") ?? "";
    for (const p of qualifiedNameProblems(key)) errors.invalid(`${field}.key`, key, p);
    if (typeof taint.effect !== "string" || !taintEffects.includes(taint.effect)) {
      errors.unsupported(`${field}.effect`, taint.effect, taintEffects);
    }
  });
  const podCidr = spec?.podCIDR;
  if (podCidr !== undefined && podCidr !== "" && !isCidr(podCidr))
    errors.invalid("spec.podCIDR", podCidr, "must be a valid CIDR");
  if (old) {
    const oldSpec = objectAt(old, "spec");
    const oldProvider = stringAt(oldSpec, "providerID") ?? "";
    if (oldProvider !== "" && oldProvider !== (stringAt(spec, "providerID") ?? "")) {
      errors.forbidden("spec.providerID", 'node updates may not change providerID except from "" to valid');
    }
    const oldCidr = stringAt(oldSpec, "podCIDR") ?? "";
    if (oldCidr !== "" && oldCidr !== (stringAt(spec, "podCIDR") ?? "")) {
      errors.forbidden("spec.podCIDR", 'node updates may not change podCIDR except from "" to valid');
    }
  }
}

export const nodeStrategy: KindStrategy = {
  decode: (obj) =>
    normaliseTimes(
      obj,
      [
        ["status.conditions[].lastHeartbeatTime", "time"],
        ["status.conditions[].lastTransitionTime", "time"],
      ],
      "Node",
    ),
  nameRule: dns1123SubdomainProblems,
  statusSubresource: true,
  keepStatusOnCreate: true,
  createOnUpdate: false,
  fieldLabels: { "spec.unschedulable": (obj) => String(objectAt(obj, "spec")?.unschedulable === true) },
  validate: validateNode,
};
