// Stock kubectl against the backend. Skipped, with the reason printed, when kubectl is not on PATH.
import assert from "node:assert/strict";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type TestContext, test } from "node:test";
import type { V1Service } from "@kubernetes/client-node";
import { findKubectl, Kubectl } from "../../support/kubectl.ts";
import { core, createService, everywhere, expectStatus, freeNodePort, serve, uniqueName } from "./harness.ts";

const binary = findKubectl();
const options = binary
  ? everywhere
  : { skip: "kubectl is not on PATH; install kubectl to run the kubectl conformance tests" };

/** kubectl on the test's kubeconfig, whose context namespace is the test's namespace. */
async function setup(t: TestContext) {
  const target = await serve(t);
  const dir = await mkdtemp(join(tmpdir(), "kubectl-conformance-"));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const kubectl = new Kubectl(binary ?? "kubectl", target.kubeconfigPath, join(dir, "cache"));
  t.after(() => kubectl.stopAll());
  return { target, kubectl, dir, services: core(target, "services") };
}

const manifest = `apiVersion: v1
kind: Service
metadata:
  name: web
  labels:
    app: web
spec:
  type: LoadBalancer
  externalTrafficPolicy: Local
  selector:
    app: web
  ports:
  - name: http
    port: 80
    targetPort: 8080
---
apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata:
  name: web-abcde
  labels:
    kubernetes.io/service-name: web
addressType: IPv4
endpoints:
- addresses: ["10.0.1.10"]
  conditions: {ready: true}
ports:
- name: http
  port: 8080
`;

test("kubectl get prints tables, names and JSON", options, async (t) => {
  const { target, kubectl } = await setup(t);
  const port = await freeNodePort(target);
  await createService(target, "web", { type: "NodePort", ports: [{ port: 80, nodePort: port }] });
  const table = await kubectl.ok(["get", "svc"]);
  assert.match(table, /^NAME\s+TYPE\s+CLUSTER-IP\s+EXTERNAL-IP\s+PORT\(S\)\s+AGE/);
  assert.match(
    table,
    new RegExp(`\\nweb\\s+NodePort\\s+10\\.\\d+\\.\\d+\\.\\d+\\s+<none>\\s+80:${port}/TCP\\s+\\d+s`),
  );
  assert.match(await kubectl.ok(["get", "ns"]), /kube-system\s+Active/);
  assert.equal((await kubectl.ok(["get", "services", "-o", "name"])).trim(), "service/web");
  const json = JSON.parse(await kubectl.ok(["get", "svc", "web", "-o", "json"])) as V1Service;
  assert.equal(json.kind, "Service");
  assert.equal(json.spec?.ports?.[0]?.nodePort, port);
  const list = JSON.parse(await kubectl.ok(["get", "po,endpointslices,leases,ev", "-o", "json"])) as {
    items: unknown[];
  };
  assert.deepEqual(list.items, []);
  const missing = await kubectl.run(["get", "svc", "nope"]);
  assert.notEqual(missing.code, 0);
  assert.match(missing.stderr, /Error from server \(NotFound\): services "nope" not found/);
});

test("kubectl create -f, then get -w sees the change", options, async (t) => {
  const { target, services, kubectl, dir } = await setup(t);
  const file = join(dir, "web.yaml");
  await writeFile(file, manifest);
  const created = await kubectl.ok(["create", "-f", file, "--validate=false"]);
  assert.match(created, /service\/web created/);
  assert.match(created, /endpointslice.discovery.k8s.io\/web-abcde created/);
  const svc = await expectStatus<V1Service>(target, 200, "GET", `${services}/web`);
  assert.ok(svc.spec?.healthCheckNodePort);
  const again = await kubectl.run(["create", "-f", file, "--validate=false"]);
  assert.notEqual(again.code, 0);
  assert.match(again.stderr, /AlreadyExists/);

  const watching = kubectl.start(["get", "svc", "web", "-w", "--request-timeout=20s"]);
  await watching.waitForLine(/^web\s+LoadBalancer\s+.*<pending>/);
  await expectStatus(
    target,
    200,
    "PATCH",
    `${services}/web/status`,
    {
      status: {
        loadBalancer: { ingress: [{ hostname: "k8s-default-web-0123456789.elb.us-east-1.amazonaws.com" }] },
      },
    },
    "application/merge-patch+json",
  );
  await watching.waitForLine(
    /^web\s+LoadBalancer\s+\S+\s+k8s-default-web-0123456789\.elb\.us-east-1\.amazonaws\.com\s+80:\d+\/TCP/,
  );
  await watching.stop();

  const raw = kubectl.start([
    "get",
    "svc",
    "-w",
    "-o",
    "json",
    "--output-watch-events",
    "--request-timeout=20s",
  ]);
  await raw.waitForLine(/"name":\s*"web"/);
  await createService(target, "second");
  const event = JSON.parse(await raw.waitForLine(/"name":\s*"second"/)) as {
    type: string;
    object: V1Service;
  };
  assert.equal(event.type, "ADDED");
  assert.equal(event.object.metadata?.name, "second");
  await raw.stop();
});

test("kubectl patch: merge, json and the status subresource", options, async (t) => {
  const { target, services, kubectl } = await setup(t);
  await createService(target, "web", { type: "LoadBalancer" });
  await kubectl.ok([
    "patch",
    "svc",
    "web",
    "--type=merge",
    "-p",
    '{"spec":{"loadBalancerClass":null,"sessionAffinity":"ClientIP"}}',
  ]);
  await kubectl.ok([
    "patch",
    "svc",
    "web",
    "--type=json",
    "-p",
    '[{"op":"add","path":"/metadata/finalizers","value":["service.k8s.aws/resources"]}]',
  ]);
  await kubectl.ok([
    "patch",
    "svc",
    "web",
    "--subresource=status",
    "--type=merge",
    "-p",
    '{"status":{"loadBalancer":{"ingress":[{"hostname":"lb.example.com"}]}}}',
  ]);
  await kubectl.ok(["patch", "svc", "web", "-p", '{"metadata":{"labels":{"strategic":"yes"}}}']);
  const svc = await expectStatus<V1Service>(target, 200, "GET", `${services}/web`);
  assert.equal(svc.spec?.sessionAffinity, "ClientIP");
  assert.deepEqual(svc.metadata?.finalizers, ["service.k8s.aws/resources"]);
  assert.equal(svc.status?.loadBalancer?.ingress?.[0]?.hostname, "lb.example.com");
  assert.equal(svc.metadata?.labels?.strategic, "yes");
  const failed = await kubectl.run([
    "patch",
    "svc",
    "web",
    "--type=json",
    "-p",
    '[{"op":"test","path":"/spec/type","value":"ClusterIP"}]',
  ]);
  assert.notEqual(failed.code, 0);
  assert.match(
    failed.stderr,
    /The request is invalid: the server rejected our request due to an error in our request/,
  );
});

test("kubectl label and annotate", options, async (t) => {
  const { target, services, kubectl } = await setup(t);
  await createService(target, "web");
  await kubectl.ok(["label", "svc", "web", "tier=front", "team=nlb"]);
  await kubectl.ok([
    "annotate",
    "svc",
    "web",
    "service.beta.kubernetes.io/aws-load-balancer-scheme=internet-facing",
  ]);
  let svc = await expectStatus<V1Service>(target, 200, "GET", `${services}/web`);
  assert.equal(svc.metadata?.labels?.tier, "front");
  assert.equal(
    svc.metadata?.annotations?.["service.beta.kubernetes.io/aws-load-balancer-scheme"],
    "internet-facing",
  );
  const clash = await kubectl.run(["label", "svc", "web", "tier=back"]);
  assert.notEqual(clash.code, 0, "kubectl refuses to overwrite without --overwrite");
  await kubectl.ok(["label", "svc", "web", "tier=back", "--overwrite"]);
  await kubectl.ok(["label", "svc", "web", "team-"]);
  await kubectl.ok(["annotate", "svc", "web", "service.beta.kubernetes.io/aws-load-balancer-scheme-"]);
  svc = await expectStatus<V1Service>(target, 200, "GET", `${services}/web`);
  assert.deepEqual(svc.metadata?.labels, { tier: "back" });
  assert.equal(svc.metadata?.annotations, undefined);
  const selected = await kubectl.ok(["get", "svc", "-l", "tier in (back)", "-o", "name"]);
  assert.equal(selected.trim(), "service/web");
});

test("kubectl delete waits for the object to go, finalizers included", options, async (t) => {
  const { target, services, kubectl } = await setup(t);
  await createService(target, "plain");
  assert.match(await kubectl.ok(["delete", "svc", "plain"]), /service "plain" deleted/);
  await createService(target, "held", {}, { finalizers: ["service.k8s.aws/resources"] });
  const deleting = kubectl.run(["delete", "svc", "held", "--timeout=20s"]);
  const terminating = async () =>
    (await expectStatus<V1Service>(target, 200, "GET", `${services}/held`)).metadata?.deletionTimestamp !==
    undefined;
  while (!(await terminating())) await new Promise((resolve) => setTimeout(resolve, 20));
  await expectStatus(
    target,
    200,
    "PATCH",
    `${services}/held`,
    { metadata: { finalizers: null } },
    "application/merge-patch+json",
  );
  const result = await deleting;
  assert.equal(result.code, 0, result.stderr);
  assert.match(result.stdout, /service "held" deleted/);
  const gone = await kubectl.run(["get", "svc", "held"]);
  assert.match(gone.stderr, /NotFound/);
});

test("kubectl create namespace and create service send protobuf, which is understood", options, async (t) => {
  const { target, kubectl } = await setup(t);
  const demo = uniqueName("demo");
  assert.match(await kubectl.ok(["create", "namespace", demo]), new RegExp(`namespace/${demo} created`));
  const port = await freeNodePort(target);
  await kubectl.ok([
    "create",
    "service",
    "nodeport",
    "np",
    "--tcp=80:8080",
    `--node-port=${port}`,
    "-n",
    demo,
  ]);
  await kubectl.ok(["create", "service", "loadbalancer", "lb", "--tcp=443:8443,80", "-n", demo]);
  const np = await expectStatus<V1Service>(target, 200, "GET", `/api/v1/namespaces/${demo}/services/np`);
  assert.deepEqual(np.spec?.ports, [
    { name: "80-8080", port: 80, protocol: "TCP", targetPort: 8080, nodePort: port },
  ]);
  assert.deepEqual(np.spec?.selector, { app: "np" });
  const lb = await expectStatus<V1Service>(target, 200, "GET", `/api/v1/namespaces/${demo}/services/lb`);
  assert.equal(lb.spec?.type, "LoadBalancer");
  assert.equal(lb.spec?.healthCheckNodePort, undefined, "Go zero values from protobuf count as unset");
  assert.equal(lb.spec?.ports?.length, 2);
  assert.match(await kubectl.ok(["delete", "namespace", demo]), new RegExp(`namespace "${demo}" deleted`));
  const gone = await kubectl.run(["get", "namespace", demo]);
  assert.match(gone.stderr, /NotFound/);
});
