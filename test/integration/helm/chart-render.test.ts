// The chart rendered with its defaults and only the required clusterName: the objects, the exact
// command line, least-privilege RBAC and a hardened pod.
import assert from "node:assert/strict";
import { readFile } from "node:fs/promises";
import { before, describe, it } from "node:test";
import type {
  V1ClusterRole,
  V1ClusterRoleBinding,
  V1Deployment,
  V1PodDisruptionBudget,
  V1Role,
  V1RoleBinding,
  V1ServiceAccount,
} from "@kubernetes/client-node";
import { parse } from "yaml";
import {
  CHART_DIR,
  ensureHelm,
  HELM_SETUP_TIMEOUT_MS,
  type Manifest,
  renderChart,
} from "../../support/helm.ts";

const RELEASE = "nlb";
const NAMESPACE = "kube-system";
const FULLNAME = "nlb-aws-nlb-controller";

function only<T>(manifests: Manifest[], kind: string): T {
  const matches = manifests.filter((m) => m.kind === kind);
  assert.equal(matches.length, 1, `expected one ${kind}, found ${matches.length}`);
  return matches[0] as unknown as T;
}

function containerOf(deployment: V1Deployment) {
  const containers = deployment.spec?.template.spec?.containers ?? [];
  assert.equal(containers.length, 1);
  return containers[0]!;
}

describe("helm template with defaults and clusterName", () => {
  let manifests: Manifest[] = [];
  before(
    async () => {
      await ensureHelm();
      manifests = await renderChart({ clusterName: "prod-eu1" }, { release: RELEASE, namespace: NAMESPACE });
    },
    { timeout: HELM_SETUP_TIMEOUT_MS },
  );

  it("renders exactly the expected kinds", () => {
    const kinds = manifests.map((m) => `${m.kind}/${m.metadata.name}`).sort();
    assert.deepEqual(kinds, [
      `ClusterRole/${FULLNAME}`,
      `ClusterRoleBinding/${FULLNAME}`,
      `Deployment/${FULLNAME}`,
      `PodDisruptionBudget/${FULLNAME}`,
      `Role/${FULLNAME}-leader-election`,
      `RoleBinding/${FULLNAME}-leader-election`,
      `ServiceAccount/${FULLNAME}`,
    ]);
  });

  it("puts namespaced objects in the release namespace and labels everything the standard way", () => {
    for (const m of manifests) {
      if (!m.kind.startsWith("Cluster")) assert.equal(m.metadata.namespace, NAMESPACE, `${m.kind} namespace`);
      assert.deepEqual(
        {
          name: m.metadata.labels?.["app.kubernetes.io/name"],
          instance: m.metadata.labels?.["app.kubernetes.io/instance"],
          version: m.metadata.labels?.["app.kubernetes.io/version"],
          managedBy: m.metadata.labels?.["app.kubernetes.io/managed-by"],
          chart: m.metadata.labels?.["helm.sh/chart"],
        },
        {
          name: "aws-nlb-controller",
          instance: RELEASE,
          version: "0.1.0",
          managedBy: "Helm",
          chart: "aws-nlb-controller-0.1.0",
        },
        `${m.kind} labels`,
      );
    }
  });

  it("passes exactly the flags that follow from values.yaml", () => {
    const container = containerOf(only<V1Deployment>(manifests, "Deployment"));
    assert.equal(container.command, undefined, "the image's entrypoint must stay in charge");
    assert.deepEqual(container.args, [
      "run",
      "--cluster-name=prod-eu1",
      "--load-balancer-class=service.k8s.aws/nlb",
      "--default-target-type=instance",
      "--default-scheme=internal",
      "--concurrency=3",
      "--target-batch-window=250ms",
      "--aws-api-budget=0.5",
      "--log-level=info",
      "--metrics-bind-address=:8080",
      "--health-probe-bind-address=:8081",
      "--leader-elect",
      `--leader-election-namespace=${NAMESPACE}`,
      "--leader-election-id=aws-nlb-controller-leader",
    ]);
    assert.equal(container.env, undefined, "no AWS_REGION/AWS_ENDPOINT_URL unless set");
  });

  it("runs two replicas with probes on the probe port and the metrics port exposed", () => {
    const deployment = only<V1Deployment>(manifests, "Deployment");
    assert.equal(deployment.spec?.replicas, 2);
    const pod = deployment.spec?.template.spec;
    assert.equal(pod?.serviceAccountName, FULLNAME);
    assert.equal(pod?.priorityClassName, "system-cluster-critical");
    assert.deepEqual(pod?.nodeSelector, { "kubernetes.io/os": "linux" });
    const container = containerOf(deployment);
    assert.equal(container.image, "aws-nlb-controller:0.1.0");
    assert.deepEqual(container.ports, [
      { name: "metrics", containerPort: 8080, protocol: "TCP" },
      { name: "healthz", containerPort: 8081, protocol: "TCP" },
    ]);
    assert.deepEqual(container.livenessProbe?.httpGet, { path: "/healthz", port: "healthz" });
    assert.deepEqual(container.readinessProbe?.httpGet, { path: "/readyz", port: "healthz" });
    assert.deepEqual(container.resources, {
      requests: { cpu: "100m", memory: "128Mi" },
      limits: { memory: "512Mi" },
    });
  });

  it("hardens the pod and the container", () => {
    const deployment = only<V1Deployment>(manifests, "Deployment");
    const pod = deployment.spec?.template.spec;
    assert.equal(pod?.securityContext?.runAsNonRoot, true);
    assert.equal(pod?.securityContext?.runAsUser, 65532);
    assert.deepEqual(pod?.securityContext?.seccompProfile, { type: "RuntimeDefault" });
    assert.equal(pod?.hostNetwork, undefined);
    const security = containerOf(deployment).securityContext;
    assert.equal(security?.runAsNonRoot, true);
    assert.equal(security?.readOnlyRootFilesystem, true);
    assert.equal(security?.allowPrivilegeEscalation, false);
    assert.equal(security?.privileged, false);
    assert.deepEqual(security?.capabilities, { drop: ["ALL"] });
    assert.deepEqual(security?.seccompProfile, { type: "RuntimeDefault" });
  });

  it("runs as the same user the Dockerfile sets", async () => {
    const dockerfile = await readFile(new URL("../../../Dockerfile", import.meta.url), "utf8");
    const users = [...dockerfile.matchAll(/^USER\s+(\S+)/gm)].map((m) => m[1]);
    const pod = only<V1Deployment>(manifests, "Deployment").spec?.template.spec;
    assert.equal(users.at(-1), `${pod?.securityContext?.runAsUser}:${pod?.securityContext?.runAsGroup}`);
  });

  it("spreads the pods over zones and hosts, selecting only this release's pods", () => {
    const deployment = only<V1Deployment>(manifests, "Deployment");
    const selector = deployment.spec?.selector.matchLabels;
    assert.deepEqual(selector, {
      "app.kubernetes.io/name": "aws-nlb-controller",
      "app.kubernetes.io/instance": RELEASE,
    });
    const podLabels = deployment.spec?.template.metadata?.labels ?? {};
    for (const [key, value] of Object.entries(selector ?? {})) assert.equal(podLabels[key], value);
    const spread = deployment.spec?.template.spec?.topologySpreadConstraints ?? [];
    assert.deepEqual(
      spread.map((c) => [c.topologyKey, c.whenUnsatisfiable, c.maxSkew]),
      [
        ["topology.kubernetes.io/zone", "ScheduleAnyway", 1],
        ["kubernetes.io/hostname", "ScheduleAnyway", 1],
      ],
    );
    for (const c of spread) assert.deepEqual(c.labelSelector, { matchLabels: selector });
  });

  it("grants exactly the least-privilege cluster rules", () => {
    const role = only<V1ClusterRole>(manifests, "ClusterRole");
    const rules = (role.rules ?? []).map((r) => ({
      apiGroups: r.apiGroups,
      resources: r.resources,
      verbs: r.verbs,
      resourceNames: r.resourceNames,
    }));
    assert.deepEqual(
      rules,
      [
        { apiGroups: [""], resources: ["services"], verbs: ["list", "watch", "patch"] },
        { apiGroups: [""], resources: ["services/status"], verbs: ["patch"] },
        { apiGroups: ["discovery.k8s.io"], resources: ["endpointslices"], verbs: ["list", "watch"] },
        { apiGroups: [""], resources: ["nodes"], verbs: ["list", "watch"] },
        { apiGroups: [""], resources: ["pods"], verbs: ["list", "watch"] },
        { apiGroups: [""], resources: ["pods/status"], verbs: ["patch"] },
        { apiGroups: [""], resources: ["events"], verbs: ["create"] },
      ].map((r) => ({ ...r, resourceNames: undefined })),
    );
    assert.equal(role.aggregationRule, undefined);
    assert.ok(
      !rules.some((r) => r.resources?.includes("configmaps")),
      "no ConfigMap access unless rbac.multiClusterTargetGroups",
    );
    const binding = only<V1ClusterRoleBinding>(manifests, "ClusterRoleBinding");
    assert.deepEqual(binding.roleRef, {
      apiGroup: "rbac.authorization.k8s.io",
      kind: "ClusterRole",
      name: FULLNAME,
    });
    assert.deepEqual(binding.subjects, [{ kind: "ServiceAccount", name: FULLNAME, namespace: NAMESPACE }]);
  });

  it("limits the leader-election Role to creating leases and renewing its own", () => {
    const role = only<V1Role>(manifests, "Role");
    assert.equal(role.metadata?.namespace, NAMESPACE);
    assert.deepEqual(role.rules, [
      { apiGroups: ["coordination.k8s.io"], resources: ["leases"], verbs: ["create"] },
      {
        apiGroups: ["coordination.k8s.io"],
        resources: ["leases"],
        resourceNames: ["aws-nlb-controller-leader"],
        verbs: ["get", "update"],
      },
    ]);
    const binding = only<V1RoleBinding>(manifests, "RoleBinding");
    assert.equal(binding.roleRef.name, role.metadata?.name);
    assert.deepEqual(binding.subjects, [{ kind: "ServiceAccount", name: FULLNAME, namespace: NAMESPACE }]);
  });

  it("keeps one controller available through voluntary disruptions", () => {
    const pdb = only<V1PodDisruptionBudget>(manifests, "PodDisruptionBudget");
    assert.equal(pdb.apiVersion, "policy/v1");
    assert.equal(pdb.spec?.minAvailable, 1);
    assert.deepEqual(
      pdb.spec?.selector?.matchLabels,
      only<V1Deployment>(manifests, "Deployment").spec?.selector.matchLabels,
    );
  });

  it("creates a ServiceAccount without IRSA annotations by default", () => {
    const account = only<V1ServiceAccount>(manifests, "ServiceAccount");
    assert.equal(account.metadata?.annotations, undefined);
  });

  it("documents every top-level value in values.yaml", async () => {
    const values = parse(await readFile(`${CHART_DIR}/values.yaml`, "utf8")) as Record<string, unknown>;
    const schema = JSON.parse(await readFile(`${CHART_DIR}/values.schema.json`, "utf8")) as {
      properties: Record<string, unknown>;
    };
    const inSchema = Object.keys(schema.properties).filter((k) => k !== "global");
    assert.deepEqual(Object.keys(values).sort(), inSchema.sort());
  });
});

describe("helm template with rbac.multiClusterTargetGroups", () => {
  it("adds ConfigMap access, and only it", async () => {
    await ensureHelm();
    const manifests = await renderChart(
      { clusterName: "prod-eu1", rbac: { multiClusterTargetGroups: true } },
      { release: RELEASE, namespace: NAMESPACE },
    );
    const role = only<V1ClusterRole>(manifests, "ClusterRole");
    const configMaps = (role.rules ?? []).filter((r) => r.resources?.includes("configmaps"));
    assert.deepEqual(
      configMaps.map((r) => ({ apiGroups: r.apiGroups, resources: r.resources, verbs: r.verbs })),
      [{ apiGroups: [""], resources: ["configmaps"], verbs: ["get", "create", "update", "delete"] }],
    );
  });
});
