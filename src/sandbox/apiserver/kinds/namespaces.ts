import { arrayAt, child, objectAt, stringAt } from "../json.ts";
import { dns1123LabelProblems } from "../names.ts";
import type { KubeObject } from "../object.ts";
import type { KindStrategy } from "../resource.ts";

export const namespaceNameLabel = "kubernetes.io/metadata.name";
/** Namespaces the real server refuses to delete. */
export const protectedNamespaces = ["default", "kube-system", "kube-public"];

function stampNameLabel(obj: KubeObject): void {
  obj.metadata.labels = { ...(obj.metadata.labels ?? {}), [namespaceNameLabel]: obj.metadata.name ?? "" };
}

export const namespaceStrategy: KindStrategy = {
  nameRule: dns1123LabelProblems,
  statusSubresource: true,
  createOnUpdate: false,
  fieldLabels: { "status.phase": (obj) => stringAt(objectAt(obj, "status"), "phase") ?? "" },
  prepareCreate(obj) {
    obj.status = { phase: "Active" };
    const spec = child(obj, "spec");
    if ((arrayAt(spec, "finalizers") ?? []).length === 0) spec.finalizers = ["kubernetes"];
    stampNameLabel(obj);
  },
  prepareUpdate(obj, old) {
    obj.spec = structuredClone(old.spec ?? { finalizers: ["kubernetes"] });
    stampNameLabel(obj);
  },
};
