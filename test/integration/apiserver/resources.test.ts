import assert from "node:assert/strict";
import { test } from "node:test";
import {
  CoordinationV1Api,
  type CoreV1Event,
  DiscoveryV1Api,
  type EventsV1Event,
  type V1Lease,
  V1MicroTime,
  type V1Status,
} from "@kubernetes/client-node";
import {
  at,
  call,
  core,
  coreApi,
  everywhere,
  expectStatus,
  grouped,
  kubeConfig,
  listVersion,
  names,
  serve,
  watch,
} from "./harness.ts";

test("core/v1 and events.k8s.io/v1 events are one store seen in two shapes", everywhere, async (t) => {
  const target = await serve(t);
  const namespace = target.ns;
  const eventsPath = grouped(target, "events.k8s.io/v1", "events");
  const event = {
    metadata: { name: "web.1" },
    eventTime: "2025-01-01T00:00:00.000000Z",
    reportingController: "service.k8s.aws/nlb-controller",
    reportingInstance: "nlb-controller-0",
    action: "Reconcile",
    reason: "SuccessfullyReconciled",
    note: "Successfully reconciled",
    type: "Normal",
    regarding: { kind: "Service", namespace, name: "web", apiVersion: "v1" },
  };
  // eventTime is a MicroTime: exactly six fraction digits. A plain Date (milliseconds) is refused;
  // client-node has V1MicroTime for these (see the Lease test).
  const millis = await call<V1Status>(target, "POST", eventsPath, {
    ...event,
    eventTime: "2025-01-01T00:00:00.000Z",
  });
  assert.equal(millis.status, 400);
  assert.equal(
    millis.body.message,
    'Event in version "v1" cannot be handled as a Event: parsing time "2025-01-01T00:00:00.000Z" as "2006-01-02T15:04:05.000000Z07:00": cannot parse ".000Z" as ".000000"',
  );
  const created = await expectStatus<EventsV1Event>(target, 201, "POST", eventsPath, event);
  assert.equal(created.note, "Successfully reconciled");
  assert.equal(String(created.eventTime), "2025-01-01T00:00:00.000000Z");
  const legacy = await expectStatus<CoreV1Event>(target, 200, "GET", `${core(target, "events")}/web.1`);
  assert.equal(legacy.message, "Successfully reconciled");
  assert.equal(legacy.involvedObject.name, "web");
  assert.equal(legacy.reportingComponent, "service.k8s.aws/nlb-controller");
  assert.equal(legacy.metadata.resourceVersion, created.metadata?.resourceVersion);
  const both = await expectStatus(target, 200, "GET", grouped(target, "events.k8s.io/v1", "events"));
  assert.equal(at(both, "items.0.regarding.name"), "web");
  const selected = await expectStatus<{ items: CoreV1Event[] }>(
    target,
    200,
    "GET",
    `${core(target, "events")}?fieldSelector=${encodeURIComponent("involvedObject.name=web,reason=SuccessfullyReconciled")}`,
  );
  assert.deepEqual(names(selected), ["web.1"]);
  const incomplete = await call<V1Status>(target, "POST", grouped(target, "events.k8s.io/v1", "events"), {
    metadata: { name: "bad" },
    type: "Normal",
  });
  assert.equal(incomplete.status, 422);
  // Validated as a core Event: the legacy rules, then eventTime (the rest needs an eventTime).
  assert.deepEqual(incomplete.body.details, {
    name: "bad",
    kind: "Event",
    causes: [
      {
        reason: "FieldValueInvalid",
        message: 'Invalid value: "": does not match event.namespace',
        field: "involvedObject.namespace",
      },
      { reason: "FieldValueRequired", message: "Required value", field: "eventTime" },
    ],
  });
});

test("legacy core events from client-node record a Service's history", everywhere, async (t) => {
  const target = await serve(t);
  const namespace = target.ns;
  const events = grouped(target, "events.k8s.io/v1", "events");
  const core = coreApi(target);
  const reader = await watch(
    t,
    target,
    `${events}?watch=true&resourceVersion=${await listVersion(target, events)}`,
  );
  await core.createNamespacedEvent({
    namespace,
    body: {
      metadata: { generateName: "web." },
      involvedObject: { kind: "Service", namespace, name: "web" },
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
  const wrongNamespace = await call(target, "POST", "/api/v1/namespaces/kube-system/events", {
    metadata: { name: "x" },
    involvedObject: { kind: "Service", namespace, name: "web" },
  });
  assert.equal(wrongNamespace.status, 422);
});

test(
  "leases support leader election: create, renew with resourceVersion, conflict on a stale one",
  everywhere,
  async (t) => {
    const target = await serve(t);
    const leases = grouped(target, "coordination.k8s.io/v1", "leases");
    // renewTime is a MicroTime: a plain Date (milliseconds) is refused; a V1MicroTime is not.
    const millis = await call<V1Status>(target, "POST", leases, {
      metadata: { name: "ms" },
      spec: { holderIdentity: "a", renewTime: new Date("2025-01-01T00:00:00.123Z") },
    });
    assert.equal(millis.status, 400);
    assert.equal(
      millis.body.message,
      'Lease in version "v1" cannot be handled as a Lease: parsing time "2025-01-01T00:00:00.123Z" as "2006-01-02T15:04:05.000000Z07:00": cannot parse ".123Z" as ".000000"',
    );
    const client = kubeConfig(target).makeApiClient(CoordinationV1Api);
    const viaClient = await client.createNamespacedLease({
      namespace: target.ns,
      body: { metadata: { name: "client" }, spec: { renewTime: new V1MicroTime("2025-01-01T00:00:00.5Z") } },
    });
    assert.ok(viaClient.spec?.renewTime, "client-node's V1MicroTime is sent with six digits");
    const lease = await expectStatus<V1Lease>(target, 201, "POST", leases, {
      metadata: { name: "aws-nlb-controller" },
      spec: {
        holderIdentity: "a",
        leaseDurationSeconds: 15,
        renewTime: "2025-01-01T00:00:00.123456Z",
        acquireTime: "2025-01-01T02:00:00.000001+02:00",
      },
    });
    assert.equal(String(lease.spec?.acquireTime), "2025-01-01T00:00:00.000001Z", "stored in UTC");
    const renew = (body: V1Lease) => call<V1Lease>(target, "PUT", `${leases}/aws-nlb-controller`, body);
    const renewed = await renew({
      ...lease,
      spec: { ...lease.spec, renewTime: "2025-01-01T00:00:01.000000Z" as unknown as Date },
    });
    assert.equal(renewed.status, 200);
    assert.notEqual(renewed.body.metadata?.resourceVersion, lease.metadata?.resourceVersion);
    const stale = await renew({ ...lease, spec: { ...lease.spec, holderIdentity: "b" } });
    assert.equal(stale.status, 409, "a stale resourceVersion loses the race");
    const invalid = await call<V1Status>(target, "POST", leases, {
      metadata: { name: "bad" },
      spec: { leaseDurationSeconds: 0 },
    });
    assert.equal(invalid.status, 422);
    assert.equal(
      invalid.body.message,
      'Lease.coordination.k8s.io "bad" is invalid: spec.leaseDurationSeconds: Invalid value: 0: must be greater than 0',
    );
  },
);

test("DiscoveryV1Api lists EndpointSlices of a Service by label", everywhere, async (t) => {
  const target = await serve(t);
  const namespace = target.ns;
  const discovery = kubeConfig(target).makeApiClient(DiscoveryV1Api);
  for (const [name, service] of [
    ["web-a", "web"],
    ["web-b", "web"],
    ["db-a", "db"],
  ]) {
    await discovery.createNamespacedEndpointSlice({
      namespace,
      body: {
        metadata: { name, labels: { "kubernetes.io/service-name": service ?? "" } },
        addressType: "IPv4",
        endpoints: [{ addresses: ["10.0.1.1"], conditions: { ready: true } }],
        ports: [{ name: "http", port: 8080, protocol: "TCP" }],
      },
    });
  }
  const list = await discovery.listNamespacedEndpointSlice({
    namespace,
    labelSelector: "kubernetes.io/service-name=web",
  });
  assert.deepEqual(names(list), ["web-a", "web-b"]);
  const all = await discovery.listEndpointSliceForAllNamespaces({
    labelSelector: "kubernetes.io/service-name in (web,db)",
  });
  assert.deepEqual(
    all.items.filter((s) => s.metadata?.namespace === namespace).map((s) => s.metadata?.name),
    ["db-a", "web-a", "web-b"],
  );
});
