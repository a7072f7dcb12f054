// The chart under non-default values: each value lands where it should, and only there.
import assert from "node:assert/strict";
import { before, describe, it } from "node:test";
import type { V1Deployment, V1Role, V1Service, V1ServiceAccount } from "@kubernetes/client-node";
import { ensureHelm, HELM_SETUP_TIMEOUT_MS, type Manifest, renderChart } from "../../support/helm.ts";

const FULLNAME = "nlb-aws-nlb-controller";

function find<T>(manifests: Manifest[], kind: string): T[] {
  return manifests.filter((m) => m.kind === kind) as unknown as T[];
}

function deploymentOf(manifests: Manifest[]): V1Deployment {
  const [deployment] = find<V1Deployment>(manifests, "Deployment");
  assert.ok(deployment, "no Deployment rendered");
  return deployment;
}

function argsOf(manifests: Manifest[]): string[] {
  return deploymentOf(manifests).spec?.template.spec?.containers[0]?.args ?? [];
}

function kinds(manifests: Manifest[]): string[] {
  return manifests.map((m) => m.kind).sort();
}

describe("chart values", () => {
  before(
    async () => {
      await ensureHelm();
    },
    { timeout: HELM_SETUP_TIMEOUT_MS },
  );

  it("with one replica drops the PodDisruptionBudget and keeps leader election", async () => {
    const manifests = await renderChart({ clusterName: "c1", replicaCount: 1 });
    assert.equal(deploymentOf(manifests).spec?.replicas, 1);
    assert.equal(find(manifests, "PodDisruptionBudget").length, 0);
    assert.ok(argsOf(manifests).includes("--leader-elect"));
    assert.equal(find(manifests, "Role").length, 1, "the lease Role is still needed");
  });

  it("with one replica and leader election off passes no election flag and grants no lease access", async () => {
    const manifests = await renderChart({
      clusterName: "c1",
      replicaCount: 1,
      leaderElection: { enabled: false },
    });
    assert.equal(
      argsOf(manifests).some((a) => a.startsWith("--leader-elect")),
      false,
    );
    assert.deepEqual(kinds(manifests), ["ClusterRole", "ClusterRoleBinding", "Deployment", "ServiceAccount"]);
  });

  it("turns every controller setting into its flag, in a stable order", async () => {
    const manifests = await renderChart({
      clusterName: "c1",
      awsRegion: "eu-west-1",
      awsEndpointUrl: "http://127.0.0.1:4566",
      vpcId: "vpc-0123456789abcdef0",
      loadBalancerClass: "example.com/nlb",
      defaultTargetType: "ip",
      defaultScheme: "internet-facing",
      defaultTags: { team: "platform", "cost-center": "a b:c" },
      concurrency: 8,
      targetBatchWindow: "1s",
      awsApiBudget: 0.25,
      awsApiThrottle: ["elbv2:RegisterTargets|DeregisterTargets=4:20", "ec2:Describe.*=10:40"],
      logLevel: "debug",
      metrics: { port: 9090 },
      healthProbe: { port: 9091 },
      leaderElection: { namespace: "controllers", id: "my-lease" },
      extraArgs: ["--some-future-flag=x", "--another"],
    });
    assert.deepEqual(argsOf(manifests), [
      "run",
      "--cluster-name=c1",
      "--aws-region=eu-west-1",
      "--aws-endpoint-url=http://127.0.0.1:4566",
      "--vpc-id=vpc-0123456789abcdef0",
      "--load-balancer-class=example.com/nlb",
      "--default-target-type=ip",
      "--default-scheme=internet-facing",
      "--default-tags=cost-center=a b:c,team=platform",
      "--concurrency=8",
      "--target-batch-window=1s",
      "--aws-api-budget=0.25",
      "--aws-api-throttle=elbv2:RegisterTargets|DeregisterTargets=4:20,ec2:Describe.*=10:40",
      "--log-level=debug",
      "--metrics-bind-address=:9090",
      "--health-probe-bind-address=:9091",
      "--leader-elect",
      "--leader-election-namespace=controllers",
      "--leader-election-id=my-lease",
      "--some-future-flag=x",
      "--another",
    ]);
    const container = deploymentOf(manifests).spec?.template.spec?.containers[0];
    assert.deepEqual(
      container?.ports?.map((p) => [p.name, p.containerPort]),
      [
        ["metrics", 9090],
        ["healthz", 9091],
      ],
    );
    const [role] = find<V1Role>(manifests, "Role");
    assert.equal(role?.metadata?.namespace, "controllers", "the lease Role lives where the lease is");
    assert.deepEqual(role?.rules?.[1]?.resourceNames, ["my-lease"]);
  });

  it("sets AWS_REGION and AWS_ENDPOINT_URL before the user's env", async () => {
    const manifests = await renderChart({
      clusterName: "c1",
      awsRegion: "us-east-2",
      awsEndpointUrl: "https://elb.example.internal",
      env: [
        { name: "HTTPS_PROXY", value: "http://proxy:3128" },
        { name: "POD_NAME", valueFrom: { fieldRef: { fieldPath: "metadata.name" } } },
      ],
    });
    assert.deepEqual(deploymentOf(manifests).spec?.template.spec?.containers[0]?.env, [
      { name: "AWS_REGION", value: "us-east-2" },
      { name: "AWS_ENDPOINT_URL", value: "https://elb.example.internal" },
      { name: "HTTPS_PROXY", value: "http://proxy:3128" },
      { name: "POD_NAME", valueFrom: { fieldRef: { fieldPath: "metadata.name" } } },
    ]);
  });

  it("annotates the ServiceAccount for IRSA", async () => {
    const roleArn = "arn:aws:iam::111122223333:role/nlb-controller";
    const manifests = await renderChart({
      clusterName: "c1",
      serviceAccount: { annotations: { "eks.amazonaws.com/role-arn": roleArn }, labels: { team: "net" } },
    });
    const [account] = find<V1ServiceAccount>(manifests, "ServiceAccount");
    assert.deepEqual(account?.metadata?.annotations, { "eks.amazonaws.com/role-arn": roleArn });
    assert.equal(account?.metadata?.labels?.team, "net");
  });

  it("uses an existing ServiceAccount by name when told not to create one", async () => {
    const manifests = await renderChart({
      clusterName: "c1",
      serviceAccount: { create: false, name: "existing" },
    });
    assert.equal(find(manifests, "ServiceAccount").length, 0);
    assert.equal(deploymentOf(manifests).spec?.template.spec?.serviceAccountName, "existing");
    for (const binding of manifests.filter((m) => m.kind.endsWith("RoleBinding"))) {
      assert.deepEqual((binding as unknown as { subjects: unknown }).subjects, [
        { kind: "ServiceAccount", name: "existing", namespace: "kube-system" },
      ]);
    }
  });

  it("renders no RBAC when rbac.create is false", async () => {
    const manifests = await renderChart({ clusterName: "c1", rbac: { create: false } });
    assert.deepEqual(kinds(manifests), ["Deployment", "PodDisruptionBudget", "ServiceAccount"]);
  });

  it("adds a metrics Service and a ServiceMonitor that select the controller pods", async () => {
    const manifests = await renderChart({
      clusterName: "c1",
      metrics: {
        serviceMonitor: { enabled: true, interval: "15s", scrapeTimeout: "10s", labels: { release: "prom" } },
      },
    });
    const [service] = find<V1Service>(manifests, "Service");
    const [monitor] = manifests.filter((m) => m.kind === "ServiceMonitor");
    assert.ok(service && monitor);
    assert.equal(monitor.apiVersion, "monitoring.coreos.com/v1");
    assert.equal(monitor.metadata.labels?.release, "prom");
    const podLabels = deploymentOf(manifests).spec?.template.metadata?.labels ?? {};
    for (const [key, value] of Object.entries(service.spec?.selector ?? {}))
      assert.equal(podLabels[key], value);
    assert.deepEqual(service.spec?.ports, [
      { name: "metrics", port: 8080, targetPort: "metrics", protocol: "TCP" },
    ]);
    const spec = monitor.spec as {
      selector: { matchLabels: Record<string, string> };
      endpoints: unknown[];
      namespaceSelector: unknown;
    };
    for (const [key, value] of Object.entries(spec.selector.matchLabels)) {
      assert.equal(service.metadata?.labels?.[key], value);
    }
    assert.deepEqual(spec.endpoints, [
      { port: "metrics", path: "/metrics", interval: "15s", scrapeTimeout: "10s" },
    ]);
    assert.deepEqual(spec.namespaceSelector, { matchNames: ["kube-system"] });
  });

  it("renders no ServiceMonitor by default", async () => {
    const manifests = await renderChart({ clusterName: "c1" });
    assert.equal(manifests.filter((m) => m.kind === "ServiceMonitor" || m.kind === "Service").length, 0);
  });

  it("places and decorates the pods as asked", async () => {
    const toleration = { key: "dedicated", operator: "Equal", value: "system", effect: "NoSchedule" };
    const affinity = {
      nodeAffinity: {
        requiredDuringSchedulingIgnoredDuringExecution: {
          nodeSelectorTerms: [{ matchExpressions: [{ key: "pool", operator: "In", values: ["system"] }] }],
        },
      },
    };
    const ownSpread = {
      maxSkew: 2,
      topologyKey: "topology.kubernetes.io/zone",
      whenUnsatisfiable: "DoNotSchedule",
      labelSelector: { matchLabels: { custom: "yes" } },
    };
    const manifests = await renderChart({
      clusterName: "c1",
      podAnnotations: { "example.com/scrape": "true" },
      podLabels: { team: "net" },
      nodeSelector: { pool: "system" },
      tolerations: [toleration],
      affinity,
      topologySpreadConstraints: [ownSpread],
      priorityClassName: "",
      imagePullSecrets: [{ name: "regcred" }],
      image: {
        repository: "123456789012.dkr.ecr.eu-west-1.amazonaws.com/nlb",
        digest: `sha256:${"a".repeat(64)}`,
      },
      resources: { requests: { cpu: "50m", memory: "64Mi" }, limits: { cpu: 1, memory: "256Mi" } },
    });
    const template = deploymentOf(manifests).spec?.template;
    assert.deepEqual(template?.metadata?.annotations, { "example.com/scrape": "true" });
    assert.equal(template?.metadata?.labels?.team, "net");
    const pod = template?.spec;
    // Helm merges maps into the defaults of values.yaml; lists replace them.
    assert.deepEqual(pod?.nodeSelector, { "kubernetes.io/os": "linux", pool: "system" });
    assert.deepEqual(pod?.tolerations, [toleration]);
    assert.deepEqual(pod?.affinity, affinity);
    assert.deepEqual(pod?.topologySpreadConstraints, [ownSpread], "a given labelSelector is kept as it is");
    assert.equal(pod?.priorityClassName, undefined);
    assert.deepEqual(pod?.imagePullSecrets, [{ name: "regcred" }]);
    assert.equal(
      pod?.containers[0]?.image,
      `123456789012.dkr.ecr.eu-west-1.amazonaws.com/nlb@sha256:${"a".repeat(64)}`,
    );
    assert.deepEqual(pod?.containers[0]?.resources, {
      requests: { cpu: "50m", memory: "64Mi" },
      limits: { cpu: 1, memory: "256Mi" },
    });
  });

  it("names resources after fullnameOverride and tags the image with image.tag", async () => {
    const manifests = await renderChart({
      clusterName: "c1",
      fullnameOverride: "nlb-controller",
      image: { tag: "0.2.0-rc.1" },
    });
    for (const m of manifests)
      assert.ok(m.metadata.name.startsWith("nlb-controller"), `${m.kind} ${m.metadata.name}`);
    assert.equal(
      deploymentOf(manifests).spec?.template.spec?.containers[0]?.image,
      "aws-nlb-controller:0.2.0-rc.1",
    );
    assert.equal(
      manifests.some((m) => m.metadata.name.startsWith(FULLNAME)),
      false,
    );
  });
});
