import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { ApiException } from "@kubernetes/client-node";
import { describeError } from "../../../src/controller/describe-error.ts";

describe("describeError(): Kubernetes API errors", () => {
  it("says the Status message, not client-node's dump of the answer, and what to do about a 403", () => {
    const body = JSON.stringify({
      kind: "Status",
      status: "Failure",
      message:
        'configmaps "aws-nlb-targets-api" is forbidden: User "system:serviceaccount:kube-system:nlb" cannot get resource "configmaps"',
      reason: "Forbidden",
      code: 403,
    });
    const text = describeError(new ApiException(403, "Unknown API Status Code!", body, {}));
    assert.match(text, /^Kubernetes API 403 Forbidden: configmaps "aws-nlb-targets-api" is forbidden/);
    assert.match(text, /rbac\.multiClusterTargetGroups=true/);
    assert.doesNotMatch(text, /HTTP-Code|Headers/);
  });

  it("keeps a body that is not a Status as the message", () => {
    assert.equal(
      describeError(new ApiException(502, "Bad Gateway", "upstream down", {})),
      "Kubernetes API 502: upstream down",
    );
  });
});
