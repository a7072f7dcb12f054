import assert from "node:assert/strict";
import { test } from "node:test";
import type { V1Status } from "@kubernetes/client-node";
import {
  call,
  core,
  everywhere,
  expectStatus,
  grouped,
  removeAfter,
  serve,
  service,
  type Target,
  uniqueName,
} from "./harness.ts";

async function invalid(target: Target, path: string, body: unknown): Promise<V1Status> {
  const reply = await call<V1Status>(target, "POST", path, body);
  assert.equal(reply.status, 422, `expected 422 Invalid, got ${reply.status}: ${JSON.stringify(reply.body)}`);
  assert.equal(reply.body.reason, "Invalid");
  return reply.body;
}

function fields(status: V1Status): string[] {
  return (status.details?.causes ?? []).map((c) => c.field ?? "");
}

test("names follow the rule of each kind", everywhere, async (t) => {
  const target = await serve(t);
  const services = core(target, "services");
  const svc = await invalid(target, services, service("1web"));
  assert.match(
    svc.message ?? "",
    /^Service "1web" is invalid: metadata.name: Invalid value: "1web": a DNS-1035 label/,
  );
  assert.deepEqual(svc.details?.causes?.[0], {
    reason: "FieldValueInvalid",
    message: svc.message?.replace('Service "1web" is invalid: metadata.name: ', ""),
    field: "metadata.name",
  });
  assert.equal(svc.details?.kind, "Service");
  await invalid(target, services, service("Web"));
  await invalid(target, services, service("a".repeat(64)));
  await invalid(target, "/api/v1/namespaces", { metadata: { name: "has.dot" } });
  const node = `${uniqueName("ip-10-0-0-1")}.ec2.internal`;
  removeAfter(target, `/api/v1/nodes/${node}`);
  await expectStatus(target, 201, "POST", "/api/v1/nodes", { metadata: { name: node } });
  await invalid(target, "/api/v1/nodes", { metadata: { name: "UPPER" } });
  await expectStatus(target, 201, "POST", grouped(target, "discovery.k8s.io/v1", "endpointslices"), {
    metadata: { name: "web.abc-1" },
    addressType: "IPv4",
    endpoints: [],
  });
});

test("labels, annotations and finalizers must be qualified names", everywhere, async (t) => {
  const target = await serve(t);
  const path = core(target, "services");
  const badLabel = await invalid(target, path, service("a", {}, { labels: { "bad key!": "v" } }));
  assert.deepEqual(fields(badLabel), ["metadata.labels"]);
  await invalid(target, path, service("b", {}, { labels: { ok: "bad value!" } }));
  await invalid(target, path, service("c", {}, { annotations: { "/nope": "v" } }));
  await invalid(target, path, service("d", {}, { finalizers: ["not a finalizer"] }));
  const notString = await call(target, "POST", path, service("e", {}, { labels: { n: 1 } }));
  assert.equal(notString.status, 400, "a label value that is not a string fails decoding");
  await expectStatus(
    target,
    201,
    "POST",
    path,
    service("f", {}, { labels: { "app.kubernetes.io/name": "f", empty: "" } }),
  );
});

test("Service spec rules: ports, types, policies and class", everywhere, async (t) => {
  const target = await serve(t);
  const path = core(target, "services");
  const cases: [Record<string, unknown>, string][] = [
    [{ ports: [] }, "spec.ports"],
    [{ ports: [{ port: 0 }] }, "spec.ports[0].port"],
    [{ ports: [{ port: 70000 }] }, "spec.ports[0].port"],
    [{ ports: [{ port: 80, protocol: "ICMP" }] }, "spec.ports[0].protocol"],
    [{ ports: [{ port: 80 }, { port: 81 }] }, "spec.ports[0].name"],
    [
      {
        ports: [
          { name: "a", port: 80 },
          { name: "a", port: 81 },
        ],
      },
      "spec.ports[1].name",
    ],
    [
      {
        ports: [
          { name: "a", port: 80 },
          { name: "b", port: 80 },
        ],
      },
      "spec.ports[1]",
    ],
    [{ ports: [{ port: 80, targetPort: "Not_Valid" }] }, "spec.ports[0].targetPort"],
    [{ type: "Bogus" }, "spec.type"],
    [{ ports: [{ port: 80, nodePort: 30080 }] }, "spec.ports[0].nodePort"],
    [{ externalTrafficPolicy: "Local" }, "spec.externalTrafficPolicy"],
    [{ type: "NodePort", externalTrafficPolicy: "Sometimes" }, "spec.externalTrafficPolicy"],
    [{ loadBalancerClass: "service.k8s.aws/nlb" }, "spec.loadBalancerClass"],
    // Sic: the real server names this field with a capital L.
    [{ type: "LoadBalancer", loadBalancerSourceRanges: ["10.0.0.0/33"] }, "spec.LoadBalancerSourceRanges[0]"],
    [{ sessionAffinity: "Sticky" }, "spec.sessionAffinity"],
    [{ ipFamilies: ["IPv6"] }, "spec.ipFamilies[0]"],
    [{ ipFamilyPolicy: "RequireDualStack" }, "spec.ipFamilyPolicy"],
    [{ type: "ExternalName" }, "spec.externalName"],
    [{ type: "ClusterIP", healthCheckNodePort: 30000 }, "spec.healthCheckNodePort"],
  ];
  for (const [spec, field] of cases) {
    const status = await invalid(target, path, service("x", spec));
    assert.ok(
      fields(status).includes(field),
      `${JSON.stringify(spec)} -> ${field}, got ${fields(status).join(",")}`,
    );
  }
  await expectStatus(target, 201, "POST", path, service("headless", { clusterIP: "None", ports: [] }));
  await expectStatus(target, 201, "POST", path, {
    metadata: { name: "ext" },
    spec: { type: "ExternalName", externalName: "example.com" },
  });
});

test("loadBalancerClass may not change on a LoadBalancer Service", everywhere, async (t) => {
  const target = await serve(t);
  const path = core(target, "services");
  await expectStatus(
    target,
    201,
    "POST",
    path,
    service("lb", { type: "LoadBalancer", loadBalancerClass: "service.k8s.aws/nlb" }),
  );
  const changed = await call<V1Status>(
    target,
    "PATCH",
    `${path}/lb`,
    { spec: { loadBalancerClass: "other.io/lb" } },
    "application/merge-patch+json",
  );
  assert.equal(changed.status, 422);
  assert.match(changed.body.message ?? "", /may not change once set/);
  await expectStatus(target, 201, "POST", path, service("plain", { type: "LoadBalancer" }));
  const added = await call(
    target,
    "PATCH",
    `${path}/plain`,
    { spec: { loadBalancerClass: "service.k8s.aws/nlb" } },
    "application/merge-patch+json",
  );
  assert.equal(added.status, 422, "a class cannot be added to an existing LoadBalancer either");
});

test("EndpointSlice rules: address type, addresses and ports", everywhere, async (t) => {
  const target = await serve(t);
  const path = grouped(target, "discovery.k8s.io/v1", "endpointslices");
  const cases: [Record<string, unknown>, string][] = [
    [{ endpoints: [] }, "addressType"],
    [{ addressType: "IPv5", endpoints: [] }, "addressType"],
    [{ addressType: "IPv4", endpoints: [{ addresses: [] }] }, "endpoints[0].addresses"],
    [{ addressType: "IPv4", endpoints: [{ addresses: ["fe80::1"] }] }, "endpoints[0].addresses"],
    [{ addressType: "IPv4", endpoints: [{ addresses: ["300.1.1.1"] }] }, "endpoints[0].addresses[0]"],
    [{ addressType: "IPv6", endpoints: [{ addresses: ["10.0.0.1"] }] }, "endpoints[0].addresses"],
    [{ addressType: "IPv4", endpoints: [{ addresses: ["127.0.0.1"] }] }, "endpoints[0].addresses[0]"],
    [
      { addressType: "IPv4", endpoints: [{ addresses: ["10.0.0.1"], nodeName: "Bad_Node" }] },
      "endpoints[0].nodeName",
    ],
    [{ addressType: "IPv4", endpoints: [], ports: [{ name: "Bad_Name", port: 80 }] }, "ports[0].name"],
    [{ addressType: "IPv4", endpoints: [], ports: [{ name: "a" }, { name: "a" }] }, "ports[1].name"],
    [{ addressType: "IPv4", endpoints: [], ports: [{ port: 80, protocol: "ICMP" }] }, "ports[0].protocol"],
  ];
  for (const [body, field] of cases) {
    const status = await invalid(target, path, { metadata: { name: "s" }, ...body });
    assert.ok(
      fields(status).includes(field),
      `${JSON.stringify(body)} -> ${field}, got ${fields(status).join(",")}`,
    );
  }
  const created = await expectStatus(target, 201, "POST", path, {
    metadata: { name: "ok", labels: { "kubernetes.io/service-name": "web" } },
    addressType: "IPv4",
    endpoints: [{ addresses: ["10.0.0.1"], conditions: { ready: true }, nodeName: "n1", zone: "us-east-1a" }],
    ports: [{ name: "http", port: 8080 }],
  });
  assert.deepEqual(created.ports, [{ name: "http", port: 8080, protocol: "TCP" }]);
  const retyped = await call(
    target,
    "PATCH",
    `${path}/ok`,
    { addressType: "IPv6" },
    "application/merge-patch+json",
  );
  assert.equal(retyped.status, 422, "addressType is immutable");
  assert.deepEqual(
    fields((retyped.body as V1Status) ?? {}),
    ["addressType"],
    "endpoints a client did not change are not validated again",
  );
  const wrongType = await call<V1Status>(target, "POST", path, {
    metadata: { name: "typed" },
    addressType: "IPv4",
    endpoints: [{ addresses: ["10.0.0.1"], conditions: { ready: "yes" } }],
  });
  assert.equal(wrongType.status, 400, "a value of the wrong JSON type fails decoding, before validation");
  assert.equal(
    wrongType.body.message,
    'EndpointSlice in version "v1" cannot be handled as a EndpointSlice: json: cannot unmarshal string into Go struct field EndpointConditions.endpoints.conditions.ready of type bool',
  );
});

test(
  "a bad Service is one 422 Invalid listing every problem with its field, reason and message",
  everywhere,
  async (t) => {
    const target = await serve(t);
    const bad = await call<V1Status>(target, "POST", core(target, "services"), {
      metadata: { name: "bad" },
      spec: { type: "Bogus", ports: [{ port: 0, protocol: "ICMP" }] },
    });
    assert.equal(bad.status, 422);
    const causes = [
      {
        reason: "FieldValueInvalid",
        message: "Invalid value: 0: must be between 1 and 65535, inclusive",
        field: "spec.ports[0].port",
      },
      {
        reason: "FieldValueNotSupported",
        message: 'Unsupported value: "ICMP": supported values: "SCTP", "TCP", "UDP"',
        field: "spec.ports[0].protocol",
      },
      {
        reason: "FieldValueInvalid",
        message: "Invalid value: 0: must be between 1 and 65535, inclusive",
        field: "spec.ports[0].targetPort",
      },
      {
        reason: "FieldValueNotSupported",
        message:
          'Unsupported value: "Bogus": supported values: "ClusterIP", "ExternalName", "LoadBalancer", "NodePort"',
        field: "spec.type",
      },
    ];
    assert.deepEqual(bad.body, {
      kind: "Status",
      apiVersion: "v1",
      metadata: {},
      status: "Failure",
      message: `Service "bad" is invalid: [${causes.map((c) => `${c.field}: ${c.message}`).join(", ")}]`,
      reason: "Invalid",
      details: { name: "bad", kind: "Service", causes },
      code: 422,
    });
  },
);

test(
  "a bad EndpointSlice is one 422 Invalid naming its group, in validation order",
  everywhere,
  async (t) => {
    const target = await serve(t);
    const bad = await call<V1Status>(
      target,
      "POST",
      grouped(target, "discovery.k8s.io/v1", "endpointslices"),
      {
        metadata: { name: "bad" },
        addressType: "IPv4",
        endpoints: [{ addresses: ["fe80::1"] }],
        ports: [{ name: "Bad_Name", port: 80 }],
      },
    );
    assert.equal(bad.status, 422);
    const causes = [
      {
        reason: "FieldValueInvalid",
        message:
          "Invalid value: \"Bad_Name\": a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')",
        field: "ports[0].name",
      },
      {
        reason: "FieldValueInvalid",
        message: 'Invalid value: "fe80::1": must be an IPv4 address',
        field: "endpoints[0].addresses",
      },
      {
        reason: "FieldValueInvalid",
        message: 'Invalid value: "fe80::1": may not be in the link-local range (169.254.0.0/16, fe80::/10)',
        field: "endpoints[0].addresses[0]",
      },
    ];
    assert.deepEqual(bad.body, {
      kind: "Status",
      apiVersion: "v1",
      metadata: {},
      status: "Failure",
      message: `EndpointSlice.discovery.k8s.io "bad" is invalid: [${causes.map((c) => `${c.field}: ${c.message}`).join(", ")}]`,
      reason: "Invalid",
      details: { name: "bad", group: "discovery.k8s.io", kind: "EndpointSlice", causes },
      code: 422,
    });
  },
);

test("malformed bodies are 400 BadRequest; unknown body types 415", everywhere, async (t) => {
  const target = await serve(t);
  const path = core(target, "services");
  const unrecognized = "the object provided is unrecognized (must be of type Service): ";
  for (const [body, type, why] of [
    ["{nope", "application/json", "couldn't get version/kind; json parse error: "],
    ["[]", "application/json", "couldn't get version/kind; json parse error: json: cannot unmarshal array"],
    [
      "",
      "application/json",
      "couldn't get version/kind; json parse error: unexpected end of JSON input (<empty>)",
    ],
    ["{}", "application/vnd.kubernetes.protobuf", "provided data does not appear to be a protobuf message"],
  ] as const) {
    const reply = await call<V1Status>(target, "POST", path, body, type);
    assert.equal(reply.status, 400, body);
    assert.equal(reply.body.reason, "BadRequest", body);
    assert.ok(reply.body.message?.startsWith(unrecognized + why), reply.body.message);
  }
  const labelType = await call<V1Status>(target, "POST", path, service("e", {}, { labels: { n: 1 } }));
  assert.equal(
    labelType.body.message,
    'Service in version "v1" cannot be handled as a Service: json: cannot unmarshal number into Go struct field ObjectMeta.metadata.labels of type string',
  );
  const unknown = await call<V1Status>(target, "POST", path, "x", "text/plain");
  assert.deepEqual(unknown.body, {
    kind: "Status",
    apiVersion: "v1",
    metadata: {},
    status: "Failure",
    message:
      "the body of the request was in an unknown format - accepted media types include: application/json, application/yaml, application/vnd.kubernetes.protobuf",
    reason: "UnsupportedMediaType",
    code: 415,
  });
  const yaml = await call(
    target,
    "POST",
    path,
    "metadata:\n  name: from-yaml\nspec:\n  ports:\n  - port: 80\n",
    "application/yaml",
  );
  assert.equal(yaml.status, 201, "YAML bodies are accepted");
});
