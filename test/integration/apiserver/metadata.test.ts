import assert from "node:assert/strict";
import { test } from "node:test";
import type { V1Node, V1Pod, V1Service } from "@kubernetes/client-node";
import { at, call, createService, expectStatus, serve } from "./harness.ts";

const svcPath = "/api/v1/namespaces/default/services";
const mergePatch = "application/merge-patch+json";

test("system metadata: uid, creationTimestamp, generation 1, string resourceVersion", async (t) => {
  const server = await serve(t);
  const a = await createService(
    server,
    "a",
    {},
    { uid: "client-chosen", generation: 9, creationTimestamp: "2000-01-01T00:00:00Z" },
  );
  assert.match(a.metadata?.uid ?? "", /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
  assert.match(String(a.metadata?.creationTimestamp), /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
  assert.notEqual(String(a.metadata?.creationTimestamp), "2000-01-01T00:00:00Z");
  assert.equal(a.metadata?.generation, 1);
  assert.equal(typeof a.metadata?.resourceVersion, "string");
  const b = await createService(server, "b");
  assert.notEqual(a.metadata?.uid, b.metadata?.uid);
});

test("resourceVersion is one global counter across resources", async (t) => {
  const server = await serve(t);
  const versions: number[] = [];
  versions.push(Number((await createService(server, "a")).metadata?.resourceVersion));
  const node = await expectStatus<V1Node>(server, 201, "POST", "/api/v1/nodes", { metadata: { name: "n1" } });
  versions.push(Number(node.metadata?.resourceVersion));
  const lease = await expectStatus(
    server,
    201,
    "POST",
    "/apis/coordination.k8s.io/v1/namespaces/default/leases",
    { metadata: { name: "l" } },
  );
  versions.push(Number(lease.metadata?.resourceVersion));
  versions.push(Number((await createService(server, "b")).metadata?.resourceVersion));
  for (let i = 1; i < versions.length; i++) assert.equal(versions[i], (versions[i - 1] ?? 0) + 1);
  assert.equal(server.stats().resourceVersion, String(versions.at(-1)));
});

test("generation is bumped by spec changes only", async (t) => {
  const server = await serve(t);
  await createService(server, "web");
  const labelled = await expectStatus<V1Service>(
    server,
    200,
    "PATCH",
    `${svcPath}/web`,
    { metadata: { labels: { a: "b" } } },
    mergePatch,
  );
  assert.equal(labelled.metadata?.generation, 1, "metadata change");
  const status = await expectStatus<V1Service>(
    server,
    200,
    "PATCH",
    `${svcPath}/web/status`,
    { status: { loadBalancer: { ingress: [{ ip: "192.0.2.1" }] } } },
    mergePatch,
  );
  assert.equal(status.metadata?.generation, 1, "status change");
  const spec = await expectStatus<V1Service>(
    server,
    200,
    "PATCH",
    `${svcPath}/web`,
    { spec: { sessionAffinity: "ClientIP" } },
    mergePatch,
  );
  assert.equal(spec.metadata?.generation, 2, "spec change");
  const slices = "/apis/discovery.k8s.io/v1/namespaces/default/endpointslices";
  await expectStatus(server, 201, "POST", slices, {
    metadata: { name: "s" },
    addressType: "IPv4",
    endpoints: [],
  });
  const slice = await expectStatus(
    server,
    200,
    "PATCH",
    `${slices}/s`,
    { endpoints: [{ addresses: ["10.0.0.1"] }] },
    mergePatch,
  );
  assert.equal(slice.metadata?.generation, 2, "kinds without spec count every non-metadata field");
});

test("the main endpoint ignores status; /status ignores everything else", async (t) => {
  const server = await serve(t);
  const created = await createService(server, "web", { type: "LoadBalancer" });
  assert.deepEqual(created.status, { loadBalancer: {} }, "status given on create is dropped");

  const withStatus = structuredClone(created);
  withStatus.status = { loadBalancer: { ingress: [{ hostname: "lb.example.com" }] } };
  withStatus.metadata = { ...withStatus.metadata, labels: { via: "main" } };
  const main = await expectStatus<V1Service>(server, 200, "PUT", `${svcPath}/web`, withStatus);
  assert.deepEqual(main.status, { loadBalancer: {} });
  assert.equal(main.metadata?.labels?.via, "main");

  const viaStatus = structuredClone(main);
  viaStatus.status = { loadBalancer: { ingress: [{ hostname: "lb.example.com" }] } };
  viaStatus.metadata = { ...viaStatus.metadata, labels: { via: "status" } };
  viaStatus.spec = { ...viaStatus.spec, sessionAffinity: "ClientIP" };
  const status = await expectStatus<V1Service>(server, 200, "PUT", `${svcPath}/web/status`, viaStatus);
  assert.equal(status.status?.loadBalancer?.ingress?.[0]?.hostname, "lb.example.com");
  assert.equal(status.metadata?.labels?.via, "main", "labels are not changed through /status");
  assert.equal(status.spec?.sessionAffinity, "None", "spec is not changed through /status");

  const read = await expectStatus<V1Service>(server, 200, "GET", `${svcPath}/web/status`);
  assert.equal(read.status?.loadBalancer?.ingress?.[0]?.hostname, "lb.example.com");

  const stale = await call(server, "PUT", `${svcPath}/web/status`, viaStatus);
  assert.equal(stale.status, 409, "/status honours resourceVersion too");
  const invalid = await call(
    server,
    "PATCH",
    `${svcPath}/web/status`,
    { status: { loadBalancer: { ingress: [{ ip: "nope" }] } } },
    mergePatch,
  );
  assert.equal(invalid.status, 422);
  const missing = await call(server, "PUT", `${svcPath}/nothing/status`, {
    ...viaStatus,
    metadata: { name: "nothing" },
  });
  assert.equal(missing.status, 404);
});

test("nodes keep the status given on create; pods start Pending", async (t) => {
  const server = await serve(t);
  const node = await expectStatus<V1Node>(server, 201, "POST", "/api/v1/nodes", {
    metadata: { name: "ip-10-0-0-1.ec2.internal" },
    spec: { providerID: "aws:///us-east-1a/i-0123456789abcdef0" },
    status: {
      conditions: [{ type: "Ready", status: "True" }],
      addresses: [{ type: "InternalIP", address: "10.0.0.1" }],
    },
  });
  assert.equal(node.status?.conditions?.[0]?.status, "True");
  const changed = await call(
    server,
    "PATCH",
    `/api/v1/nodes/${node.metadata?.name}`,
    { spec: { providerID: "aws:///x/i-1" } },
    mergePatch,
  );
  assert.equal(changed.status, 422, "providerID is immutable once set");

  const pod = await expectStatus<V1Pod>(server, 201, "POST", "/api/v1/namespaces/default/pods", {
    metadata: { name: "p" },
    spec: { containers: [{ name: "c", image: "nginx:1.27" }], nodeName: "ip-10-0-0-1.ec2.internal" },
    status: { phase: "Running", podIP: "10.1.0.5" },
  });
  assert.equal(pod.status?.phase, "Pending");
  assert.equal(pod.status?.podIP, undefined);
  assert.equal(pod.spec?.restartPolicy, "Always");
  assert.equal(pod.spec?.containers[0]?.imagePullPolicy, "IfNotPresent");
  const running = await expectStatus<V1Pod>(
    server,
    200,
    "PATCH",
    "/api/v1/namespaces/default/pods/p/status",
    { status: { phase: "Running", podIP: "10.1.0.5", podIPs: [{ ip: "10.1.0.5" }] } },
    mergePatch,
  );
  assert.equal(running.status?.podIP, "10.1.0.5");
  const immutable = await call(
    server,
    "PATCH",
    "/api/v1/namespaces/default/pods/p",
    { spec: { nodeName: "other" } },
    mergePatch,
  );
  assert.equal(immutable.status, 422);
  assert.match(String(at(immutable.body, "message")), /pod updates may not change fields/);
});

test("namespaces get the metadata.name label and an Active phase", async (t) => {
  const server = await serve(t);
  const ns = await expectStatus(server, 201, "POST", "/api/v1/namespaces", { metadata: { name: "team" } });
  assert.equal(ns.metadata?.labels?.["kubernetes.io/metadata.name"], "team");
  assert.equal(at(ns, "status.phase"), "Active");
  assert.deepEqual(at(ns, "spec.finalizers"), ["kubernetes"]);
});

test("responses keep the usual field order and pretty=true indents", async (t) => {
  const server = await serve(t);
  await createService(server, "web");
  const res = await fetch(`${server.url}${svcPath}/web?pretty=true`);
  const text = await res.text();
  assert.match(
    text,
    /^\{\n {2}"kind": "Service",\n {2}"apiVersion": "v1",\n {2}"metadata": \{\n {4}"name": "web"/,
  );
  const yaml = await fetch(`${server.url}${svcPath}/web`, { headers: { Accept: "application/yaml" } });
  assert.equal(yaml.headers.get("content-type"), "application/yaml");
  assert.match(await yaml.text(), /^kind: Service\napiVersion: v1\n/);
});
