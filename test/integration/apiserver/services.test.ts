import assert from "node:assert/strict";
import { test } from "node:test";
import type { V1Service, V1Status } from "@kubernetes/client-node";
import {
  call,
  core,
  createService,
  everywhere,
  expectStatus,
  freeNodePort,
  serve,
  service,
} from "./harness.ts";

const merge = "application/merge-patch+json";

function nodePorts(svc: V1Service): number[] {
  return (svc.spec?.ports ?? []).map((p) => p.nodePort ?? 0);
}

function inNodePortRange(port: number | undefined): boolean {
  return port !== undefined && port >= 30000 && port <= 32767;
}

test("ClusterIP Services get the real server's defaults", everywhere, async (t) => {
  const target = await serve(t);
  const svc = await createService(target, "web", {
    selector: { app: "web" },
    ports: [{ name: "http", port: 80 }],
  });
  const spec = svc.spec;
  assert.equal(spec?.type, "ClusterIP");
  assert.match(spec?.clusterIP ?? "", /^10\.(9[6-9]|10\d|11[01])\.\d+\.\d+$/, "from 10.96.0.0/12");
  assert.deepEqual(spec?.clusterIPs, [spec?.clusterIP]);
  assert.deepEqual(spec?.ipFamilies, ["IPv4"]);
  assert.equal(spec?.ipFamilyPolicy, "SingleStack");
  assert.equal(spec?.sessionAffinity, "None");
  assert.equal(spec?.internalTrafficPolicy, "Cluster");
  assert.equal(spec?.externalTrafficPolicy, undefined);
  assert.equal(spec?.allocateLoadBalancerNodePorts, undefined);
  assert.deepEqual(spec?.ports, [{ name: "http", port: 80, protocol: "TCP", targetPort: 80 }]);
});

test("cluster IPs are unique; a taken or out-of-range one is refused", everywhere, async (t) => {
  const target = await serve(t);
  const path = core(target, "services");
  const ips = new Set<string>();
  for (let i = 0; i < 50; i++) ips.add((await createService(target, `s${i}`)).spec?.clusterIP ?? "");
  assert.equal(ips.size, 50);
  const chosen = await createService(target, "chosen", { clusterIP: "10.96.0.10" });
  assert.equal(chosen.spec?.clusterIP, "10.96.0.10");
  const taken = await call<V1Status>(target, "POST", path, service("again", { clusterIP: "10.96.0.10" }));
  assert.equal(taken.status, 422);
  assert.equal(
    taken.body.message,
    'Service "again" is invalid: spec.clusterIPs: Invalid value: ["10.96.0.10"]: failed to allocate IP 10.96.0.10: provided IP is already allocated',
  );
  const outside = await call<V1Status>(
    target,
    "POST",
    path,
    service("outside", { clusterIP: "192.168.0.1" }),
  );
  assert.equal(outside.status, 422);
  assert.equal(
    outside.body.message,
    'Service "outside" is invalid: spec.clusterIPs: Invalid value: ["192.168.0.1"]: failed to allocate IP 192.168.0.1: the provided network does not match the current range',
  );
  const immutable = await call<V1Status>(
    target,
    "PATCH",
    `${path}/chosen`,
    { spec: { clusterIP: "10.96.0.11", clusterIPs: ["10.96.0.11"] } },
    merge,
  );
  assert.equal(immutable.status, 422);
  assert.deepEqual(immutable.body.details?.causes, [
    {
      reason: "FieldValueInvalid",
      message: 'Invalid value: ["10.96.0.11"]: may not change once set',
      field: "spec.clusterIPs[0]",
    },
  ]);
  await expectStatus(target, 200, "DELETE", `${path}/chosen`);
  await createService(target, "reuse", { clusterIP: "10.96.0.10" });
});

test(
  "NodePort and LoadBalancer Services get node ports, Cluster policy and allocateLoadBalancerNodePorts",
  everywhere,
  async (t) => {
    const target = await serve(t);
    const np = await createService(target, "np", {
      type: "NodePort",
      ports: [
        { name: "a", port: 80 },
        { name: "b", port: 443 },
      ],
    });
    assert.ok(nodePorts(np).every(inNodePortRange));
    assert.notEqual(nodePorts(np)[0], nodePorts(np)[1]);
    assert.equal(np.spec?.externalTrafficPolicy, "Cluster");
    assert.equal(np.spec?.allocateLoadBalancerNodePorts, undefined);
    const lb = await createService(target, "lb", { type: "LoadBalancer" });
    assert.ok(inNodePortRange(nodePorts(lb)[0]));
    assert.equal(lb.spec?.externalTrafficPolicy, "Cluster");
    assert.equal(lb.spec?.allocateLoadBalancerNodePorts, true);
    assert.equal(lb.spec?.healthCheckNodePort, undefined);
    const noPorts = await createService(target, "noports", {
      type: "LoadBalancer",
      allocateLoadBalancerNodePorts: false,
    });
    assert.equal(noPorts.spec?.ports?.[0]?.nodePort, undefined);
  },
);

test("the same port over TCP and UDP shares one node port", everywhere, async (t) => {
  const target = await serve(t);
  const dns = await createService(target, "dns", {
    type: "NodePort",
    ports: [
      { name: "dns-tcp", port: 53, protocol: "TCP" },
      { name: "dns-udp", port: 53, protocol: "UDP" },
    ],
  });
  assert.equal(nodePorts(dns)[0], nodePorts(dns)[1]);
});

test("node ports never collide; a requested one is kept, a taken one refused", everywhere, async (t) => {
  const target = await serve(t);
  const path = core(target, "services");
  const seen = new Set<number>();
  for (let i = 0; i < 40; i++) {
    const svc = await createService(target, `s${i}`, {
      type: "NodePort",
      ports: [
        { name: "a", port: 80 },
        { name: "b", port: 81 },
      ],
    });
    for (const port of nodePorts(svc)) {
      assert.ok(!seen.has(port), `node port ${port} handed out twice`);
      seen.add(port);
    }
  }
  const port = await freeNodePort(target);
  const fixed = await createService(target, "fixed", {
    type: "NodePort",
    ports: [{ port: 80, nodePort: port }],
  });
  assert.deepEqual(nodePorts(fixed), [port]);
  const taken = await call<V1Status>(
    target,
    "POST",
    path,
    service("taken", { type: "NodePort", ports: [{ port: 80, nodePort: port }] }),
  );
  assert.equal(taken.status, 422);
  assert.equal(
    taken.body.message,
    `Service "taken" is invalid: spec.ports[0].nodePort: Invalid value: ${port}: provided port is already allocated`,
  );
  const outside = await call<V1Status>(
    target,
    "POST",
    path,
    service("outside", { type: "NodePort", ports: [{ port: 80, nodePort: 8080 }] }),
  );
  assert.equal(outside.status, 422);
  assert.match(
    outside.body.message ?? "",
    /provided port is not in the valid range. The range of valid ports is 30000-32767/,
  );
  const doubled = await freeNodePort(target);
  const twice = await call<V1Status>(
    target,
    "POST",
    path,
    service("twice", {
      type: "NodePort",
      ports: [
        { name: "a", port: 80, nodePort: doubled },
        { name: "b", port: 81, nodePort: doubled },
      ],
    }),
  );
  assert.equal(twice.status, 422);
  // Allocation runs before validation, so a port used twice is "already allocated", not a duplicate.
  assert.deepEqual(twice.body.details?.causes, [
    {
      reason: "FieldValueInvalid",
      message: `Invalid value: ${doubled}: provided port is already allocated`,
      field: "spec.ports[1].nodePort",
    },
  ]);
});

test("updates keep allocated node ports when the client omits them", everywhere, async (t) => {
  const target = await serve(t);
  const path = core(target, "services");
  const created = await createService(target, "web", {
    type: "LoadBalancer",
    ports: [
      { name: "http", port: 80 },
      { name: "https", port: 443 },
    ],
  });
  const omitted = structuredClone(created);
  for (const port of omitted.spec?.ports ?? []) delete port.nodePort;
  omitted.metadata = { ...omitted.metadata, labels: { changed: "yes" } };
  const updated = await expectStatus<V1Service>(target, 200, "PUT", `${path}/web`, omitted);
  assert.deepEqual(nodePorts(updated), nodePorts(created));
  const added = await expectStatus<V1Service>(
    target,
    200,
    "PATCH",
    `${path}/web`,
    {
      spec: {
        ports: [
          { name: "http", port: 80 },
          { name: "https", port: 443 },
          { name: "admin", port: 9000 },
        ],
      },
    },
    merge,
  );
  assert.deepEqual(nodePorts(added).slice(0, 2), nodePorts(created));
  assert.ok(inNodePortRange(nodePorts(added)[2]));
});

test("changing the type to ClusterIP drops and releases the node ports", everywhere, async (t) => {
  const target = await serve(t);
  const path = core(target, "services");
  const port = await freeNodePort(target);
  await createService(target, "web", { type: "NodePort", ports: [{ port: 80, nodePort: port }] });
  const current = await expectStatus<V1Service>(target, 200, "GET", `${path}/web`);
  const toClusterIp = structuredClone(current);
  if (toClusterIp.spec) {
    toClusterIp.spec.type = "ClusterIP";
  }
  const updated = await expectStatus<V1Service>(target, 200, "PUT", `${path}/web`, toClusterIp);
  assert.equal(updated.spec?.ports?.[0]?.nodePort, undefined);
  assert.equal(updated.spec?.externalTrafficPolicy, undefined);
  await createService(target, "next", { type: "NodePort", ports: [{ port: 80, nodePort: port }] });
});

test("deleting a Service frees its node ports", everywhere, async (t) => {
  const target = await serve(t);
  const path = core(target, "services");
  const port = await freeNodePort(target);
  await createService(target, "web", { type: "NodePort", ports: [{ port: 80, nodePort: port }] });
  await expectStatus(target, 200, "DELETE", `${path}/web`);
  await createService(target, "again", { type: "NodePort", ports: [{ port: 80, nodePort: port }] });
});

test(
  "healthCheckNodePort: allocated for LoadBalancer + Local, kept, released on Cluster",
  everywhere,
  async (t) => {
    const target = await serve(t);
    const path = core(target, "services");
    const local = await createService(target, "web", {
      type: "LoadBalancer",
      externalTrafficPolicy: "Local",
    });
    const hc = local.spec?.healthCheckNodePort;
    assert.ok(inNodePortRange(hc));
    assert.ok(!nodePorts(local).includes(hc ?? 0), "distinct from the service's node ports");

    const relabelled = await expectStatus<V1Service>(
      target,
      200,
      "PATCH",
      `${path}/web`,
      { metadata: { labels: { a: "b" } } },
      merge,
    );
    assert.equal(relabelled.spec?.healthCheckNodePort, hc);
    const omitted = structuredClone(relabelled);
    delete omitted.spec?.healthCheckNodePort;
    const put = await expectStatus<V1Service>(target, 200, "PUT", `${path}/web`, omitted);
    assert.equal(put.spec?.healthCheckNodePort, hc, "kept when a PUT omits it");

    const cluster = await expectStatus<V1Service>(
      target,
      200,
      "PATCH",
      `${path}/web`,
      { spec: { externalTrafficPolicy: "Cluster" } },
      merge,
    );
    assert.equal(cluster.spec?.healthCheckNodePort, undefined);
    const reuse = await createService(target, "reuse", {
      type: "NodePort",
      ports: [{ port: 80, nodePort: hc }],
    });
    assert.deepEqual(nodePorts(reuse), [hc], "the released port can be allocated again");

    const fixed = await freeNodePort(target);
    const chosen = await createService(target, "chosen", {
      type: "LoadBalancer",
      externalTrafficPolicy: "Local",
      healthCheckNodePort: fixed,
    });
    assert.equal(chosen.spec?.healthCheckNodePort, fixed);
    const clash = await call(
      target,
      "POST",
      path,
      service("clash", { type: "LoadBalancer", externalTrafficPolicy: "Local", healthCheckNodePort: fixed }),
    );
    // The real allocator refuses a requested health check port with a 500, not a 422.
    assert.equal(clash.status, 500);
    assert.deepEqual(clash.body, {
      kind: "Status",
      apiVersion: "v1",
      metadata: {},
      status: "Failure",
      message: `Internal error occurred: failed to allocate requested HealthCheck NodePort ${fixed}: provided port is already allocated`,
      reason: "InternalError",
      details: {
        causes: [
          {
            message: `failed to allocate requested HealthCheck NodePort ${fixed}: provided port is already allocated`,
          },
        ],
      },
      code: 500,
    });
    const back = await expectStatus<V1Service>(
      target,
      200,
      "PATCH",
      `${path}/web`,
      { spec: { externalTrafficPolicy: "Local" } },
      merge,
    );
    assert.ok(inNodePortRange(back.spec?.healthCheckNodePort));
  },
);

test(
  "status given on create is dropped; the load balancer status is set through /status",
  everywhere,
  async (t) => {
    const target = await serve(t);
    const path = core(target, "services");
    const created = await expectStatus<V1Service>(target, 201, "POST", path, {
      ...service("web", { type: "LoadBalancer" }),
      status: { loadBalancer: { ingress: [{ ip: "1.2.3.4" }] } },
    });
    assert.deepEqual(created.status, { loadBalancer: {} });
    const ingress = [
      {
        hostname: "k8s-default-web-abcdef0123.elb.us-west-2.amazonaws.com",
        ports: [{ port: 80, protocol: "TCP" }],
      },
    ];
    const updated = await expectStatus<V1Service>(
      target,
      200,
      "PATCH",
      `${path}/web/status`,
      { status: { loadBalancer: { ingress } } },
      merge,
    );
    assert.deepEqual(updated.status?.loadBalancer?.ingress, ingress);
    const withIp = await expectStatus<V1Service>(
      target,
      200,
      "PATCH",
      `${path}/web/status`,
      { status: { loadBalancer: { ingress: [{ ip: "192.0.2.10" }] } } },
      merge,
    );
    assert.deepEqual(
      withIp.status?.loadBalancer?.ingress,
      [{ ip: "192.0.2.10", ipMode: "VIP" }],
      "ipMode defaults to VIP",
    );
  },
);

test(
  "status conditions: times are kept to the second in UTC; only LoadBalancer Services have ingress",
  everywhere,
  async (t) => {
    const target = await serve(t);
    const path = core(target, "services");
    await createService(target, "lb", { type: "LoadBalancer" });
    const condition = {
      type: "example.com/Ready",
      status: "True",
      observedGeneration: 3,
      lastTransitionTime: "2025-01-01T02:00:00.789+02:00",
      reason: "Ok",
      message: "",
    };
    const patched = await expectStatus<V1Service>(
      target,
      200,
      "PATCH",
      `${path}/lb/status`,
      { status: { conditions: [condition] } },
      merge,
    );
    assert.deepEqual(JSON.parse(JSON.stringify(patched.status?.conditions)), [
      { ...condition, lastTransitionTime: "2025-01-01T00:00:00Z" },
    ]);

    await createService(target, "plain");
    const refused = await call<V1Status>(
      target,
      "PATCH",
      `${path}/plain/status`,
      { status: { loadBalancer: { ingress: [{ ip: "192.0.2.1" }] } } },
      merge,
    );
    assert.equal(refused.status, 422);
    assert.deepEqual(refused.body.details, {
      name: "plain",
      kind: "Service",
      causes: [
        {
          reason: "FieldValueForbidden",
          message: "Forbidden: may only be used when `spec.type` is 'LoadBalancer'",
          field: "status.loadBalancer.ingress",
        },
      ],
    });
  },
);
