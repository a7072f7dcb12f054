// The benchmark runs ~2000 Services and as many EndpointSlices through the emulator; creating,
// listing and watching them must stay fast. The emulator's own speed: not run on a real server.
import assert from "node:assert/strict";
import { test } from "node:test";
import { CoreV1Api, makeInformer, type V1Service, type V1ServiceList } from "@kubernetes/client-node";
import {
  core,
  emulatorOnly,
  eventually,
  expectStatus,
  grouped,
  kubeConfig,
  serve,
  service,
  watch,
} from "./harness.ts";

const count = 2000;

async function inBatches(total: number, size: number, work: (i: number) => Promise<unknown>): Promise<void> {
  for (let start = 0; start < total; start += size) {
    await Promise.all(Array.from({ length: Math.min(size, total - start) }, (_, j) => work(start + j)));
  }
}

test(
  `${count} LoadBalancer Services and EndpointSlices: create, list, watch and inform`,
  emulatorOnly("measures the emulator's speed for the benchmark"),
  async (t) => {
    const target = await serve(t);
    const started = Date.now();
    await inBatches(count, 50, (i) =>
      expectStatus(
        target,
        201,
        "POST",
        core(target, "services"),
        service(`svc-${i}`, { type: "LoadBalancer", selector: { app: `a${i}` } }),
      ),
    );
    await inBatches(count, 50, (i) =>
      expectStatus(target, 201, "POST", grouped(target, "discovery.k8s.io/v1", "endpointslices"), {
        metadata: { name: `svc-${i}-x1`, labels: { "kubernetes.io/service-name": `svc-${i}` } },
        addressType: "IPv4",
        endpoints: [{ addresses: [`10.1.${Math.floor(i / 250)}.${i % 250}`], conditions: { ready: true } }],
        ports: [{ name: "", port: 8080, protocol: "TCP" }],
      }),
    );
    const createMs = Date.now() - started;

    const listStarted = Date.now();
    const list = await expectStatus<V1ServiceList>(target, 200, "GET", "/api/v1/services");
    const listMs = Date.now() - listStarted;
    assert.equal(list.items.length, count + 1);
    const ports = new Set(
      list.items.flatMap((s) => (s.spec?.ports ?? []).map((p) => p.nodePort)).filter(Boolean),
    );
    assert.equal(ports.size, count, "every Service got its own node port");

    const reader = await watch(t, target, "/apis/discovery.k8s.io/v1/endpointslices?watch=true");
    await reader.count(count, 10_000);

    const kc = kubeConfig(target);
    const api = kc.makeApiClient(CoreV1Api);
    const informer = makeInformer<V1Service>(kc, "/api/v1/services", () => api.listServiceForAllNamespaces());
    t.after(() => informer.stop());
    const informStarted = Date.now();
    await informer.start();
    await eventually(
      "the informer to hold every Service",
      () => informer.list().length === count + 1,
      10_000,
    );
    const informMs = Date.now() - informStarted;
    t.diagnostic(
      `create ${2 * count} objects: ${createMs} ms; list ${count} Services: ${listMs} ms; informer sync: ${informMs} ms`,
    );
    assert.ok(createMs < 20_000, `creating took ${createMs} ms`);
    assert.ok(listMs < 2_000, `listing took ${listMs} ms`);
  },
);
