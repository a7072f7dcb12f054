import assert from "node:assert/strict";
import { test } from "node:test";
import type { V1Namespace, V1Node, V1Pod, V1Service } from "@kubernetes/client-node";
import {
  at,
  call,
  core,
  createService,
  everywhere,
  expectStatus,
  grouped,
  podsAdmitted,
  realOnly,
  removeAfter,
  send,
  serve,
  service,
  uniqueName,
} from "./harness.ts";

const mergePatch = "application/merge-patch+json";

test(
  "system metadata: uid, creationTimestamp, string resourceVersion; a Service keeps the generation it was given",
  everywhere,
  async (t) => {
    const target = await serve(t);
    const a = await createService(
      target,
      "a",
      {},
      { uid: "client-chosen", generation: 9, creationTimestamp: "2000-01-01T00:00:00Z" },
    );
    assert.match(a.metadata?.uid ?? "", /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
    assert.match(String(a.metadata?.creationTimestamp), /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    assert.notEqual(String(a.metadata?.creationTimestamp), "2000-01-01T00:00:00Z");
    // Services do not track generation: what the create carried stays, and no update changes it.
    assert.equal(a.metadata?.generation, 9);
    const bumped = await expectStatus<V1Service>(
      target,
      200,
      "PATCH",
      `${core(target, "services")}/a`,
      { metadata: { generation: 20, labels: { x: "y" } }, spec: { sessionAffinity: "ClientIP" } },
      mergePatch,
    );
    assert.equal(bumped.metadata?.generation, 9);
    assert.match(a.metadata?.resourceVersion ?? "", /^\d+$/);
    const b = await createService(target, "b");
    assert.notEqual(a.metadata?.uid, b.metadata?.uid);
  },
);

test("resourceVersion increases across resources with every write", everywhere, async (t) => {
  const target = await serve(t);
  const versions: bigint[] = [];
  const version = (obj: { metadata?: { resourceVersion?: string } }) =>
    versions.push(BigInt(obj.metadata?.resourceVersion ?? "0"));
  version(await createService(target, "a"));
  const node = uniqueName("node");
  removeAfter(target, `/api/v1/nodes/${node}`);
  version(await expectStatus<V1Node>(target, 201, "POST", "/api/v1/nodes", { metadata: { name: node } }));
  version(
    await expectStatus(target, 201, "POST", grouped(target, "coordination.k8s.io/v1", "leases"), {
      metadata: { name: "l" },
    }),
  );
  version(await createService(target, "b"));
  for (let i = 1; i < versions.length; i++)
    assert.ok((versions[i] ?? 0n) > (versions[i - 1] ?? 0n), `write ${i}`);
});

test(
  "generation: none on Services; EndpointSlices and Pods start at 1 and count their changes",
  everywhere,
  async (t) => {
    const target = await serve(t);
    const svc = await createService(target, "web");
    assert.equal(svc.metadata?.generation, undefined, "Services have no generation");
    const spec = await expectStatus<V1Service>(
      target,
      200,
      "PATCH",
      `${core(target, "services")}/web`,
      { spec: { sessionAffinity: "ClientIP" } },
      mergePatch,
    );
    assert.equal(spec.metadata?.generation, undefined, "not even after a spec change");

    const slices = grouped(target, "discovery.k8s.io/v1", "endpointslices");
    const slice = await expectStatus(target, 201, "POST", slices, {
      metadata: { name: "s" },
      addressType: "IPv4",
      endpoints: [],
    });
    assert.equal(slice.metadata?.generation, 1);
    const patchSlice = async (body: unknown) =>
      (await expectStatus(target, 200, "PATCH", `${slices}/s`, body, mergePatch)).metadata?.generation;
    assert.equal(await patchSlice({ endpoints: [{ addresses: ["10.0.0.1"] }] }), 2, "endpoints changed");
    assert.equal(await patchSlice({ metadata: { annotations: { a: "b" } } }), 2, "annotations do not count");
    assert.equal(await patchSlice({ metadata: { labels: { a: "b" } } }), 3, "labels do count");

    await podsAdmitted(target);
    const pods = core(target, "pods");
    const pod = await expectStatus<V1Pod>(target, 201, "POST", pods, {
      metadata: { name: "p" },
      spec: { containers: [{ name: "c", image: "nginx:1.27" }] },
    });
    assert.equal(pod.metadata?.generation, 1);
    const patchPod = async (path: string, body: unknown) =>
      (await expectStatus<V1Pod>(target, 200, "PATCH", path, body, mergePatch)).metadata?.generation;
    assert.equal(await patchPod(`${pods}/p`, { metadata: { labels: { a: "b" } } }), 1, "labels do not count");
    assert.equal(
      await patchPod(`${pods}/p/status`, { status: { phase: "Running" } }),
      1,
      "status does not count",
    );
    assert.equal(
      await patchPod(`${pods}/p`, { spec: { activeDeadlineSeconds: 600 } }),
      2,
      "a spec change counts",
    );
  },
);

test("the main endpoint ignores status; /status ignores spec but takes metadata", everywhere, async (t) => {
  const target = await serve(t);
  const svcPath = core(target, "services");
  const created = await createService(target, "web", { type: "LoadBalancer" });
  assert.deepEqual(created.status, { loadBalancer: {} }, "status given on create is dropped");

  const withStatus = structuredClone(created);
  withStatus.status = { loadBalancer: { ingress: [{ hostname: "lb.example.com" }] } };
  withStatus.metadata = { ...withStatus.metadata, labels: { via: "main" } };
  const main = await expectStatus<V1Service>(target, 200, "PUT", `${svcPath}/web`, withStatus);
  assert.deepEqual(main.status, { loadBalancer: {} });
  assert.equal(main.metadata?.labels?.via, "main");

  const viaStatus = structuredClone(main);
  viaStatus.status = { loadBalancer: { ingress: [{ hostname: "lb.example.com" }] } };
  viaStatus.metadata = { ...viaStatus.metadata, labels: { via: "status" } };
  viaStatus.spec = { ...viaStatus.spec, sessionAffinity: "ClientIP" };
  const status = await expectStatus<V1Service>(target, 200, "PUT", `${svcPath}/web/status`, viaStatus);
  assert.equal(status.status?.loadBalancer?.ingress?.[0]?.hostname, "lb.example.com");
  // The Service status strategy resets only spec: labels do change through /status.
  assert.equal(status.metadata?.labels?.via, "status", "metadata changes through /status");
  assert.equal(status.spec?.sessionAffinity, "None", "spec is not changed through /status");

  const read = await expectStatus<V1Service>(target, 200, "GET", `${svcPath}/web/status`);
  assert.equal(read.status?.loadBalancer?.ingress?.[0]?.hostname, "lb.example.com");

  const stale = await call(target, "PUT", `${svcPath}/web/status`, viaStatus);
  assert.equal(stale.status, 409, "/status honours resourceVersion too");
  const invalid = await call(
    target,
    "PATCH",
    `${svcPath}/web/status`,
    { status: { loadBalancer: { ingress: [{ ip: "nope" }] } } },
    mergePatch,
  );
  assert.equal(invalid.status, 422);
  // (A PUT to the /status of a missing Service creates it on the real server, without a cluster
  // IP; the emulator answers 404. Nothing relies on either, so it is not asserted.)
  const missing = await call(target, "PATCH", `${svcPath}/nothing/status`, { status: {} }, mergePatch);
  assert.equal(missing.status, 404);
});

test("nodes keep the status given on create; providerID is immutable once set", everywhere, async (t) => {
  const target = await serve(t);
  const name = uniqueName("ip-10-0-0-1.ec2.internal");
  removeAfter(target, `/api/v1/nodes/${name}`);
  const node = await expectStatus<V1Node>(target, 201, "POST", "/api/v1/nodes", {
    metadata: { name },
    spec: { providerID: "aws:///us-east-1a/i-0123456789abcdef0" },
    status: {
      conditions: [{ type: "Ready", status: "True" }],
      addresses: [{ type: "InternalIP", address: "10.0.0.1" }],
    },
  });
  assert.equal(node.status?.conditions?.[0]?.status, "True");
  assert.deepEqual(node.status?.addresses, [{ type: "InternalIP", address: "10.0.0.1" }]);
  const changed = await call(
    target,
    "PATCH",
    `/api/v1/nodes/${name}`,
    { spec: { providerID: "aws:///x/i-1" } },
    mergePatch,
  );
  assert.equal(changed.status, 422, "providerID is immutable once set");
});

test(
  "pods start Pending with the defaults the controller reads; spec is immutable but for images",
  everywhere,
  async (t) => {
    const target = await serve(t);
    const pods = core(target, "pods");
    await podsAdmitted(target);
    const pod = await expectStatus<V1Pod>(target, 201, "POST", pods, {
      metadata: { name: "p" },
      spec: { containers: [{ name: "c", image: "nginx:1.27", ports: [{ containerPort: 80 }] }] },
      status: { phase: "Running", podIP: "10.1.0.5" },
    });
    assert.deepEqual(pod.status, { phase: "Pending", qosClass: "BestEffort" });
    const spec = pod.spec;
    assert.equal(spec?.restartPolicy, "Always");
    assert.equal(spec?.dnsPolicy, "ClusterFirst");
    assert.equal(spec?.schedulerName, "default-scheduler");
    assert.equal(spec?.terminationGracePeriodSeconds, 30);
    assert.equal(spec?.enableServiceLinks, true);
    assert.equal(spec?.serviceAccountName, "default");
    assert.equal(spec?.priority, 0);
    assert.equal(spec?.preemptionPolicy, "PreemptLowerPriority");
    assert.deepEqual(spec?.securityContext, {});
    assert.deepEqual(spec?.tolerations, [
      {
        key: "node.kubernetes.io/not-ready",
        operator: "Exists",
        effect: "NoExecute",
        tolerationSeconds: 300,
      },
      {
        key: "node.kubernetes.io/unreachable",
        operator: "Exists",
        effect: "NoExecute",
        tolerationSeconds: 300,
      },
    ]);
    const container = spec?.containers[0];
    assert.equal(container?.imagePullPolicy, "IfNotPresent");
    assert.equal(container?.terminationMessagePath, "/dev/termination-log");
    assert.equal(container?.terminationMessagePolicy, "File");
    assert.deepEqual(container?.resources, {});
    assert.deepEqual(container?.ports, [{ containerPort: 80, protocol: "TCP" }]);

    const running = await expectStatus<V1Pod>(
      target,
      200,
      "PATCH",
      `${pods}/p/status`,
      { status: { phase: "Running", podIP: "10.1.0.5", podIPs: [{ ip: "10.1.0.5" }] } },
      mergePatch,
    );
    assert.equal(running.status?.podIP, "10.1.0.5");
    const viaMain = await expectStatus<V1Pod>(
      target,
      200,
      "PATCH",
      `${pods}/p`,
      { metadata: { labels: { via: "main" } }, status: { phase: "Failed" } },
      mergePatch,
    );
    assert.equal(viaMain.status?.phase, "Running", "the main endpoint ignores a Pod's status");
    assert.equal(viaMain.metadata?.labels?.via, "main");
    const retagged = await expectStatus<V1Pod>(
      target,
      200,
      "PATCH",
      `${pods}/p`,
      { spec: { containers: [{ name: "c", image: "nginx:1.28" }] } },
      "application/strategic-merge-patch+json",
    );
    assert.equal(retagged.spec?.containers[0]?.image, "nginx:1.28");
    const immutable = await call(
      target,
      "PATCH",
      `${pods}/p`,
      { spec: { restartPolicy: "Never" } },
      mergePatch,
    );
    assert.equal(immutable.status, 422);
    assert.match(
      String(at(immutable.body, "message")),
      /^Pod "p" is invalid: spec: Forbidden: pod updates may not change fields other than/,
    );
  },
);

test(
  "namespaces get the metadata.name label, the kubernetes finalizer and an Active phase",
  everywhere,
  async (t) => {
    const target = await serve(t);
    const ns = await expectStatus<V1Namespace>(target, 200, "GET", `/api/v1/namespaces/${target.ns}`);
    assert.deepEqual(ns.metadata?.labels, { "kubernetes.io/metadata.name": target.ns });
    assert.deepEqual(ns.status, { phase: "Active" });
    assert.deepEqual(ns.spec, { finalizers: ["kubernetes"] });
  },
);

test("responses keep the usual field order and pretty=true indents", everywhere, async (t) => {
  const target = await serve(t);
  const svcPath = core(target, "services");
  await createService(target, "web");
  const res = await send(target, `${svcPath}/web?pretty=true`);
  const text = await res.text();
  assert.match(
    text,
    /^\{\n {2}"kind": "Service",\n {2}"apiVersion": "v1",\n {2}"metadata": \{\n {4}"name": "web",\n {4}"namespace": "/,
  );
  const yaml = await send(target, `${svcPath}/web`, { headers: { Accept: "application/yaml" } });
  assert.equal(yaml.headers.get("content-type"), "application/yaml");
  assert.match(await yaml.text(), /^apiVersion: v1\nkind: Service\nmetadata:\n/);
});

test(
  "managedFields record each manager's fields; server-side apply is an Apply entry",
  realOnly("the emulator keeps no managedFields and has no server-side apply (the controller uses neither)"),
  async (t) => {
    const target = await serve(t);
    const path = core(target, "services");
    const created = await expectStatus<V1Service>(
      target,
      201,
      "POST",
      `${path}?fieldManager=conformance`,
      service("web", { selector: { app: "web" } }, { labels: { app: "web" } }),
    );
    const [entry, ...others] = created.metadata?.managedFields ?? [];
    assert.deepEqual(others, []);
    assert.equal(entry?.manager, "conformance");
    assert.equal(entry?.operation, "Update");
    assert.equal(entry?.apiVersion, "v1");
    assert.equal(entry?.fieldsType, "FieldsV1");
    // Defaults belong to the creator; what the registry allocates (clusterIP, families) to no one.
    assert.deepEqual(entry?.fieldsV1, {
      "f:metadata": { "f:labels": { ".": {}, "f:app": {} } },
      "f:spec": {
        "f:internalTrafficPolicy": {},
        "f:ports": {
          ".": {},
          'k:{"port":80,"protocol":"TCP"}': { ".": {}, "f:port": {}, "f:protocol": {}, "f:targetPort": {} },
        },
        "f:selector": {},
        "f:sessionAffinity": {},
        "f:type": {},
      },
    });
    const status = await expectStatus<V1Service>(
      target,
      200,
      "PATCH",
      `${path}/web/status`,
      {
        status: {
          conditions: [
            {
              type: "example.com/Ready",
              status: "True",
              reason: "Ok",
              message: "",
              lastTransitionTime: "2025-01-01T00:00:00Z",
            },
          ],
        },
      },
      mergePatch,
    );
    const byStatus = status.metadata?.managedFields?.find((f) => f.subresource === "status");
    assert.equal(byStatus?.manager, "undici", "without fieldManager, the user agent's first word");
    assert.equal(byStatus?.operation, "Update");
    const applied = await expectStatus<V1Service>(
      target,
      200,
      "PATCH",
      `${path}/web?fieldManager=applier`,
      "apiVersion: v1\nkind: Service\nmetadata:\n  name: web\n  annotations:\n    a: b\n",
      "application/apply-patch+yaml",
    );
    const apply = applied.metadata?.managedFields?.find((f) => f.manager === "applier");
    assert.equal(apply?.operation, "Apply");
    assert.deepEqual(apply?.fieldsV1, { "f:metadata": { "f:annotations": { "f:a": {} } } });
    assert.equal(applied.metadata?.annotations?.a, "b");
  },
);
