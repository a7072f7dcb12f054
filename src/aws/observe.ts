import {
  DescribeListenerAttributesCommand,
  DescribeListenerCertificatesCommand,
  DescribeListenersCommand,
  DescribeLoadBalancerAttributesCommand,
  DescribeLoadBalancersCommand,
  DescribeTagsCommand,
  DescribeTargetGroupAttributesCommand,
  DescribeTargetGroupsCommand,
  type ElasticLoadBalancingV2Client,
} from "@aws-sdk/client-elastic-load-balancing-v2";
import { canonicalIpv6 } from "../model/ipv6.ts";
import { LISTENER_PROTOCOLS_WITH_ATTRIBUTES } from "../model/listener-attributes.ts";
import { CLUSTER_TAG, STACK_TAG } from "../model/tags.ts";
import type {
  ActualListener,
  ActualLoadBalancer,
  ActualStack,
  ActualTargetGroup,
  Scheme,
} from "../model/types.ts";
import { isNotFound } from "./clients.ts";
import { attributesToRecord, healthCheckOf, tagsToRecord } from "./convert.ts";
import type { OwnedResources } from "./inventory.ts";

/**
 * Reads the actual stack of one Service: the NLBs and target groups the inventory knows for it,
 * re-checked against their live tags (ownership is decided by tags alone), with listeners and attributes.
 */
export async function observeStack(
  elbv2: ElasticLoadBalancingV2Client,
  owned: OwnedResources,
  clusterName: string,
  stackId: string,
  /** Ports of the listeners whose attributes the Service sets: only those are read. */
  listenerAttributePorts: ReadonlySet<number> = new Set(),
): Promise<ActualStack> {
  const known = owned.forStack(stackId);
  const lbs = await describeKnown(
    owned,
    known.loadBalancers,
    async (LoadBalancerArns) =>
      (await elbv2.send(new DescribeLoadBalancersCommand({ LoadBalancerArns }))).LoadBalancers,
  );
  const tgs = await describeKnown(
    owned,
    known.targetGroups,
    async (TargetGroupArns) =>
      (await elbv2.send(new DescribeTargetGroupsCommand({ TargetGroupArns }))).TargetGroups,
  );
  const tags = await describeTags(elbv2, [
    ...lbs.map((l) => l.LoadBalancerArn!),
    ...tgs.map((t) => t.TargetGroupArn!),
  ]);
  const ours = (arn: string) =>
    tags.get(arn)?.[CLUSTER_TAG] === clusterName && tags.get(arn)?.[STACK_TAG] === stackId;

  const loadBalancers: ActualLoadBalancer[] = [];
  const listeners: ActualListener[] = [];
  for (const lb of lbs) {
    const arn = lb.LoadBalancerArn!;
    if (!ours(arn)) {
      owned.forget(arn);
      continue;
    }
    const attrs = await elbv2.send(new DescribeLoadBalancerAttributesCommand({ LoadBalancerArn: arn }));
    loadBalancers.push({
      arn,
      name: lb.LoadBalancerName ?? "",
      dnsName: lb.DNSName ?? "",
      type: lb.Type ?? "",
      scheme: (lb.Scheme ?? "internal") as Scheme,
      ipAddressType: lb.IpAddressType ?? "ipv4",
      subnets: (lb.AvailabilityZones ?? []).map((z) => z.SubnetId ?? "").filter(Boolean),
      reportsAddresses: (lb.AvailabilityZones ?? []).some((z) => (z.LoadBalancerAddresses ?? []).length > 0),
      addresses: (lb.AvailabilityZones ?? []).flatMap((z) =>
        (z.LoadBalancerAddresses ?? [])
          .filter((a) => a.AllocationId || a.PrivateIPv4Address || a.IPv6Address)
          .map((a) => ({
            subnetId: z.SubnetId ?? "",
            ...(a.AllocationId ? { allocationId: a.AllocationId } : {}),
            ...(a.PrivateIPv4Address ? { privateIpv4Address: a.PrivateIPv4Address } : {}),
            ...(a.IPv6Address ? { ipv6Address: canonicalIpv6(a.IPv6Address) ?? a.IPv6Address } : {}),
          })),
      ),
      state: lb.State?.Code,
      securityGroups: lb.SecurityGroups ?? [],
      ...(lb.EnforceSecurityGroupInboundRulesOnPrivateLinkTraffic
        ? { privateLinkInboundRules: lb.EnforceSecurityGroupInboundRulesOnPrivateLinkTraffic }
        : {}),
      attributes: attributesToRecord(attrs.Attributes),
      tags: tags.get(arn) ?? {},
    });
    listeners.push(...(await describeListeners(elbv2, arn, listenerAttributePorts)));
  }

  const targetGroups: ActualTargetGroup[] = [];
  for (const tg of tgs) {
    const arn = tg.TargetGroupArn!;
    if (!ours(arn)) {
      owned.forget(arn);
      continue;
    }
    const attrs = await elbv2.send(new DescribeTargetGroupAttributesCommand({ TargetGroupArn: arn }));
    targetGroups.push({
      arn,
      name: tg.TargetGroupName ?? "",
      targetType: tg.TargetType ?? "",
      protocol: tg.Protocol ?? "",
      port: tg.Port ?? 0,
      ipAddressType: tg.IpAddressType ?? "ipv4",
      vpcId: tg.VpcId,
      healthCheck: healthCheckOf(tg),
      attributes: attributesToRecord(attrs.Attributes),
      tags: tags.get(arn) ?? {},
      loadBalancerArns: tg.LoadBalancerArns ?? [],
    });
  }
  return { loadBalancers, listeners, targetGroups };
}

/**
 * Describes the ARNs the inventory knows in one call. When one of them is gone AWS fails the whole
 * call, so they are then asked one by one and the missing are forgotten.
 */
async function describeKnown<T>(
  owned: OwnedResources,
  arns: string[],
  describe: (arns: string[]) => Promise<T[] | undefined>,
): Promise<T[]> {
  if (arns.length === 0) return [];
  try {
    return (await describe(arns)) ?? [];
  } catch (err) {
    if (!isNotFound(err)) throw err;
  }
  const out: T[] = [];
  for (const arn of arns) {
    try {
      out.push(...((await describe([arn])) ?? []));
    } catch (err) {
      if (!isNotFound(err)) throw err;
      owned.forget(arn);
    }
  }
  return out;
}

export async function describeTags(
  elbv2: ElasticLoadBalancingV2Client,
  arns: string[],
): Promise<Map<string, Record<string, string>>> {
  const out = new Map<string, Record<string, string>>();
  for (let i = 0; i < arns.length; i += 20) {
    const res = await elbv2.send(new DescribeTagsCommand({ ResourceArns: arns.slice(i, i + 20) }));
    for (const d of res.TagDescriptions ?? [])
      if (d.ResourceArn) out.set(d.ResourceArn, tagsToRecord(d.Tags));
  }
  return out;
}

async function describeListeners(
  elbv2: ElasticLoadBalancingV2Client,
  lbArn: string,
  listenerAttributePorts: ReadonlySet<number>,
): Promise<ActualListener[]> {
  const out: ActualListener[] = [];
  let marker: string | undefined;
  do {
    const page = await elbv2.send(new DescribeListenersCommand({ LoadBalancerArn: lbArn, Marker: marker }));
    for (const l of page.Listeners ?? []) {
      const forward = l.DefaultActions?.find((a) => a.Type === "forward");
      const defaultCertificates = (l.Certificates ?? []).map((c) => c.CertificateArn ?? "").filter(Boolean);
      // A TLS listener's extra certificates are only listed by DescribeListenerCertificates.
      const certificates =
        l.Protocol === "TLS" && l.ListenerArn
          ? await listenerCertificates(elbv2, l.ListenerArn, defaultCertificates)
          : defaultCertificates;
      out.push({
        arn: l.ListenerArn ?? "",
        loadBalancerArn: lbArn,
        port: l.Port ?? 0,
        protocol: l.Protocol ?? "",
        targetGroupArn: forward?.TargetGroupArn ?? forward?.ForwardConfig?.TargetGroups?.[0]?.TargetGroupArn,
        certificates,
        sslPolicy: l.SslPolicy,
        alpnPolicy: l.AlpnPolicy?.[0],
        ...(l.ListenerArn &&
        LISTENER_PROTOCOLS_WITH_ATTRIBUTES.has(l.Protocol ?? "") &&
        listenerAttributePorts.has(l.Port ?? 0)
          ? { attributes: await listenerAttributes(elbv2, l.ListenerArn) }
          : {}),
      });
    }
    marker = page.NextMarker;
  } while (marker);
  return out;
}

/**
 * Read only for TCP listeners (the only ones with attributes) whose attributes the Service sets, and
 * only on the full observe path: a Service whose stack is unchanged since its last apply is not
 * described at all.
 */
async function listenerAttributes(
  elbv2: ElasticLoadBalancingV2Client,
  listenerArn: string,
): Promise<Record<string, string>> {
  const out = await elbv2.send(new DescribeListenerAttributesCommand({ ListenerArn: listenerArn }));
  return attributesToRecord(out.Attributes);
}

/** The default certificate first, then the others, as ListenerSpec.certificates orders them. */
async function listenerCertificates(
  elbv2: ElasticLoadBalancingV2Client,
  listenerArn: string,
  defaults: string[],
): Promise<string[]> {
  const all: { arn: string; isDefault: boolean }[] = [];
  let marker: string | undefined;
  do {
    const page = await elbv2.send(
      new DescribeListenerCertificatesCommand({ ListenerArn: listenerArn, Marker: marker }),
    );
    for (const c of page.Certificates ?? []) {
      if (c.CertificateArn) all.push({ arn: c.CertificateArn, isDefault: c.IsDefault === true });
    }
    marker = page.NextMarker;
  } while (marker);
  const first = all.find((c) => c.isDefault)?.arn ?? defaults[0];
  const others = [...new Set(all.map((c) => c.arn))].filter((arn) => arn !== first).sort();
  return first ? [first, ...others] : others;
}
