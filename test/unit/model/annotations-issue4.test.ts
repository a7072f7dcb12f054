// Parsing of the annotations of issue 4: TLS, per-port target group settings, the deprecated NLB
// attribute annotations, fixed addresses, and the refused access-log-emit-interval.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { annotationTable, isKnownAnnotationKey, parseAnnotations } from "../../../src/model/annotations.ts";
import { lookalikeWarnings } from "../../../src/model/selection.ts";
import type { Service } from "../../../src/model/types.ts";

const P = "service.beta.kubernetes.io/aws-load-balancer-";
const ACM = "arn:aws:acm:us-west-2:123456789012:certificate/12345678-1234-1234-1234-123456789012";
const IAM = "arn:aws:iam::123456789012:server-certificate/prod/web-2025";

function parse(annotations: Record<string, string>) {
  const service: Service = {
    metadata: { name: "web", namespace: "shop", annotations },
    spec: { type: "LoadBalancer", ports: [{ port: 80, protocol: "TCP", nodePort: 30080 }] },
  };
  return parseAnnotations(service);
}

function parsedValueOf(field: keyof typeof annotationTable, raw: string): unknown {
  const { values, problems } = parse({ [annotationTable[field].key]: raw });
  assert.deepEqual(problems, [], `${field}=${JSON.stringify(raw)}`);
  return values[field];
}

/** The one problem for a value: names the annotation, the value and what is allowed. */
function refusal(field: keyof typeof annotationTable, raw: string, key = annotationTable[field].key) {
  const { problems } = parse({ [key]: raw });
  assert.equal(problems.length, 1, `${field}=${JSON.stringify(raw)}: ${JSON.stringify(problems)}`);
  const problem = problems[0]!;
  assert.equal(problem.reason, "InvalidAnnotation");
  assert.equal(problem.field, `annotation ${key}`);
  assert.ok(problem.message.includes(key) && problem.message.includes(problem.allowed), problem.message);
  return problem;
}

describe("ssl-cert", () => {
  it("takes ACM and IAM certificate ARNs of any partition, in order", () => {
    assert.deepEqual(parsedValueOf("sslCert", ` ${ACM} , ${IAM}`), [ACM, IAM]);
    const china = "arn:aws-cn:acm:cn-north-1:123456789012:certificate/abc-123";
    const govCloud = "arn:aws-us-gov:iam::123456789012:server-certificate/web";
    assert.deepEqual(parsedValueOf("sslCert", `${china},${govCloud}`), [china, govCloud]);
  });

  it("refuses anything else, each bad entry on its own, and repeats", () => {
    for (const bad of [
      "arn:aws:elasticloadbalancing:us-west-2:123456789012:certificate/x",
      "arn:aws:acm:us-west-2:12345:certificate/x",
      "arn:aws:acm:us-west-2:123456789012:server-certificate/x",
      "arn:aws:iam::123456789012:certificate/x",
      "arn:aws:iam:us-west-2:123456789012:server-certificate/x",
      "arn:gcp:acm:us-west-2:123456789012:certificate/x",
      "my-cert",
    ]) {
      const problem = refusal("sslCert", bad);
      assert.equal(problem.value, bad);
      assert.match(problem.allowed, /^an ACM certificate ARN .* or an IAM server certificate ARN/);
    }
    assert.match(refusal("sslCert", `${ACM},${ACM}`).allowed, /each entry once/);
    assert.match(refusal("sslCert", "").allowed, /at least one/);
  });
});

describe("ssl-ports", () => {
  it("takes port numbers, port names, or * alone", () => {
    assert.deepEqual(parsedValueOf("sslPorts", "443, https,8443"), [443, "https", 8443]);
    assert.deepEqual(parsedValueOf("sslPorts", " * "), ["*"]);
  });

  it("refuses bad entries and * among others", () => {
    assert.match(refusal("sslPorts", "443,*").allowed, /^\* alone/);
    for (const bad of ["0", "65536", "HTTPS", "a b", "-x"]) {
      const problem = refusal("sslPorts", bad);
      assert.equal(problem.value, bad);
      assert.match(problem.allowed, /service port number from 1 to 65535, the name of a service port, or \*/);
    }
  });
});

describe("ssl-negotiation-policy, alpn-policy, backend-protocol", () => {
  it("take a policy name, an ALPN policy in any case, tcp or ssl", () => {
    assert.equal(
      parsedValueOf("sslNegotiationPolicy", " ELBSecurityPolicy-TLS13-1-2-2021-06 "),
      "ELBSecurityPolicy-TLS13-1-2-2021-06",
    );
    assert.equal(parsedValueOf("alpnPolicy", "http2preferred"), "HTTP2Preferred");
    assert.equal(parsedValueOf("alpnPolicy", "none"), "None");
    assert.equal(parsedValueOf("backendProtocol", "SSL"), "ssl");
    assert.equal(parsedValueOf("backendProtocol", "tcp"), "tcp");
  });

  it("refuse anything else", () => {
    assert.match(refusal("sslNegotiationPolicy", "ELB Policy").allowed, /letters, digits and hyphens/);
    assert.match(refusal("sslNegotiationPolicy", "").allowed, /security policy/);
    assert.equal(
      refusal("alpnPolicy", "HTTP3").allowed,
      "one of HTTP1Only, HTTP2Only, HTTP2Optional, HTTP2Preferred, None",
    );
    assert.equal(refusal("backendProtocol", "https").allowed, "one of tcp, ssl");
  });
});

describe("target-group-attributes.<port>", () => {
  const prefix = `${P}target-group-attributes.`;

  it("reads one key per port into a record by port number", () => {
    const { values, problems } = parse({
      [`${prefix}80`]: "deregistration_delay.timeout_seconds=0",
      [`${prefix}443`]: "preserve_client_ip.enabled=False",
      [`${P}target-group-attributes`]: "stickiness.enabled=true",
    });
    assert.deepEqual(problems, []);
    assert.deepEqual(values.targetGroupAttributesPerPort, {
      80: { "deregistration_delay.timeout_seconds": "0" },
      443: { "preserve_client_ip.enabled": "false" },
    });
    assert.deepEqual(values.targetGroupAttributes, { "stickiness.enabled": "true" });
    assert.ok(isKnownAnnotationKey(`${prefix}443`));
  });

  it("refuses a key that does not end in a port number, naming the key", () => {
    for (const suffix of ["", "http", "0", "080", "65536", "443x"]) {
      const problem = refusal(
        "targetGroupAttributesPerPort",
        "stickiness.enabled=true",
        `${prefix}${suffix}`,
      );
      assert.equal(problem.value, suffix);
      assert.match(problem.allowed, /a key ending in a service port number from 1 to 65535/);
    }
  });

  it("parses its value as strictly as target-group-attributes", () => {
    const problem = refusal("targetGroupAttributesPerPort", "stickiness.type=lb_cookie", `${prefix}80`);
    assert.equal(problem.value, "stickiness.type=lb_cookie");
    assert.match(problem.allowed, /source_ip/);
    assert.match(
      refusal("targetGroupAttributesPerPort", "idle=1", `${prefix}80`).allowed,
      /one of the target group attributes/,
    );
  });
});

describe("proxy-protocol-per-target-group", () => {
  it("takes service port numbers", () => {
    assert.deepEqual(parsedValueOf("proxyProtocolPerTargetGroup", "80, 443"), [80, 443]);
  });

  it("refuses names, out-of-range numbers and repeats", () => {
    assert.match(refusal("proxyProtocolPerTargetGroup", "http").allowed, /from 1 to 65535/);
    assert.match(refusal("proxyProtocolPerTargetGroup", "0").allowed, /from 1 to 65535/);
    assert.match(refusal("proxyProtocolPerTargetGroup", "80,80").allowed, /each entry once/);
  });
});

describe("deprecated NLB attribute annotations", () => {
  it("parse to booleans, a bucket name and a prefix, each pointing at the attributes annotation", () => {
    assert.equal(parsedValueOf("crossZoneLoadBalancingEnabled", "True"), true);
    assert.equal(parsedValueOf("accessLogEnabled", "0"), false);
    assert.equal(parsedValueOf("accessLogS3BucketName", " my-logs "), "my-logs");
    assert.equal(parsedValueOf("accessLogS3BucketPrefix", " nlb/shop "), "nlb/shop");
    for (const field of [
      "crossZoneLoadBalancingEnabled",
      "accessLogEnabled",
      "accessLogS3BucketName",
      "accessLogS3BucketPrefix",
    ] as const) {
      assert.equal(annotationTable[field].deprecated, `${P}attributes`, field);
    }
  });

  it("refuse bad values", () => {
    assert.equal(refusal("crossZoneLoadBalancingEnabled", "yes").allowed, "true or false");
    assert.match(refusal("accessLogS3BucketName", "My_Bucket").allowed, /S3 bucket name/);
    assert.match(refusal("accessLogS3BucketPrefix", "a\u0000b").allowed, /at most 1024 characters/);
    assert.match(refusal("accessLogS3BucketPrefix", "a\u2028b").allowed, /on one line/);
  });

  it("access-log-emit-interval is ignored with a warning (Classic/ALB only), never refused", () => {
    const key = `${P}access-log-emit-interval`;
    assert.equal(isKnownAnnotationKey(key), false);
    const { problems } = parseAnnotations({
      metadata: { name: "web", namespace: "shop", annotations: { [key]: "5" } },
      spec: { type: "LoadBalancer", loadBalancerClass: "service.k8s.aws/nlb", ports: [{ port: 80 }] },
    });
    assert.deepEqual(problems, []);
    const warnings = lookalikeWarnings({
      metadata: { name: "web", namespace: "shop", annotations: { [key]: "5" } },
      spec: { type: "LoadBalancer", loadBalancerClass: "service.k8s.aws/nlb", ports: [{ port: 80 }] },
    });
    assert.equal(warnings.length, 1);
    assert.match(warnings[0] ?? "", /access-log-emit-interval applies only to Classic Load Balancers/);
  });
});

describe("eip-allocations and private-ipv4-addresses", () => {
  it("keep the order given", () => {
    assert.deepEqual(parsedValueOf("eipAllocations", "eipalloc-0123456789abcdef1, eipalloc-01234567"), [
      "eipalloc-0123456789abcdef1",
      "eipalloc-01234567",
    ]);
    assert.deepEqual(parsedValueOf("privateIpv4Addresses", "10.0.2.10,10.0.1.10"), [
      "10.0.2.10",
      "10.0.1.10",
    ]);
  });

  it("refuse other IDs and addresses that are not dotted-decimal IPv4", () => {
    for (const bad of ["eipalloc-XYZ", "eipalloc-0123", "eni-0123456789abcdef0", "52.1.2.3"]) {
      const problem = refusal("eipAllocations", bad);
      assert.equal(problem.value, bad);
      assert.match(problem.allowed, /^an Elastic IP allocation ID/);
    }
    for (const bad of ["10.0.1", "10.0.1.256", "10.0.01.1", "::1", "10.0.1.1/32", "ten"]) {
      const problem = refusal("privateIpv4Addresses", bad);
      assert.equal(problem.value, bad);
      assert.match(problem.allowed, /^an IPv4 address in dotted decimal/);
    }
  });
});
