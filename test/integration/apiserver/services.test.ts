import assert from "node:assert/strict";
import { test } from "node:test";
import type { V1Service, V1Status } from "@kubernetes/client-node";
import { call, createService, expectStatus, serve, service } from "./harness.ts";

const path = "/api/v1/namespaces/default/services";
const merge = "application/merge-patch+json";

function nodePorts(svc: V1Service): number[] {
  return (svc.spec?.ports ?? []).map((p) => p.nodePort ?? 0);
}

function inNodePortRange(port: number | undefined): boolean {
  return port !== undefined && port >= 30000 && port <= 32767;
}

test("ClusterIP Services get the real server's defaults", async (t) => {
  const server = await serve(t);
  const svc = await createService(server, "web", {
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

test("cluster IPs are unique; a taken or out-of-range one is refused", async (t) => {
  const server = await serve(t);
  const ips = new Set<string>();
  for (let i = 0; i < 50; i++) ips.add((await createService(server, `s${i}`)).spec?.clusterIP ?? "");
  assert.equal(ips.size, 50);
  const chosen = await createService(server, "chosen", { clusterIP: "10.96.0.10" });
  assert.equal(chosen.spec?.clusterIP, "10.96.0.10");
  const taken = await call<V1Status>(server, "POST", path, service("again", { clusterIP: "10.96.0.10" }));
  assert.equal(taken.status, 422);
  assert.match(
    taken.body.message ?? "",
    /failed to allocate IP 10.96.0.10: provided IP is already allocated/,
  );
  const outside = await call(server, "POST", path, service("outside", { clusterIP: "192.168.0.1" }));
  assert.equal(outside.status, 422);
  const immutable = await call(
    server,
    "PATCH",
    `${path}/chosen`,
    { spec: { clusterIP: "10.96.0.11", clusterIPs: ["10.96.0.11"] } },
    merge,
  );
  assert.equal(immutable.status, 422);
  await expectStatus(server, 200, "DELETE", `${path}/chosen`);
  await createService(server, "reuse", { clusterIP: "10.96.0.10" });
});

test("NodePort and LoadBalancer Services get node ports, Cluster policy and allocateLoadBalancerNodePorts", async (t) => {
  const server = await serve(t);
  const np = await createService(server, "np", {
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
  const lb = await createService(server, "lb", { type: "LoadBalancer" });
  assert.ok(inNodePortRange(nodePorts(lb)[0]));
  assert.equal(lb.spec?.externalTrafficPolicy, "Cluster");
  assert.equal(lb.spec?.allocateLoadBalancerNodePorts, true);
  assert.equal(lb.spec?.healthCheckNodePort, undefined);
  const noPorts = await createService(server, "noports", {
    type: "LoadBalancer",
    allocateLoadBalancerNodePorts: false,
  });
  assert.equal(noPorts.spec?.ports?.[0]?.nodePort, undefined);
});

test("the same port over TCP and UDP shares one node port", async (t) => {
  const server = await serve(t);
  const dns = await createService(server, "dns", {
    type: "NodePort",
    ports: [
      { name: "dns-tcp", port: 53, protocol: "TCP" },
      { name: "dns-udp", port: 53, protocol: "UDP" },
    ],
  });
  assert.equal(nodePorts(dns)[0], nodePorts(dns)[1]);
});

test("node ports never collide; a requested one is kept, a taken one refused", async (t) => {
  const server = await serve(t);
  const seen = new Set<number>();
  for (let i = 0; i < 40; i++) {
    const svc = await createService(server, `s${i}`, {
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
  const fixed = await createService(server, "fixed", {
    type: "NodePort",
    ports: [{ port: 80, nodePort: 30080 }],
  });
  assert.deepEqual(nodePorts(fixed), [30080]);
  const taken = await call<V1Status>(
    server,
    "POST",
    path,
    service("taken", { type: "NodePort", ports: [{ port: 80, nodePort: 30080 }] }),
  );
  assert.equal(taken.status, 422);
  assert.equal(
    taken.body.message,
    'Service "taken" is invalid: spec.ports[0].nodePort: Invalid value: 30080: provided port is already allocated',
  );
  const outside = await call<V1Status>(
    server,
    "POST",
    path,
    service("outside", { type: "NodePort", ports: [{ port: 80, nodePort: 8080 }] }),
  );
  assert.equal(outside.status, 422);
  assert.match(
    outside.body.message ?? "",
    /provided port is not in the valid range. The range of valid ports is 30000-32767/,
  );
  const twice = await call(
    server,
    "POST",
    path,
    service("twice", {
      type: "NodePort",
      ports: [
        { name: "a", port: 80, nodePort: 31000 },
        { name: "b", port: 81, nodePort: 31000 },
      ],
    }),
  );
  assert.equal(twice.status, 422);
});

test("updates keep allocated node ports when the client omits them", async (t) => {
  const server = await serve(t);
  const created = await createService(server, "web", {
    type: "LoadBalancer",
    ports: [
      { name: "http", port: 80 },
      { name: "https", port: 443 },
    ],
  });
  const omitted = structuredClone(created);
  for (const port of omitted.spec?.ports ?? []) delete port.nodePort;
  omitted.metadata = { ...omitted.metadata, labels: { changed: "yes" } };
  const updated = await expectStatus<V1Service>(server, 200, "PUT", `${path}/web`, omitted);
  assert.deepEqual(nodePorts(updated), nodePorts(created));
  const added = await expectStatus<V1Service>(
    server,
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

test("changing the type to ClusterIP drops and releases the node ports", async (t) => {
  const server = await serve(t);
  await createService(server, "web", { type: "NodePort", ports: [{ port: 80, nodePort: 30500 }] });
  const current = await expectStatus<V1Service>(server, 200, "GET", `${path}/web`);
  const toClusterIp = structuredClone(current);
  if (toClusterIp.spec) {
    toClusterIp.spec.type = "ClusterIP";
  }
  const updated = await expectStatus<V1Service>(server, 200, "PUT", `${path}/web`, toClusterIp);
  assert.equal(updated.spec?.ports?.[0]?.nodePort, undefined);
  assert.equal(updated.spec?.externalTrafficPolicy, undefined);
  await createService(server, "next", { type: "NodePort", ports: [{ port: 80, nodePort: 30500 }] });
});

test("deleting a Service frees its node ports", async (t) => {
  const server = await serve(t);
  await createService(server, "web", { type: "NodePort", ports: [{ port: 80, nodePort: 30600 }] });
  await expectStatus(server, 200, "DELETE", `${path}/web`);
  await createService(server, "again", { type: "NodePort", ports: [{ port: 80, nodePort: 30600 }] });
});

test("healthCheckNodePort: allocated for LoadBalancer + Local, kept, released on Cluster", async (t) => {
  const server = await serve(t);
  const local = await createService(server, "web", { type: "LoadBalancer", externalTrafficPolicy: "Local" });
  const hc = local.spec?.healthCheckNodePort;
  assert.ok(inNodePortRange(hc));
  assert.ok(!nodePorts(local).includes(hc ?? 0), "distinct from the service's node ports");

  const relabelled = await expectStatus<V1Service>(
    server,
    200,
    "PATCH",
    `${path}/web`,
    { metadata: { labels: { a: "b" } } },
    merge,
  );
  assert.equal(relabelled.spec?.healthCheckNodePort, hc);
  const omitted = structuredClone(relabelled);
  delete omitted.spec?.healthCheckNodePort;
  const put = await expectStatus<V1Service>(server, 200, "PUT", `${path}/web`, omitted);
  assert.equal(put.spec?.healthCheckNodePort, hc, "kept when a PUT omits it");

  const cluster = await expectStatus<V1Service>(
    server,
    200,
    "PATCH",
    `${path}/web`,
    { spec: { externalTrafficPolicy: "Cluster" } },
    merge,
  );
  assert.equal(cluster.spec?.healthCheckNodePort, undefined);
  const reuse = await createService(server, "reuse", {
    type: "NodePort",
    ports: [{ port: 80, nodePort: hc }],
  });
  assert.deepEqual(nodePorts(reuse), [hc], "the released port can be allocated again");

  const chosen = await createService(server, "chosen", {
    type: "LoadBalancer",
    externalTrafficPolicy: "Local",
    healthCheckNodePort: 32000,
  });
  assert.equal(chosen.spec?.healthCheckNodePort, 32000);
  const clash = await call(
    server,
    "POST",
    path,
    service("clash", { type: "LoadBalancer", externalTrafficPolicy: "Local", healthCheckNodePort: 32000 }),
  );
  assert.equal(clash.status, 422);
  const back = await expectStatus<V1Service>(
    server,
    200,
    "PATCH",
    `${path}/web`,
    { spec: { externalTrafficPolicy: "Local" } },
    merge,
  );
  assert.ok(inNodePortRange(back.spec?.healthCheckNodePort));
});

test("status given on create is dropped; the load balancer status is set through /status", async (t) => {
  const server = await serve(t);
  const created = await expectStatus<V1Service>(server, 201, "POST", path, {
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
    server,
    200,
    "PATCH",
    `${path}/web/status`,
    { status: { loadBalancer: { ingress } } },
    merge,
  );
  assert.deepEqual(updated.status?.loadBalancer?.ingress, ingress);
});
