// The chart's RBAC is exactly what the controller uses: every feature that touches Kubernetes is
// run under the chart's ServiceAccount on the real kube-apiserver, whose audit log then says which
// (resource, verb) pairs were asked for and what RBAC answered. Nothing may be refused, and every
// grant must have been used. The control plane runs OwnerReferencesPermissionEnforcement, so the
// owner reference on the multi-cluster record is checked as strictly as any cluster can.
import assert from "node:assert/strict";
import { readFile } from "node:fs/promises";
import { describe, it } from "node:test";
import { mergePatch } from "../../../src/kube/client.ts";
import { awsTestEnv } from "../../support/aws.ts";
import {
  annotate,
  nlbService,
  ownedByCluster,
  setEndpoints,
  settle,
  startTestCluster,
  waitFor,
} from "../../support/cluster.ts";
import {
  CHART_NAMESPACE,
  chartRbac,
  controllerToken,
  realServerOnly,
  sharedControlPlane,
} from "../../support/kube-backend.ts";

awsTestEnv();
const NS = "default";
const P = "service.beta.kubernetes.io/aws-load-balancer-";
const VALUES = { rbac: { multiClusterTargetGroups: true } };

interface AuditEvent {
  auditID: string;
  stage: string;
  verb: string;
  user: { username: string };
  objectRef?: { apiGroup?: string; resource?: string; subresource?: string; name?: string };
  responseStatus?: { code?: number };
  requestReceivedTimestamp: string;
}

interface Rule {
  apiGroups?: string[];
  resources?: string[];
  verbs?: string[];
}

const keyOf = (group: string, resource: string, verb: string) =>
  `${group ? `${group}:` : ""}${resource} ${verb}`;

/** Every (group:resource[/subresource] verb) the chart grants its ServiceAccount. */
async function granted(): Promise<Set<string>> {
  const manifests = await chartRbac(VALUES);
  const grants = new Set<string>();
  for (const m of manifests.filter((x) => x.kind === "ClusterRole" || x.kind === "Role")) {
    for (const rule of (m as unknown as { rules: Rule[] }).rules) {
      for (const group of rule.apiGroups ?? [])
        for (const resource of rule.resources ?? [])
          for (const verb of rule.verbs ?? []) grants.add(keyOf(group, resource, verb));
    }
  }
  return grants;
}

describe("RBAC: the chart grants what the controller uses, and nothing more", () => {
  const skip = realServerOnly("reads kube-apiserver's audit log");

  it("runs every Kubernetes-facing feature under the chart's ServiceAccount", { skip }, async () => {
    const cp = await sharedControlPlane();
    const since = new Date().toISOString();
    const c = await startTestCluster({ nodes: 2, chartValues: VALUES });
    try {
      // An instance Service: finalizer, status, events; a multi-cluster ip Service: its record;
      // an ip Service with a readiness gate: the pod condition; a bad annotation: a Warning.
      await c.kube.core.createNamespacedService({ namespace: NS, body: nlbService("web") });
      await c.kube.core.createNamespacedService({
        namespace: NS,
        body: nlbService("shared", {
          annotations: { [`${P}nlb-target-type`]: "ip", [`${P}multi-cluster-target-group`]: "true" },
        }),
      });
      await c.kube.core.createNamespacedService({
        namespace: NS,
        body: nlbService("api", { annotations: { [`${P}nlb-target-type`]: "ip" } }),
      });
      await setEndpoints(c, NS, "shared", ["10.0.0.41"]);
      const m = await c.startController({ leaderElect: true });
      const groups = await waitFor("three target groups", async () => {
        const tgs = (await ownedByCluster(c.elbv2, c.clusterName)).targetGroups;
        return tgs.length === 3 ? tgs : undefined;
      });
      const apiGroup = groups.find((g) => g.tags["service.k8s.aws/stack"] === `${NS}/api`);
      assert.ok(apiGroup, "the api Service's target group");
      const gate = `target-health.elbv2.k8s.aws/${apiGroup.name}`;
      await c.kube.core.createNamespacedPod({
        namespace: NS,
        body: {
          metadata: { name: "api-0", labels: { app: "api" } },
          spec: {
            nodeName: c.nodeNames[0],
            containers: [{ name: "app", image: "registry.k8s.io/pause:3.10" }],
            readinessGates: [{ conditionType: gate }],
          },
        },
      });
      await c.kube.core.patchNamespacedPodStatus(
        {
          name: "api-0",
          namespace: NS,
          body: {
            status: {
              phase: "Running",
              podIP: "10.0.0.42",
              podIPs: [{ ip: "10.0.0.42" }],
              conditions: [
                { type: "ContainersReady", status: "True" },
                { type: "Ready", status: "False" },
              ],
            },
          },
        },
        mergePatch,
      );
      // Any value will do (a target that is not healthy yet gets False): it was written.
      await waitFor("the readiness gate condition", async () => {
        const pod = await c.kube.core.readNamespacedPodStatus({ name: "api-0", namespace: NS });
        return pod.status?.conditions?.some((x) => x.type === gate);
      });
      await waitFor("the multi-cluster record", () =>
        c.kube.core.readNamespacedConfigMap({ name: "aws-nlb-targets-shared", namespace: NS }),
      );
      await setEndpoints(c, NS, "shared", ["10.0.0.43"]);
      await waitFor("the record updated", async () => {
        const record = await c.kube.core.readNamespacedConfigMap({
          name: "aws-nlb-targets-shared",
          namespace: NS,
        });
        return Object.values(record.data ?? {})
          .join()
          .includes("10.0.0.43");
      });
      await annotate(c, "shared", { [`${P}multi-cluster-target-group`]: "false" });
      await annotate(c, "web", { [`${P}nlb-target-type`]: "pods" });
      await settle(m);
      for (const name of ["web", "shared", "api"])
        await c.kube.core.deleteNamespacedService({ name, namespace: NS });
      await waitFor("every NLB deleted", async () => {
        const owned = await ownedByCluster(c.elbv2, c.clusterName);
        return owned.loadBalancers.length === 0 && owned.targetGroups.length === 0;
      });
      await settle(m);
      await m.stop();
    } finally {
      await c.close();
    }

    const grants = await granted();
    const { name } = await controllerToken(cp, VALUES);
    const user = `system:serviceaccount:${CHART_NAMESPACE}:${name}`;
    const events = (await readFile(cp.auditLog, "utf8"))
      .split("\n")
      .filter(Boolean)
      .map((line) => JSON.parse(line) as AuditEvent)
      .filter(
        (e) =>
          e.user.username === user &&
          // A watch still open when the log is read has only started.
          (e.stage === "ResponseComplete" || (e.stage === "ResponseStarted" && e.verb === "watch")) &&
          e.requestReceivedTimestamp >= since &&
          e.objectRef?.resource,
      );
    const used = new Map<string, number>();
    const refused: string[] = [];
    const seen = new Set<string>();
    for (const e of events) {
      if (seen.has(e.auditID)) continue;
      seen.add(e.auditID);
      const ref = e.objectRef ?? {};
      const resource = ref.subresource ? `${ref.resource}/${ref.subresource}` : (ref.resource ?? "");
      const key = keyOf(ref.apiGroup ?? "", resource, e.verb);
      used.set(key, (used.get(key) ?? 0) + 1);
      if (e.responseStatus?.code === 403) refused.push(`${key} (${ref.name ?? "collection"})`);
    }
    assert.ok(used.size > 0, `the audit log ${cp.auditLog} has requests by ${user}`);
    assert.deepEqual(refused, [], "requests RBAC refused");
    const notGranted = [...used.keys()].filter((k) => !grants.has(k));
    assert.deepEqual(notGranted, [], "used without a grant (allowed by something wider?)");
    const unused = [...grants].filter((g) => !used.has(g)).sort();
    assert.deepEqual(unused, [], `granted but never used; used: ${[...used.keys()].sort().join(", ")}`);
  });

  it("without rbac.multiClusterTargetGroups, a multi-cluster Service is told what is missing and the others work", {
    skip,
  }, async () => {
    const c = await startTestCluster({ nodes: 1 });
    try {
      await c.kube.core.createNamespacedService({
        namespace: NS,
        body: nlbService("shared", {
          annotations: { [`${P}nlb-target-type`]: "ip", [`${P}multi-cluster-target-group`]: "true" },
        }),
      });
      await setEndpoints(c, NS, "shared", ["10.0.0.51"]);
      await c.kube.core.createNamespacedService({ namespace: NS, body: nlbService("web") });
      await c.startController();
      const warning = await waitFor("a Warning on the multi-cluster Service", async () =>
        (await c.kube.core.listNamespacedEvent({ namespace: NS })).items.find(
          (e) => e.type === "Warning" && e.involvedObject.name === "shared",
        ),
      );
      assert.match(warning.message ?? "", /configmaps/, warning.message);
      assert.match(warning.message ?? "", /forbidden/i, warning.message);
      assert.match(warning.message ?? "", /rbac\.multiClusterTargetGroups=true/, warning.message);
      await waitFor("the other Service's status", async () => {
        const web = await c.kube.core.readNamespacedService({ name: "web", namespace: NS });
        return web.status?.loadBalancer?.ingress?.[0]?.hostname;
      });
    } finally {
      await c.close();
    }
  });
});
