// EC2 security groups and rules: reads by ownership tags, writes as told. No decisions here.
import {
  AuthorizeSecurityGroupIngressCommand,
  CreateSecurityGroupCommand,
  CreateTagsCommand,
  DeleteSecurityGroupCommand,
  DescribeSecurityGroupRulesCommand,
  DescribeSecurityGroupsCommand,
  type EC2Client,
  type IpPermission,
  RevokeSecurityGroupIngressCommand,
  type SecurityGroupRule,
} from "@aws-sdk/client-ec2";
import { isSecurityGroupId } from "../model/annotation-values.ts";
import { CLUSTER_TAG, STACK_TAG } from "../model/tags.ts";
import type { ActualRule, IngressRule, ManagedSecurityGroupSpec } from "../model/types.ts";
import { errorName, isNotFound } from "./clients.ts";
import { recordToTags, tagsToRecord } from "./convert.ts";

export interface OwnedSecurityGroup {
  id: string;
  name: string;
  tags: Record<string, string>;
}

export interface OwnedSecurityState {
  groups: OwnedSecurityGroup[];
  /** Every ingress rule tagged for this cluster and stack, on any security group. */
  rules: (ActualRule & { tags: Record<string, string> })[];
}

const ownedFilters = (clusterName: string, stackId: string) => [
  { Name: `tag:${CLUSTER_TAG}`, Values: [clusterName] },
  { Name: `tag:${STACK_TAG}`, Values: [stackId] },
];

/** The stack's security groups and rules, found by their tags: two reads. */
export async function observeSecurityGroups(
  ec2: EC2Client,
  clusterName: string,
  stackId: string,
): Promise<OwnedSecurityState> {
  return (await scanSecurityGroups(ec2, clusterName, stackId)).get(stackId) ?? { groups: [], rules: [] };
}

/** Every security group and rule of the cluster, by stack: two paginated reads for all Services at once. */
export function observeClusterSecurityGroups(
  ec2: EC2Client,
  clusterName: string,
): Promise<Map<string, OwnedSecurityState>> {
  return scanSecurityGroups(ec2, clusterName);
}

async function scanSecurityGroups(
  ec2: EC2Client,
  clusterName: string,
  stackId?: string,
): Promise<Map<string, OwnedSecurityState>> {
  const filters =
    stackId === undefined
      ? [{ Name: `tag:${CLUSTER_TAG}`, Values: [clusterName] }]
      : ownedFilters(clusterName, stackId);
  const groups: OwnedSecurityGroup[] = [];
  let token: string | undefined;
  do {
    const page = await ec2.send(new DescribeSecurityGroupsCommand({ Filters: filters, NextToken: token }));
    for (const g of page.SecurityGroups ?? [])
      groups.push({ id: g.GroupId ?? "", name: g.GroupName ?? "", tags: tagsToRecord(g.Tags) });
    token = page.NextToken;
  } while (token);
  const rules: OwnedSecurityState["rules"] = [];
  do {
    const page = await ec2.send(
      new DescribeSecurityGroupRulesCommand({ Filters: filters, NextToken: token }),
    );
    for (const r of page.SecurityGroupRules ?? []) {
      const rule = ingressRuleOf(r);
      if (rule) rules.push(rule);
    }
    token = page.NextToken;
  } while (token);
  // Tags are re-checked here: a filter is a server's promise, ownership is decided by the tags themselves.
  const byStack = new Map<string, OwnedSecurityState>();
  const entry = (tags: Record<string, string>): OwnedSecurityState | undefined => {
    const stack = tags[STACK_TAG];
    if (tags[CLUSTER_TAG] !== clusterName || stack === undefined) return undefined;
    if (stackId !== undefined && stack !== stackId) return undefined;
    const found = byStack.get(stack) ?? { groups: [], rules: [] };
    byStack.set(stack, found);
    return found;
  };
  for (const g of groups) entry(g.tags)?.groups.push(g);
  for (const r of rules) entry(r.tags)?.rules.push(r);
  return byStack;
}

const PROTOCOLS: Record<string, IngressRule["protocol"]> = {
  tcp: "tcp",
  "6": "tcp",
  udp: "udp",
  "17": "udp",
  icmp: "icmp",
  "1": "icmp",
  icmpv6: "icmpv6",
  "58": "icmpv6",
};

function ingressRuleOf(r: SecurityGroupRule): (ActualRule & { tags: Record<string, string> }) | undefined {
  if (r.IsEgress || !r.SecurityGroupRuleId || !r.GroupId) return undefined;
  const protocol = PROTOCOLS[r.IpProtocol ?? ""];
  const source = r.CidrIpv4
    ? { cidr: r.CidrIpv4 }
    : r.CidrIpv6
      ? { cidr: r.CidrIpv6 }
      : r.PrefixListId
        ? { prefixList: r.PrefixListId }
        : r.ReferencedGroupInfo?.GroupId
          ? { group: r.ReferencedGroupInfo.GroupId }
          : undefined;
  const base = { id: r.SecurityGroupRuleId, groupId: r.GroupId, tags: tagsToRecord(r.Tags) };
  // A rule of ours in a shape we never make (edited by hand) is still ours to revoke: give it a shape that matches nothing.
  if (!protocol || !source)
    return { ...base, protocol: "tcp", fromPort: -1, toPort: -1, source: { cidr: "?" } };
  return { ...base, protocol, fromPort: r.FromPort ?? -1, toPort: r.ToPort ?? -1, source };
}

/** Creates the managed group with its tags in the same call, so a crash cannot leave an untagged group. */
export async function createSecurityGroup(
  ec2: EC2Client,
  spec: ManagedSecurityGroupSpec,
  vpcId: string,
): Promise<string> {
  try {
    const out = await ec2.send(
      new CreateSecurityGroupCommand({
        GroupName: spec.name,
        Description: spec.description,
        VpcId: vpcId,
        TagSpecifications: [{ ResourceType: "security-group", Tags: recordToTags(spec.tags) }],
      }),
    );
    if (!out.GroupId) throw new Error(`CreateSecurityGroup returned no ID for ${spec.name}`);
    return out.GroupId;
  } catch (err) {
    if (errorName(err) !== "InvalidGroup.Duplicate") throw err;
    // Ours already, made by a run that died before it could see it (tag filters lag behind creation)?
    const out = await ec2.send(
      new DescribeSecurityGroupsCommand({
        Filters: [
          { Name: "vpc-id", Values: [vpcId] },
          { Name: "group-name", Values: [spec.name] },
        ],
      }),
    );
    const found = out.SecurityGroups?.find(
      (g) =>
        tagsToRecord(g.Tags)[CLUSTER_TAG] === spec.tags[CLUSTER_TAG] &&
        tagsToRecord(g.Tags)[STACK_TAG] === spec.tags[STACK_TAG],
    );
    if (found?.GroupId) return found.GroupId;
    throw new Error(
      `a security group named ${spec.name} already exists in VPC ${vpcId} without this Service's ownership tags; it is not touched (delete or rename it)`,
    );
  }
}

function permissionOf(rule: IngressRule): IpPermission {
  const s = rule.source;
  return {
    IpProtocol: rule.protocol,
    FromPort: rule.fromPort,
    ToPort: rule.toPort,
    ...("cidr" in s
      ? s.cidr.includes(":")
        ? { Ipv6Ranges: [{ CidrIpv6: s.cidr }] }
        : { IpRanges: [{ CidrIp: s.cidr }] }
      : "prefixList" in s
        ? { PrefixListIds: [{ PrefixListId: s.prefixList }] }
        : { UserIdGroupPairs: [{ GroupId: s.group }] }),
  };
}

/**
 * Adds rules tagged as ours. A rule that exists already untagged (somebody else's) is left to them:
 * one call for all rules, and one per rule only when AWS refuses the batch as a duplicate.
 */
export async function authorizeRules(
  ec2: EC2Client,
  groupId: string,
  rules: IngressRule[],
  tags: Record<string, string>,
): Promise<void> {
  const send = (batch: IngressRule[]) =>
    ec2.send(
      new AuthorizeSecurityGroupIngressCommand({
        GroupId: groupId,
        IpPermissions: batch.map(permissionOf),
        TagSpecifications: [{ ResourceType: "security-group-rule", Tags: recordToTags(tags) }],
      }),
    );
  try {
    await send(rules);
  } catch (err) {
    if (errorName(err) !== "InvalidPermission.Duplicate") throw err;
    for (const rule of rules) {
      await send([rule]).catch((e: unknown) => {
        if (errorName(e) !== "InvalidPermission.Duplicate") throw e;
      });
    }
  }
}

/** Gives a rule to another Service of the cluster: its stack tag changes, nothing else. */
export async function retagRule(ec2: EC2Client, ruleId: string, stackId: string): Promise<void> {
  await ec2.send(new CreateTagsCommand({ Resources: [ruleId], Tags: [{ Key: STACK_TAG, Value: stackId }] }));
}

export async function revokeRules(ec2: EC2Client, groupId: string, ruleIds: string[]): Promise<void> {
  try {
    await ec2.send(
      new RevokeSecurityGroupIngressCommand({ GroupId: groupId, SecurityGroupRuleIds: ruleIds }),
    );
  } catch (err) {
    if (!isNotFound(err)) throw err;
    // One of them is gone already: revoke the rest one by one.
    for (const id of ruleIds) {
      await ec2
        .send(new RevokeSecurityGroupIngressCommand({ GroupId: groupId, SecurityGroupRuleIds: [id] }))
        .catch((e: unknown) => {
          if (!isNotFound(e)) throw e;
        });
    }
  }
}

/** Deletes a group; false while AWS still sees it in use (an NLB's network interfaces go away slowly). */
export async function deleteSecurityGroup(ec2: EC2Client, groupId: string): Promise<boolean> {
  try {
    await ec2.send(new DeleteSecurityGroupCommand({ GroupId: groupId }));
    return true;
  } catch (err) {
    if (isNotFound(err)) return true;
    if (errorName(err) === "DependencyViolation") return false;
    throw err;
  }
}

/** IDs for the security-groups annotation's entries: IDs as they are, names by Name tag, then group name. */
export async function resolveSecurityGroups(
  ec2: EC2Client,
  vpcId: string,
  refs: string[],
): Promise<string[]> {
  const names = refs.filter((ref) => !isSecurityGroupId(ref));
  const byName = new Map<string, string>();
  for (const filter of ["tag:Name", "group-name"]) {
    const missing = names.filter((n) => !byName.has(n));
    if (missing.length === 0) break;
    const out = await ec2.send(
      new DescribeSecurityGroupsCommand({
        Filters: [
          { Name: "vpc-id", Values: [vpcId] },
          { Name: filter, Values: missing },
        ],
      }),
    );
    for (const g of out.SecurityGroups ?? []) {
      const name = filter === "group-name" ? g.GroupName : tagsToRecord(g.Tags).Name;
      if (name && g.GroupId && missing.includes(name)) {
        if (byName.has(name) && byName.get(name) !== g.GroupId)
          throw new SecurityGroupLookupError(
            `security group name ${name} matches more than one group in VPC ${vpcId}`,
          );
        byName.set(name, g.GroupId);
      }
    }
  }
  const unknown = names.filter((n) => !byName.has(n));
  if (unknown.length > 0)
    throw new SecurityGroupLookupError(
      `no security group named ${unknown.join(", ")} (by Name tag or group name) in VPC ${vpcId}`,
    );
  // IDs are checked too: a wrong one would otherwise surface as an ELB error halfway through a change.
  const ids = refs.filter((ref) => !names.includes(ref));
  if (ids.length > 0) {
    const out = await ec2.send(
      new DescribeSecurityGroupsCommand({
        Filters: [
          { Name: "vpc-id", Values: [vpcId] },
          { Name: "group-id", Values: ids },
        ],
      }),
    );
    const found = new Set((out.SecurityGroups ?? []).map((g) => g.GroupId));
    const missing = ids.filter((id) => !found.has(id));
    if (missing.length > 0)
      throw new SecurityGroupLookupError(`no security group ${missing.join(", ")} in VPC ${vpcId}`);
  }
  // A name and an ID can point at one group: each group once.
  return [...new Set(refs.map((ref) => byName.get(ref) ?? ref))];
}

export class SecurityGroupLookupError extends Error {
  override name = "SecurityGroupLookupError";
}
