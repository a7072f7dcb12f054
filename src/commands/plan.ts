import type { EC2Client } from "@aws-sdk/client-ec2";
import { makeClients } from "../aws/clients.ts";
import { OwnedResources } from "../aws/inventory.ts";
import { observeStack } from "../aws/observe.ts";
import { observeSecurityGroups } from "../aws/security-groups.ts";
import { FlagError, resolveConfig } from "../config.ts";
import { managedGroupOf } from "../controller/security-groups.ts";
import { closeKubeConnections, loadKubeConfig, makeKubeApis } from "../kube/client.ts";
import { isSecurityGroupId } from "../model/annotation-values.ts";
import { build } from "../model/build.ts";
import { listenerAttributePorts } from "../model/listener-attributes.ts";
import { sourceText } from "../model/security-groups.ts";
import { isSelected } from "../model/selection.ts";
import type {
  ActualStack,
  BuildConfig,
  DesiredStack,
  EndpointSlice,
  IngressRule,
  Node,
  Service,
} from "../model/types.ts";
import { type Plan, replacementMessage } from "../plan/changes.ts";
import { keptLoadBalancer, plan } from "../plan/plan.ts";
import { canHaveSecurityGroups, planRules } from "../plan/security-groups.ts";
import { readManifests } from "./manifests.ts";
import { renderChanges, renderStack } from "./render.ts";

interface PlanOptions {
  filename: string[];
  clusterName?: string;
  output: "json" | "table";
  loadBalancerClass: string;
  defaultTargetType: string;
  defaultScheme: string;
  diff?: string;
  kubeconfig?: string;
  awsRegion?: string;
  awsEndpointUrl?: string;
}

export async function planCommand(opts: PlanOptions): Promise<void> {
  const config = resolveConfig({
    clusterName: opts.clusterName,
    loadBalancerClass: opts.loadBalancerClass,
    defaultTargetType: opts.defaultTargetType,
    defaultScheme: opts.defaultScheme,
    awsRegion: opts.awsRegion,
    awsEndpointUrl: opts.awsEndpointUrl,
    kubeconfig: opts.kubeconfig,
  });
  const buildConfig: BuildConfig = {
    clusterName: config.clusterName,
    loadBalancerClass: config.loadBalancerClass,
    defaultTargetType: config.defaultTargetType,
    defaultScheme: config.defaultScheme,
    defaultTags: config.defaultTags,
  };
  if (opts.diff) return diff(opts.diff, buildConfig, opts);
  if (opts.filename.length === 0)
    throw new FlagError("--filename (-f) is required: the manifest files to plan");

  const manifests = readManifests(opts.filename);
  const problems = [...manifests.problems];
  const stacks: DesiredStack[] = [];
  for (const svc of manifests.services) {
    const id = `${svc.metadata.namespace}/${svc.metadata.name}`;
    if (!isSelected(svc, config.loadBalancerClass)) {
      process.stderr.write(
        `not selected: service ${id} (not type LoadBalancer of class ${config.loadBalancerClass} or an NLB type annotation)\n`,
      );
      continue;
    }
    const slices = manifests.slices.filter(
      (s) =>
        s.metadata.namespace === svc.metadata.namespace &&
        s.metadata.labels?.["kubernetes.io/service-name"] === svc.metadata.name,
    );
    const result = build(svc, slices, manifests.nodes, buildConfig);
    if (result.ok) stacks.push(result.stack);
    else problems.push(...result.problems.map((p) => p.message));
  }
  if (problems.length > 0) {
    for (const p of problems) process.stderr.write(`${p}\n`);
    process.exit(1);
  }
  process.stdout.write(
    opts.output === "json" ? `${JSON.stringify(stacks, null, 2)}\n` : stacks.map(renderStack).join("\n"),
  );
}

async function diff(target: string, buildConfig: BuildConfig, opts: PlanOptions): Promise<void> {
  const m = /^([a-z0-9-]{1,63})\/([a-z0-9.-]{1,253})$/.exec(target);
  if (!m) throw new FlagError(`--diff: "${target}" is not valid: NAMESPACE/NAME of a Service`);
  const [, namespace = "", name = ""] = m;
  const kube = makeKubeApis(loadKubeConfig(opts.kubeconfig));
  const svc = (await kube.core.readNamespacedService({ name, namespace })) as unknown as Service;
  const slices = (
    await kube.discovery.listNamespacedEndpointSlice({
      namespace,
      labelSelector: `kubernetes.io/service-name=${name}`,
    })
  ).items as unknown as EndpointSlice[];
  const nodes = (await kube.core.listNode()).items as unknown as Node[];
  if (!isSelected(svc, buildConfig.loadBalancerClass)) {
    process.stdout.write(
      `service ${target} is not selected by class ${buildConfig.loadBalancerClass}: nothing to do\n`,
    );
    return;
  }
  const result = build(svc, slices, nodes, buildConfig);
  if (!result.ok) {
    for (const p of result.problems) process.stderr.write(`${p.message}\n`);
    process.exit(1);
  }
  const aws = makeClients({ region: opts.awsRegion, endpoint: opts.awsEndpointUrl });
  const owned = new OwnedResources(aws.elbv2, buildConfig.clusterName);
  await owned.scan();
  const actual = await observeStack(
    aws.elbv2,
    owned,
    buildConfig.clusterName,
    target,
    listenerAttributePorts(result.stack),
  );
  const explicitName = Boolean(
    svc.metadata.annotations?.["service.beta.kubernetes.io/aws-load-balancer-name"],
  );
  const input = { desired: result.stack, actual, subnetIds: [], explicitName };
  const first = plan(input);
  const groups = await securityGroupPreview(
    aws.ec2,
    buildConfig.clusterName,
    target,
    result.stack,
    actual,
    first,
  );
  const changes = groups.ids ? plan({ ...input, securityGroupIds: groups.ids }) : first;
  for (const r of changes.replacements) process.stdout.write(`REPLACE ${replacementMessage(r)}\n`);
  process.stdout.write(groups.lines.map((line) => `${line}\n`).join(""));
  process.stdout.write(renderChanges(changes.changes));
  aws.elbv2.destroy();
  aws.ec2.destroy();
  await closeKubeConnections(kube.config);
}

/**
 * What would happen to the NLB's security groups: the managed group (created, or its listener rules
 * changed) or the given groups' IDs. Backend rules depend on the targets' interfaces and are left to
 * the reconcile.
 */
async function securityGroupPreview(
  ec2: EC2Client,
  clusterName: string,
  target: string,
  desired: DesiredStack,
  actual: ActualStack,
  first: Plan,
): Promise<{ ids?: string[]; lines: string[] }> {
  if (!canHaveSecurityGroups(keptLoadBalancer(first, actual.loadBalancers)))
    return { lines: ["= security groups: none (the NLB was created without any; AWS cannot add them)"] };
  const spec = desired.securityGroups;
  if (!spec.managed) {
    const given = spec.given ?? [];
    const ids = given.filter(isSecurityGroupId);
    const names = given.filter((g) => !ids.includes(g));
    const lines =
      names.length > 0 ? [`= security group names ${names.join(", ")} are looked up at reconcile`] : [];
    return names.length > 0 ? { lines } : { ids, lines };
  }
  const state = await observeSecurityGroups(ec2, clusterName, target);
  const group = managedGroupOf(state, spec.managed.name);
  if (!group)
    return {
      lines: [
        `+ create security group ${spec.managed.name} with ${spec.managed.ingress.length} listener rules`,
      ],
    };
  const rules = planRules(
    spec.managed.ingress.map((rule) => ({ groupId: group.id, rule })),
    state.rules.filter((r) => r.groupId === group.id),
  );
  const text = (r: IngressRule) =>
    `${r.protocol}:${r.fromPort}${r.toPort !== r.fromPort ? `-${r.toPort}` : ""} from ${sourceText(r.source)}`;
  const lines = [
    ...[...rules.authorize.values()].flat().map((r) => `+ allow ${text(r)} on ${group.id}`),
    ...[...rules.revoke.values()].flat().map((id) => `- revoke rule ${id} on ${group.id}`),
  ];
  return { ids: [group.id], lines };
}
