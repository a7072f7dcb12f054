import { setTimeout as sleep } from "node:timers/promises";
import {
  AddListenerCertificatesCommand,
  AddTagsCommand,
  CreateListenerCommand,
  CreateLoadBalancerCommand,
  CreateTargetGroupCommand,
  DeleteListenerCommand,
  DeleteLoadBalancerCommand,
  DeleteTargetGroupCommand,
  DescribeTargetGroupsCommand,
  type ElasticLoadBalancingV2Client,
  type IpAddressType,
  ModifyListenerAttributesCommand,
  ModifyListenerCommand,
  ModifyLoadBalancerAttributesCommand,
  ModifyTargetGroupAttributesCommand,
  ModifyTargetGroupCommand,
  RemoveListenerCertificatesCommand,
  RemoveTagsCommand,
  SetIpAddressTypeCommand,
  SetSecurityGroupsCommand,
  SetSubnetsCommand,
} from "@aws-sdk/client-elastic-load-balancing-v2";
import { CLUSTER_TAG, RESOURCE_TAG, STACK_TAG } from "../model/tags.ts";
import type { ListenerSpec, TargetGroupSpec } from "../model/types.ts";
import type { Change, TargetGroupRef } from "../plan/changes.ts";
import { errorName, isNotFound } from "./clients.ts";
import { healthCheckInput, recordToAttributes, recordToTags } from "./convert.ts";
import type { OwnedResources } from "./inventory.ts";
import { describeTags } from "./observe.ts";
import type { TargetRecord, TargetRegistry } from "./targets.ts";

export interface ApplyContext {
  elbv2: ElasticLoadBalancingV2Client;
  owned: OwnedResources;
  targets: TargetRegistry;
  /** Set when the stack's target groups are shared with other clusters (multi-cluster-target-group). */
  record?: () => TargetRecord | undefined;
  stackId: string;
  vpcId: string;
  /** ARN of the NLB the stack keeps, when it already exists. */
  loadBalancerArn?: string;
  dnsName?: string;
  /** How long a target group still in use after its listener went away is retried. */
  inUseRetryMs?: number;
}

export interface ApplyResult {
  loadBalancerArn?: string;
  dnsName?: string;
  /** desired target group id -> ARN, for the groups this apply created. */
  created: Map<string, string>;
}

/** Carries out a plan's changes in order. Holds no decisions: every choice was made by plan(). */
export async function applyChanges(changes: Change[], ctx: ApplyContext): Promise<ApplyResult> {
  const created = new Map<string, string>();
  const empty = new Set<string>();
  const listeners = new Map<number, string>();
  let lbArn = ctx.loadBalancerArn;
  let dnsName = ctx.dnsName;
  const arnOf = (ref: TargetGroupRef): string => {
    if ("arn" in ref) return ref.arn;
    const arn = created.get(ref.id);
    if (!arn) throw new Error(`target group ${ref.id} was not created before it was used`);
    return arn;
  };
  const { elbv2 } = ctx;

  for (const change of changes) {
    switch (change.kind) {
      case "deleteLoadBalancer":
        await ignoreNotFound(elbv2.send(new DeleteLoadBalancerCommand({ LoadBalancerArn: change.arn })));
        ctx.owned.forget(change.arn);
        if (lbArn === change.arn) lbArn = undefined;
        break;
      case "createTargetGroup": {
        const s = change.spec;
        const { arn, existed } = await createTargetGroup(ctx, s);
        created.set(s.id, arn);
        if (!existed) empty.add(arn);
        ctx.owned.remember(ctx.stackId, "targetGroups", arn, s.id);
        break;
      }
      case "modifyTargetGroupHealthCheck":
        await elbv2.send(
          new ModifyTargetGroupCommand({
            TargetGroupArn: change.arn,
            ...healthCheckInput(change.healthCheck),
          }),
        );
        break;
      case "modifyTargetGroupAttributes":
        await elbv2.send(
          new ModifyTargetGroupAttributesCommand({
            TargetGroupArn: change.arn || arnOf({ id: change.id }),
            Attributes: recordToAttributes(change.attributes),
          }),
        );
        break;
      case "createLoadBalancer": {
        const s = change.spec;
        const out = await elbv2.send(
          new CreateLoadBalancerCommand({
            Name: s.name,
            Type: "network",
            Scheme: s.scheme,
            IpAddressType: s.ipAddressType as IpAddressType,
            ...(change.subnetMappings.some((m) => m.allocationId || m.privateIpv4Address || m.ipv6Address)
              ? {
                  SubnetMappings: change.subnetMappings.map((m) => ({
                    SubnetId: m.subnetId,
                    ...(m.allocationId ? { AllocationId: m.allocationId } : {}),
                    ...(m.privateIpv4Address ? { PrivateIPv4Address: m.privateIpv4Address } : {}),
                    ...(m.ipv6Address ? { IPv6Address: m.ipv6Address } : {}),
                  })),
                }
              : { Subnets: change.subnetMappings.map((m) => m.subnetId) }),
            ...(change.securityGroups ? { SecurityGroups: change.securityGroups } : {}),
            Tags: recordToTags(s.tags),
          }),
        );
        const lb = out.LoadBalancers?.[0];
        if (!lb?.LoadBalancerArn) throw new Error(`CreateLoadBalancer returned no ARN for ${s.name}`);
        lbArn = lb.LoadBalancerArn;
        dnsName = lb.DNSName;
        ctx.owned.remember(ctx.stackId, "loadBalancers", lbArn, "LoadBalancer");
        if (Object.keys(s.attributes).length > 0) {
          await elbv2.send(
            new ModifyLoadBalancerAttributesCommand({
              LoadBalancerArn: lbArn,
              Attributes: recordToAttributes(s.attributes),
            }),
          );
        }
        break;
      }
      case "setSecurityGroups": {
        const arn = change.arn || lbArn;
        if (!arn) throw new Error("setSecurityGroups before the NLB exists");
        await elbv2.send(
          new SetSecurityGroupsCommand({
            LoadBalancerArn: arn,
            SecurityGroups: change.securityGroups,
            ...(change.privateLinkInboundRules
              ? { EnforceSecurityGroupInboundRulesOnPrivateLinkTraffic: change.privateLinkInboundRules }
              : {}),
          }),
        );
        break;
      }
      case "setSubnets":
        await elbv2.send(new SetSubnetsCommand({ LoadBalancerArn: change.arn, Subnets: change.subnetIds }));
        break;
      case "setIpAddressType":
        await elbv2.send(
          new SetIpAddressTypeCommand({
            LoadBalancerArn: change.arn,
            IpAddressType: change.ipAddressType as IpAddressType,
          }),
        );
        break;
      case "modifyLoadBalancerAttributes":
        await elbv2.send(
          new ModifyLoadBalancerAttributesCommand({
            LoadBalancerArn: change.arn,
            Attributes: recordToAttributes(change.attributes),
          }),
        );
        break;
      case "updateTags":
        if (Object.keys(change.add).length > 0) {
          await elbv2.send(
            new AddTagsCommand({ ResourceArns: [change.arn], Tags: recordToTags(change.add) }),
          );
        }
        if (change.remove.length > 0) {
          await elbv2.send(new RemoveTagsCommand({ ResourceArns: [change.arn], TagKeys: change.remove }));
        }
        break;
      case "deleteListener":
        await ignoreNotFound(elbv2.send(new DeleteListenerCommand({ ListenerArn: change.arn })));
        break;
      case "createListener":
        if (!lbArn) throw new Error("no load balancer to add a listener to");
        try {
          const out = await elbv2.send(
            new CreateListenerCommand({
              LoadBalancerArn: lbArn,
              ...listenerInput(change.spec, arnOf(change.targetGroup)),
              Tags: recordToTags(change.tags),
            }),
          );
          const arn = out.Listeners?.[0]?.ListenerArn;
          if (arn) listeners.set(change.spec.port, arn);
        } catch (err) {
          // Our own earlier call made it and its answer was lost: the next observe sees the listener.
          if (errorName(err) !== "DuplicateListenerException") throw err;
        }
        break;
      case "setListenerCertificates": {
        const arn = "arn" in change.listener ? change.listener.arn : listeners.get(change.listener.port);
        if (!arn) break; // its listener was not created here; the next reconcile adds the certificates
        if (change.add.length > 0) {
          await elbv2.send(
            new AddListenerCertificatesCommand({
              ListenerArn: arn,
              Certificates: change.add.map((CertificateArn) => ({ CertificateArn })),
            }),
          );
        }
        if (change.remove.length > 0) {
          await elbv2.send(
            new RemoveListenerCertificatesCommand({
              ListenerArn: arn,
              Certificates: change.remove.map((CertificateArn) => ({ CertificateArn })),
            }),
          );
        }
        break;
      }
      case "modifyListenerAttributes": {
        const arn = "arn" in change.listener ? change.listener.arn : listeners.get(change.listener.port);
        if (!arn) break; // its listener was not created here; the next reconcile sets them
        await elbv2.send(
          new ModifyListenerAttributesCommand({
            ListenerArn: arn,
            Attributes: recordToAttributes(change.attributes),
          }),
        );
        break;
      }
      case "modifyListener":
        await elbv2.send(
          new ModifyListenerCommand({
            ListenerArn: change.arn,
            ...changedFields(listenerInput(change.spec, arnOf(change.targetGroup)), change.fields),
          }),
        );
        break;
      case "deleteTargetGroup":
        await deleteTargetGroup(elbv2, change.arn, ctx.inUseRetryMs ?? 60_000);
        ctx.owned.forget(change.arn);
        ctx.targets.forget(change.arn);
        break;
      case "registerTargets":
        // A group just made has no targets: no read. One adopted after DuplicateTargetGroupName may.
        await ctx.targets.sync(arnOf(change.targetGroup), change.targets, {
          empty: empty.has(arnOf(change.targetGroup)),
          record: ctx.record,
        });
        break;
    }
  }
  return { loadBalancerArn: lbArn, dnsName, created };
}

/**
 * Creates a target group. AWS answers DuplicateTargetGroupName when the name exists with other
 * settings, or (some emulators) even with the same ones, e.g. after our own create whose answer was
 * lost. Such a group is adopted only when its tags say it is this very stack's; otherwise it is refused.
 */
/** The group's ARN, and whether it existed already (then it may hold targets). */
async function createTargetGroup(
  ctx: ApplyContext,
  s: TargetGroupSpec,
): Promise<{ arn: string; existed: boolean }> {
  try {
    const out = await ctx.elbv2.send(
      new CreateTargetGroupCommand({
        Name: s.name,
        Protocol: s.protocol,
        Port: s.port,
        VpcId: ctx.vpcId,
        TargetType: s.targetType,
        IpAddressType: s.ipAddressType,
        ...healthCheckInput(s.healthCheck),
        Tags: recordToTags(s.tags),
      }),
    );
    const arn = out.TargetGroups?.[0]?.TargetGroupArn;
    if (!arn) throw new Error(`CreateTargetGroup returned no ARN for ${s.id}`);
    return { arn, existed: false };
  } catch (err) {
    if (errorName(err) !== "DuplicateTargetGroupNameException") throw err;
    const existing = (await ctx.elbv2.send(new DescribeTargetGroupsCommand({ Names: [s.name] })))
      .TargetGroups?.[0];
    const arn = existing?.TargetGroupArn;
    const tags = arn ? (await describeTags(ctx.elbv2, [arn])).get(arn) : undefined;
    if (!arn || !sameOwner(tags, s.tags)) {
      throw new Error(
        `a target group named ${s.name} already exists and is not tagged for ${s.id}: not touching it`,
      );
    }
    return { arn, existed: true };
  }
}

const sameOwner = (have: Record<string, string> | undefined, want: Record<string, string>): boolean =>
  [CLUSTER_TAG, STACK_TAG, RESOURCE_TAG].every((k) => have?.[k] !== undefined && have[k] === want[k]);

function listenerInput(spec: ListenerSpec, targetGroupArn: string) {
  return {
    Protocol: spec.protocol,
    Port: spec.port,
    DefaultActions: [{ Type: "forward" as const, TargetGroupArn: targetGroupArn }],
    // Only the default certificate goes here; the others are added with AddListenerCertificates.
    ...(spec.certificates?.[0] ? { Certificates: [{ CertificateArn: spec.certificates[0] }] } : {}),
    ...(spec.sslPolicy ? { SslPolicy: spec.sslPolicy } : {}),
    ...(spec.alpnPolicy ? { AlpnPolicy: [spec.alpnPolicy] } : {}),
  };
}

/** Only what changed is sent: a protocol switch to TLS carries its certificate and policy along. */
function changedFields(input: ReturnType<typeof listenerInput>, fields: string[]) {
  const has = (f: string) => fields.includes(f);
  const toTls = has("protocol") && input.Protocol === "TLS";
  return {
    ...(has("protocol") ? { Protocol: input.Protocol, Port: input.Port } : {}),
    ...(has("defaultAction") ? { DefaultActions: input.DefaultActions } : {}),
    ...((has("certificates") || toTls) && input.Certificates ? { Certificates: input.Certificates } : {}),
    ...((has("sslPolicy") || toTls) && input.SslPolicy ? { SslPolicy: input.SslPolicy } : {}),
    ...(has("alpnPolicy") || toTls ? { AlpnPolicy: input.AlpnPolicy ?? ["None"] } : {}),
  };
}

/** A target group stays "in use" for a moment after its listener or NLB is deleted; retry until it is free. */
async function deleteTargetGroup(
  elbv2: ElasticLoadBalancingV2Client,
  arn: string,
  retryMs: number,
): Promise<void> {
  const deadline = Date.now() + retryMs;
  for (let delay = 500; ; delay = Math.min(delay * 2, 5000)) {
    try {
      await elbv2.send(new DeleteTargetGroupCommand({ TargetGroupArn: arn }));
      return;
    } catch (err) {
      if (isNotFound(err)) return;
      if (errorName(err) !== "ResourceInUseException" || Date.now() + delay > deadline) throw err;
      await sleep(delay);
    }
  }
}

async function ignoreNotFound(p: Promise<unknown>): Promise<void> {
  try {
    await p;
  } catch (err) {
    if (!isNotFound(err)) throw err;
  }
}
