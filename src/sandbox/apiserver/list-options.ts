// ListOptions validation of kube-apiserver 1.34 (apimachinery internalversion/validation),
// with the WatchList feature on, as it is by default.
import { type FieldCause, invalid } from "./errors.ts";

function forbidden(field: string, detail: string): FieldCause {
  return { reason: "FieldValueForbidden", message: `Forbidden: ${detail}`, field };
}

function notSupported(field: string, value: string, allowed: string[]): FieldCause {
  const list = allowed.map((a) => JSON.stringify(a)).join(", ");
  return {
    reason: "FieldValueNotSupported",
    message: `Unsupported value: ${JSON.stringify(value)}: supported values: ${list}`,
    field,
  };
}

function listProblems(query: URLSearchParams): FieldCause[] {
  const causes: FieldCause[] = [];
  const match = query.get("resourceVersionMatch") ?? "";
  if (match) {
    if (!query.get("resourceVersion"))
      causes.push(
        forbidden(
          "resourceVersionMatch",
          "resourceVersionMatch is forbidden unless resourceVersion is provided",
        ),
      );
    if (query.get("continue"))
      causes.push(
        forbidden("resourceVersionMatch", "resourceVersionMatch is forbidden when continue is provided"),
      );
    if (match !== "Exact" && match !== "NotOlderThan")
      causes.push(notSupported("resourceVersionMatch", match, ["Exact", "NotOlderThan", ""]));
    if (match === "Exact" && query.get("resourceVersion") === "0")
      causes.push(
        forbidden(
          "resourceVersionMatch",
          'resourceVersionMatch "exact" is forbidden for resourceVersion "0"',
        ),
      );
  }
  if (query.has("sendInitialEvents"))
    causes.push(forbidden("sendInitialEvents", "sendInitialEvents is forbidden for list"));
  return causes;
}

function watchProblems(query: URLSearchParams): FieldCause[] {
  const causes: FieldCause[] = [];
  const match = query.get("resourceVersionMatch") ?? "";
  const sendInitial = query.has("sendInitialEvents");
  if (sendInitial && match !== "NotOlderThan")
    causes.push(
      forbidden(
        "resourceVersionMatch",
        "sendInitialEvents requires setting resourceVersionMatch to NotOlderThan",
      ),
    );
  if (match) {
    if (!sendInitial)
      causes.push(
        forbidden(
          "resourceVersionMatch",
          "resourceVersionMatch is forbidden for watch unless sendInitialEvents is provided",
        ),
      );
    if (match !== "NotOlderThan") causes.push(notSupported("resourceVersionMatch", match, ["NotOlderThan"]));
    if (query.get("continue"))
      causes.push(
        forbidden("resourceVersionMatch", "resourceVersionMatch is forbidden when continue is provided"),
      );
  }
  return causes;
}

/** Throws the 422 `ListOptions.meta.k8s.io "" is invalid` of options that do not go together. */
export function validateListOptions(query: URLSearchParams, isWatch: boolean): void {
  const causes = isWatch ? watchProblems(query) : listProblems(query);
  if (causes.length > 0) throw invalid("ListOptions", "meta.k8s.io", "", causes);
}
