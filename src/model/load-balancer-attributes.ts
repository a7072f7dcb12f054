// The NLB's attributes: the deprecated single-attribute annotations, then the attributes annotation,
// which wins where both set the same attribute.
import { type AnnotationValues, annotationTable } from "./annotations.ts";
import { annotationProblem } from "./problems.ts";
import { sortedRecord } from "./sorted.ts";
import type { InputProblem } from "./types.ts";

export function loadBalancerAttributesOf(
  values: AnnotationValues,
  object: string,
  problems: InputProblem[],
): Record<string, string> {
  const deprecated: Record<string, string> = {};
  if (values.crossZoneLoadBalancingEnabled !== undefined)
    deprecated["load_balancing.cross_zone.enabled"] = String(values.crossZoneLoadBalancingEnabled);
  if (values.accessLogEnabled !== undefined)
    deprecated["access_logs.s3.enabled"] = String(values.accessLogEnabled);
  if (values.accessLogS3BucketName !== undefined)
    deprecated["access_logs.s3.bucket"] = values.accessLogS3BucketName;
  if (values.accessLogS3BucketPrefix !== undefined)
    deprecated["access_logs.s3.prefix"] = values.accessLogS3BucketPrefix;
  const attributes = { ...deprecated, ...values.attributes };
  // The attributes annotation checks this on its own; here the switch came from access-log-enabled.
  if (attributes["access_logs.s3.enabled"] === "true" && !attributes["access_logs.s3.bucket"]) {
    problems.push(
      annotationProblem(object, annotationTable.accessLogEnabled.key, {
        value: "true",
        allowed: `access logs need a bucket too: ${annotationTable.accessLogS3BucketName.key}, or access_logs.s3.bucket in ${annotationTable.attributes.key}`,
      }),
    );
  }
  return sortedRecord(attributes);
}
