import assert from "node:assert/strict";
import { test } from "node:test";
import {
  CoordinationV1Api,
  type CoreV1Event,
  DiscoveryV1Api,
  EventsV1Api,
  type V1Status,
} from "@kubernetes/client-node";
import { at, call, coreApi, expectStatus, kubeConfig, names, serve, watch } from "./harness.ts";

test("core/v1 and events.k8s.io/v1 events are one store seen in two shapes", async (t) => {
  const server = await serve(t);
  const events = kubeConfig(server).makeApiClient(EventsV1Api);
  const created = await events.createNamespacedEvent({
    namespace: "default",
    body: {
      metadata: { name: "web.1" },
      eventTime: new Date("2025-01-01T00:00:00.000000Z"),
      reportingController: "service.k8s.aws/nlb-controller",
      reportingInstance: "nlb-controller-0",
      action: "Reconcile",
      reason: "SuccessfullyReconciled",
      note: "Successfully reconciled",
      type: "Normal",
      regarding: { kind: "Service", namespace: "default", name: "web", apiVersion: "v1" },
    },
  });
  assert.equal(created.note, "Successfully reconciled");
  const core = await expectStatus<CoreV1Event>(server, 200, "GET", "/api/v1/namespaces/default/events/web.1");
  assert.equal(core.message, "Successfully reconciled");
  assert.equal(core.involvedObject.name, "web");
  assert.equal(core.reportingComponent, "service.k8s.aws/nlb-controller");
  assert.equal(core.metadata.resourceVersion, created.metadata?.resourceVersion);
  const both = await expectStatus(server, 200, "GET", "/apis/events.k8s.io/v1/events");
  assert.equal(at(both, "items.0.regarding.name"), "web");
  const selected = await expectStatus<{ items: CoreV1Event[] }>(
    server,
    200,
    "GET",
    `/api/v1/namespaces/default/events?fieldSelector=${encodeURIComponent("involvedObject.name=web,reason=SuccessfullyReconciled")}`,
  );
  assert.deepEqual(names(selected), ["web.1"]);
  const incomplete = await call<V1Status>(
    server,
    "POST",
    "/apis/events.k8s.io/v1/namespaces/default/events",
    {
      metadata: { name: "bad" },
      type: "Normal",
    },
  );
  assert.equal(incomplete.status, 422);
  assert.ok(
    ["eventTime", "reportingController", "reason", "action"].every((f) =>
      (incomplete.body.details?.causes ?? []).some((c) => c.field === f),
    ),
  );
});

test("legacy core events from client-node record a Service's history", async (t) => {
  const server = await serve(t);
  const core = coreApi(server);
  const reader = await watch(
    t,
    server,
    `/apis/events.k8s.io/v1/namespaces/default/events?watch=true&resourceVersion=${server.stats().resourceVersion}`,
  );
  await core.createNamespacedEvent({
    namespace: "default",
    body: {
      metadata: { generateName: "web." },
      involvedObject: { kind: "Service", namespace: "default", name: "web" },
      reason: "EnsuredLoadBalancer",
      message: "Ensured load balancer",
      type: "Normal",
      source: { component: "nlb-controller" },
      count: 1,
    },
  });
  await reader.count(1);
  assert.equal(reader.events[0]?.object.apiVersion, "events.k8s.io/v1");
  assert.equal(at(reader.events[0]?.object, "note"), "Ensured load balancer");
  assert.equal(at(reader.events[0]?.object, "deprecatedSource.component"), "nlb-controller");
  const wrongNamespace = await call(server, "POST", "/api/v1/namespaces/kube-system/events", {
    metadata: { name: "x" },
    involvedObject: { kind: "Service", namespace: "default", name: "web" },
  });
  assert.equal(wrongNamespace.status, 422);
});

test("leases support leader election: create, renew with resourceVersion, conflict on a stale one", async (t) => {
  const server = await serve(t);
  const leases = kubeConfig(server).makeApiClient(CoordinationV1Api);
  const lease = await leases.createNamespacedLease({
    namespace: "kube-system",
    body: {
      metadata: { name: "aws-nlb-controller" },
      spec: { holderIdentity: "a", leaseDurationSeconds: 15, renewTime: new Date() },
    },
  });
  const renewed = await leases.replaceNamespacedLease({
    namespace: "kube-system",
    name: "aws-nlb-controller",
    body: { ...lease, spec: { ...lease.spec, renewTime: new Date(Date.now() + 1000) } },
  });
  assert.notEqual(renewed.metadata?.resourceVersion, lease.metadata?.resourceVersion);
  await assert.rejects(
    leases.replaceNamespacedLease({
      namespace: "kube-system",
      name: "aws-nlb-controller",
      body: { ...lease, spec: { ...lease.spec, holderIdentity: "b" } },
    }),
    (error: Error & { code?: number }) => error.code === 409,
  );
  const invalid = await call(server, "POST", "/apis/coordination.k8s.io/v1/namespaces/default/leases", {
    metadata: { name: "bad" },
    spec: { leaseDurationSeconds: 0 },
  });
  assert.equal(invalid.status, 422);
});

test("DiscoveryV1Api lists EndpointSlices of a Service by label", async (t) => {
  const server = await serve(t);
  const discovery = kubeConfig(server).makeApiClient(DiscoveryV1Api);
  for (const [name, service] of [
    ["web-a", "web"],
    ["web-b", "web"],
    ["db-a", "db"],
  ]) {
    await discovery.createNamespacedEndpointSlice({
      namespace: "default",
      body: {
        metadata: { name, labels: { "kubernetes.io/service-name": service ?? "" } },
        addressType: "IPv4",
        endpoints: [{ addresses: ["10.0.1.1"], conditions: { ready: true } }],
        ports: [{ name: "http", port: 8080, protocol: "TCP" }],
      },
    });
  }
  const list = await discovery.listNamespacedEndpointSlice({
    namespace: "default",
    labelSelector: "kubernetes.io/service-name=web",
  });
  assert.deepEqual(names(list), ["web-a", "web-b"]);
  const all = await discovery.listEndpointSliceForAllNamespaces();
  assert.equal(all.items.length, 3);
});
