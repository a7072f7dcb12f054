import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
  ANNOTATIONS,
  annotationTable,
  KNOWN_ANNOTATION_KEYS,
  parseAnnotations,
} from "../../../src/model/annotations.ts";
import type { Service } from "../../../src/model/types.ts";

const P = "service.beta.kubernetes.io/aws-load-balancer-";

function serviceWith(annotations: Record<string, string>): Service {
  return {
    metadata: { name: "web", namespace: "shop", annotations },
    spec: { type: "LoadBalancer", ports: [{ port: 80, protocol: "TCP", nodePort: 30080 }] },
  };
}

function parse(annotations: Record<string, string>) {
  return parseAnnotations(serviceWith(annotations));
}

/** The single problem for one annotation value, asserting there is exactly one. */
function problemFor(suffix: string, value: string) {
  const { problems } = parse({ [`${P}${suffix}`]: value });
  assert.equal(
    problems.length,
    1,
    `expected one problem for ${suffix}=${JSON.stringify(value)}, got ${problems.length}`,
  );
  return problems[0]!;
}

function parsedValue(suffix: string, value: string): unknown {
  const { values, problems } = parse({ [`${P}${suffix}`]: value });
  assert.deepEqual(problems, [], `unexpected problems for ${suffix}=${JSON.stringify(value)}`);
  const entry = Object.entries(annotationTable).find(([, spec]) => spec.key === `${P}${suffix}`);
  assert.ok(entry, `no table entry for ${suffix}`);
  return (values as Record<string, unknown>)[entry[0]];
}

describe("the annotation table", () => {
  const issue3 = [
    "type",
    "nlb-target-type",
    "name",
    "scheme",
    "internal",
    "subnets",
    "healthcheck-protocol",
    "healthcheck-port",
    "healthcheck-path",
    "healthcheck-interval",
    "healthcheck-timeout",
    "healthcheck-healthy-threshold",
    "healthcheck-unhealthy-threshold",
    "healthcheck-success-codes",
    "target-group-attributes",
    "attributes",
    "additional-resource-tags",
    "target-node-labels",
    "proxy-protocol",
  ];

  it("defines every annotation of the reconciler issue, each key once", () => {
    for (const suffix of issue3) assert.ok(KNOWN_ANNOTATION_KEYS.has(`${P}${suffix}`), suffix);
    const perPort = ANNOTATIONS.filter((spec) => spec.keyPrefix !== undefined).length;
    assert.equal(KNOWN_ANNOTATION_KEYS.size, ANNOTATIONS.length - perPort);
  });

  it("gives every annotation docs text and an example that its own parser accepts", () => {
    for (const spec of ANNOTATIONS) {
      assert.ok(spec.docs.length > 20, `${spec.key} docs`);
      assert.ok(spec.example.length > 0, `${spec.key} example`);
      assert.ok(spec.key.startsWith("service.beta.kubernetes.io/"), spec.key);
      assert.equal(spec.parse(spec.example).ok, true, `${spec.key} example ${spec.example}`);
    }
  });

  it("marks the internal annotation deprecated in favour of scheme", () => {
    assert.equal(annotationTable.internal.deprecated, `${P}scheme`);
  });

  it("returns no values and no problems for a Service without annotations", () => {
    assert.deepEqual(parseAnnotations({ metadata: { name: "a" }, spec: {} }), { values: {}, problems: [] });
  });
});

describe("problem messages", () => {
  it("name the object, the annotation, the value and what is allowed, on one line", () => {
    const problem = problemFor("healthcheck-interval", "3");
    assert.deepEqual(problem, {
      object: "shop/web",
      field: `annotation ${P}healthcheck-interval`,
      value: "3",
      allowed: "a whole number from 5 to 300 seconds",
      reason: "InvalidAnnotation",
      message: `service shop/web: annotation ${P}healthcheck-interval: "3" is not valid: a whole number from 5 to 300 seconds`,
    });
  });

  it("escape newlines and cut huge values short", () => {
    const multiLine = problemFor("scheme", "internal\ninternet-facing");
    assert.ok(!multiLine.message.includes("\n"));
    assert.match(multiLine.message, /"internal\\ninternet-facing"/);

    const huge = problemFor("healthcheck-path", `/${"x".repeat(5000)} y`);
    assert.ok(huge.message.length < 500, `message is ${huge.message.length} characters`);
    assert.match(huge.message, /… \(5003 characters\)/);
    assert.ok(huge.value.length <= 256);
  });

  it("use default/ for a Service without a namespace", () => {
    const { problems } = parseAnnotations({
      metadata: { name: "web", annotations: { [`${P}scheme`]: "public" } },
      spec: {},
    });
    assert.equal(problems[0]?.object, "default/web");
  });

  it("are collected for every bad annotation, not just the first", () => {
    const { problems } = parse({
      [`${P}scheme`]: "public",
      [`${P}healthcheck-interval`]: "0",
      [`${P}healthcheck-protocol`]: "udp",
      [`${P}additional-resource-tags`]: "aws:x=1,ok=1,=v",
    });
    assert.deepEqual(
      problems.map((problem) => [problem.field.replace(`annotation ${P}`, ""), problem.value]).sort(),
      [
        ["additional-resource-tags", "=v"],
        ["additional-resource-tags", "aws:x"],
        ["healthcheck-interval", "0"],
        ["healthcheck-protocol", "udp"],
        ["scheme", "public"],
      ],
    );
    for (const problem of problems) assert.equal(problem.reason, "InvalidAnnotation");
  });

  it("refuse values that are not strings, as Kubernetes does (an unquoted YAML number in plan -f)", () => {
    const service = serviceWith({});
    (service.metadata.annotations as Record<string, unknown>)[`${P}healthcheck-interval`] = 12;
    (service.metadata.annotations as Record<string, unknown>)[`${P}scheme`] = null;
    const { values, problems } = parseAnnotations(service);
    assert.equal(values.healthCheckInterval, undefined);
    assert.deepEqual(
      problems.map((p) => [p.value, p.allowed]),
      [
        ["null", "a string (quote it in YAML)"],
        ["12", "a string (quote it in YAML)"],
      ],
    );
  });
});

describe("enumerations", () => {
  it("match case-insensitively and normalise", () => {
    assert.equal(parsedValue("scheme", "Internet-Facing"), "internet-facing");
    assert.equal(parsedValue("scheme", " internal "), "internal");
    assert.equal(parsedValue("nlb-target-type", "IP"), "ip");
    assert.equal(parsedValue("healthcheck-protocol", "http"), "HTTP");
    assert.equal(parsedValue("healthcheck-protocol", "Https"), "HTTPS");
    assert.equal(parsedValue("ip-address-type", "DualStack"), "dualstack");
    assert.equal(parsedValue("type", "External"), "external");
  });

  it("refuse anything else, listing the choices", () => {
    assert.equal(problemFor("scheme", "public").allowed, "one of internal, internet-facing");
    assert.equal(problemFor("nlb-target-type", "alb").allowed, "one of instance, ip");
    assert.equal(problemFor("healthcheck-protocol", "UDP").allowed, "one of TCP, HTTP, HTTPS");
    assert.equal(problemFor("ip-address-type", "ipv6").allowed, "one of ipv4, dualstack");
    assert.equal(problemFor("type", "clb").allowed, "one of external, nlb-ip, nlb");
    assert.equal(problemFor("scheme", "").allowed, "one of internal, internet-facing");
  });
});

describe("booleans", () => {
  it("accept true/false in any case and the Go spellings 1/0, t/f", () => {
    for (const text of ["true", "TRUE", "True", "1", "t", "T"])
      assert.equal(parsedValue("internal", text), true, text);
    for (const text of ["false", "FALSE", "0", "f", "F"])
      assert.equal(parsedValue("internal", text), false, text);
  });

  it("refuse yes/no and empty", () => {
    assert.equal(problemFor("internal", "yes").allowed, "true or false");
    assert.equal(problemFor("internal", "").allowed, "true or false");
  });
});

describe("numbers with ranges", () => {
  const cases: [string, number, number][] = [
    ["healthcheck-interval", 5, 300],
    ["healthcheck-timeout", 2, 120],
    ["healthcheck-healthy-threshold", 2, 10],
    ["healthcheck-unhealthy-threshold", 2, 10],
  ];
  for (const [suffix, min, max] of cases) {
    it(`${suffix} accepts ${min}..${max} and nothing outside`, () => {
      assert.equal(parsedValue(suffix, String(min)), min);
      assert.equal(parsedValue(suffix, ` ${max} `), max);
      for (const bad of [
        String(min - 1),
        String(max + 1),
        "10s",
        "1e1",
        "-5",
        "7.5",
        "",
        "ten",
        "99999999999999",
      ]) {
        const problem = problemFor(suffix, bad);
        assert.match(
          problem.allowed,
          new RegExp(`^a whole number from ${min} to ${max}`),
          `${suffix}=${bad}`,
        );
      }
    });
  }

  it("healthcheck-port takes traffic-port, 1..65535, or a service port name", () => {
    assert.equal(parsedValue("healthcheck-port", "traffic-port"), "traffic-port");
    assert.equal(parsedValue("healthcheck-port", "Traffic-Port"), "traffic-port");
    assert.equal(parsedValue("healthcheck-port", "1"), 1);
    assert.equal(parsedValue("healthcheck-port", "65535"), 65535);
    assert.deepEqual(parsedValue("healthcheck-port", "http-metrics"), { portName: "http-metrics" });
    for (const bad of ["0", "65536", "-1", "", "HTTP", "a--b", "port_name", "a-very-long-port-name"]) {
      assert.equal(
        problemFor("healthcheck-port", bad).allowed,
        "traffic-port, a port number from 1 to 65535, or the name of a service port",
        bad,
      );
    }
  });
});

describe("health check path and success codes", () => {
  it("path must start with / and be printable ASCII without spaces", () => {
    assert.equal(parsedValue("healthcheck-path", "/healthz?full=1"), "/healthz?full=1");
    for (const bad of ["healthz", "/a b", "/é", "", `/${"a".repeat(1024)}`]) {
      assert.match(problemFor("healthcheck-path", bad).allowed, /^a path starting with \//, bad);
    }
  });

  it("success codes take one code, a range or a list, 200..599", () => {
    assert.equal(parsedValue("healthcheck-success-codes", "200"), "200");
    assert.equal(parsedValue("healthcheck-success-codes", "200-399"), "200-399");
    assert.equal(parsedValue("healthcheck-success-codes", "200, 202"), "200,202");
    assert.equal(parsedValue("healthcheck-success-codes", "200,300-399"), "200,300-399");
    for (const bad of ["199", "600", "300-200", "abc", "200,", "", "200-", "2000"]) {
      assert.match(problemFor("healthcheck-success-codes", bad).allowed, /^HTTP codes from 200 to 599/, bad);
    }
  });
});

describe("the name annotation", () => {
  it("accepts AWS load balancer names", () => {
    assert.equal(parsedValue("name", "a"), "a");
    assert.equal(parsedValue("name", "my-nlb-01"), "my-nlb-01");
    assert.equal(parsedValue("name", "x".repeat(32)), "x".repeat(32));
  });

  it("refuses names AWS refuses", () => {
    for (const bad of [
      "",
      "x".repeat(33),
      "-abc",
      "abc-",
      "internal-abc",
      "Internal-abc",
      "a_b",
      "a.b",
      "nlb é",
    ]) {
      assert.match(problemFor("name", bad).allowed, /^1 to 32 letters, digits or hyphens/, bad);
    }
  });
});

describe("lists", () => {
  it("subnets: trimmed entries, IDs or Name tags", () => {
    assert.deepEqual(parsedValue("subnets", "subnet-0123456789abcdef0, private-a ,subnet-abcdef01"), [
      "subnet-0123456789abcdef0",
      "private-a",
      "subnet-abcdef01",
    ]);
  });

  it("subnets: no empty entries, no repeats, not blank", () => {
    assert.match(problemFor("subnets", "subnet-abcdef01,,b").allowed, /without empty entries$/);
    const repeated = problemFor("subnets", "a, a");
    assert.equal(repeated.value, "a");
    assert.match(repeated.allowed, /each entry once$/);
    assert.match(problemFor("subnets", "  ").allowed, /at least one$/);
  });
});

describe("key=value maps", () => {
  it("split on commas and the first =, trimming both sides", () => {
    assert.deepEqual(
      parsedValue("additional-resource-tags", " team = payments , env=prod, note=a=b, empty="),
      {
        team: "payments",
        env: "prod",
        note: "a=b",
        empty: "",
      },
    );
  });

  it("take a blank value as no entries", () => {
    assert.deepEqual(parsedValue("additional-resource-tags", ""), {});
    assert.deepEqual(parsedValue("target-node-labels", "   "), {});
  });

  it("refuse entries without =, empty keys, repeated keys and empty entries", () => {
    assert.equal(problemFor("additional-resource-tags", "team").value, "team");
    assert.match(problemFor("additional-resource-tags", "=x").allowed, /every key non-empty$/);
    const repeated = problemFor("additional-resource-tags", "a=1,a=2");
    assert.equal(repeated.value, "a");
    assert.match(repeated.allowed, /each key once$/);
    assert.match(problemFor("additional-resource-tags", "a=1,,b=2").allowed, /without empty entries$/);
  });

  it("keep a __proto__ key as a plain key", () => {
    const tags = parsedValue("additional-resource-tags", "__proto__=x") as Record<string, string>;
    assert.deepEqual(Object.keys(tags), ["__proto__"]);
    assert.equal(Object.getPrototypeOf(tags), Object.prototype);
  });
});

describe("tags follow AWS rules", () => {
  it("accept unicode letters and the allowed symbols", () => {
    assert.deepEqual(parsedValue("additional-resource-tags", "équipe=données,a:b/c.d_e+f-g@h=1 2"), {
      équipe: "données",
      "a:b/c.d_e+f-g@h": "1 2",
    });
  });

  it("refuse reserved, overlong and odd keys and values", () => {
    assert.match(problemFor("additional-resource-tags", "aws:team=x").allowed, /not starting with "aws:"/);
    assert.match(problemFor("additional-resource-tags", "AWS:team=x").allowed, /not starting with "aws:"/);
    assert.match(
      problemFor("additional-resource-tags", `${"k".repeat(129)}=x`).allowed,
      /1 to 128 characters/,
    );
    assert.match(
      problemFor("additional-resource-tags", `k=${"v".repeat(257)}`).allowed,
      /at most 256 characters/,
    );
    assert.match(problemFor("additional-resource-tags", "a<b=x").allowed, /^a tag key made of/);
    assert.match(problemFor("additional-resource-tags", "a=x;y").allowed, /^a tag value made of/);
  });

  it("count characters, not UTF-16 units", () => {
    assert.ok(parsedValue("additional-resource-tags", `${"𝒜".repeat(128)}=x`));
  });
});

describe("target-node-labels follow Kubernetes label rules", () => {
  it("accept prefixed keys and empty values", () => {
    assert.deepEqual(parsedValue("target-node-labels", "node.kubernetes.io/lifecycle=normal,role="), {
      "node.kubernetes.io/lifecycle": "normal",
      role: "",
    });
  });

  it("refuse invalid keys and values", () => {
    assert.match(problemFor("target-node-labels", "-bad=x").allowed, /^a label key/);
    assert.match(problemFor("target-node-labels", "Bad_Prefix/x=y").allowed, /^a label key/);
    assert.match(problemFor("target-node-labels", "role=a b").allowed, /^a label value/);
  });
});

describe("attributes", () => {
  it("normalise known target group attributes", () => {
    assert.deepEqual(
      parsedValue(
        "target-group-attributes",
        "deregistration_delay.timeout_seconds=030,preserve_client_ip.enabled=TRUE,stickiness.enabled=true,stickiness.type=SOURCE_IP",
      ),
      {
        "deregistration_delay.timeout_seconds": "30",
        "preserve_client_ip.enabled": "true",
        "stickiness.enabled": "true",
        "stickiness.type": "source_ip",
      },
    );
    assert.deepEqual(
      parsedValue(
        "target-group-attributes",
        "target_group_health.dns_failover.minimum_healthy_targets.count=OFF",
      ),
      { "target_group_health.dns_failover.minimum_healthy_targets.count": "off" },
    );
  });

  it("refuse unknown target group attributes and bad values", () => {
    const unknown = problemFor("target-group-attributes", "deregistration_delay.timeout=30");
    assert.equal(unknown.value, "deregistration_delay.timeout");
    assert.match(
      unknown.allowed,
      /^one of the target group attributes: .*deregistration_delay\.timeout_seconds/,
    );
    const range = problemFor("target-group-attributes", "deregistration_delay.timeout_seconds=3601");
    assert.equal(range.value, "deregistration_delay.timeout_seconds=3601");
    assert.equal(range.allowed, "deregistration_delay.timeout_seconds takes a whole number from 0 to 3600");
    assert.match(problemFor("target-group-attributes", "stickiness.type=lb_cookie").allowed, /source_ip/);
    assert.match(
      problemFor("target-group-attributes", "proxy_protocol_v2.enabled=on").allowed,
      /true or false/,
    );
  });

  it("normalise known NLB attributes", () => {
    assert.deepEqual(
      parsedValue(
        "attributes",
        "deletion_protection.enabled=True,load_balancing.cross_zone.enabled=false,access_logs.s3.enabled=true,access_logs.s3.bucket=my-logs,access_logs.s3.prefix=shop/web,dns_record.client_routing_policy=Availability_Zone_Affinity",
      ),
      {
        "deletion_protection.enabled": "true",
        "load_balancing.cross_zone.enabled": "false",
        "access_logs.s3.enabled": "true",
        "access_logs.s3.bucket": "my-logs",
        "access_logs.s3.prefix": "shop/web",
        "dns_record.client_routing_policy": "availability_zone_affinity",
      },
    );
  });

  it("refuse unknown NLB attributes, bad values, and access logs without a bucket", () => {
    assert.match(
      problemFor("attributes", "idle_timeout.timeout_seconds=60").allowed,
      /^one of the NLB attributes/,
    );
    assert.match(problemFor("attributes", "access_logs.s3.bucket=My_Bucket").allowed, /S3 bucket name/);
    assert.match(
      problemFor("attributes", "dns_record.client_routing_policy=nearest").allowed,
      /any_availability_zone/,
    );
    const noBucket = problemFor("attributes", "access_logs.s3.enabled=true");
    assert.equal(noBucket.allowed, "access logs need access_logs.s3.bucket=<bucket name> too");
  });
});

describe("proxy-protocol", () => {
  it("accepts only *", () => {
    assert.equal(parsedValue("proxy-protocol", "*"), "*");
    assert.equal(parsedValue("proxy-protocol", " * "), "*");
    for (const bad of ["true", "", "**", "v2"])
      assert.match(problemFor("proxy-protocol", bad).allowed, /^"\*"/, bad);
  });
});
