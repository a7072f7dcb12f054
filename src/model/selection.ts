// Which Services this controller owns. The rule mirrors LBC and the in-tree provider exactly
// (values compared as written), so no Service is ever claimed by two controllers.
import { annotationTable } from "./annotations.ts";
import type { Service } from "./types.ts";

export { lookalikeWarnings } from "./lookalikes.ts";

export function isSelected(service: Service, loadBalancerClass: string): boolean {
  const spec = service.spec;
  if (spec?.type !== "LoadBalancer") return false;
  if (spec.loadBalancerClass !== undefined && spec.loadBalancerClass !== null) {
    return spec.loadBalancerClass === loadBalancerClass;
  }
  const annotations = service.metadata?.annotations ?? {};
  const type = annotations[annotationTable.type.key];
  if (type === "nlb-ip") return true;
  const targetType = annotations[annotationTable.targetType.key];
  return type === "external" && (targetType === "ip" || targetType === "instance");
}
