// Security groups: the NLB's frontend group (managed or given), and which ports the targets'
// security groups must open to it.
import { normalCidr } from "./annotation-values.ts";
import { type AnnotationValues, annotationTable } from "./annotations.ts";
import { annotationProblem, specProblem, textOf } from "./problems.ts";
import { instanceIdOf, slicesOfService } from "./targets.ts";
import type {
  EndpointSlice,
  IngressRule,
  InputProblem,
  IpAddressType,
  ListenerProtocol,
  Node,
  RuleSource,
  SecurityGroupsSpec,
  Service,
  TargetGroupSpec,
  TargetSecurityGroup,
} from "./types.ts";

export const MANAGED_SECURITY_GROUP_DESCRIPTION =
  "Frontend security group of an NLB managed by aws-nlb-controller";
const EVERYWHERE_V4 = "0.0.0.0/0";
const EVERYWHERE_V6 = "::/0";

export interface SecurityGroupInput {
  values: AnnotationValues;
  service: Service;
  ipAddressType: IpAddressType;
  listeners: { port: number; protocol: ListenerProtocol }[];
  name: string;
  tags: Record<string, string>;
  object: string;
  problems: InputProblem[];
}

export function securityGroupsOf(input: SecurityGroupInput): SecurityGroupsSpec {
  const { values, object, problems } = input;
  const ranges = sourceRanges(input);
  const annotations = input.service.metadata?.annotations ?? {};
  const set = (key: string) => Object.hasOwn(annotations, key);
  const frontendOnly = [
    ...((input.service.spec?.loadBalancerSourceRanges?.length ?? 0) > 0
      ? ["spec.loadBalancerSourceRanges"]
      : []),
    ...[annotationTable.sourceRanges.key, annotationTable.securityGroupPrefixLists.key].filter(set),
  ];
  const settings = [
    ...frontendOnly,
    ...[
      annotationTable.securityGroups.key,
      annotationTable.manageBackendSecurityGroupRules.key,
      annotationTable.inboundRulesOnPrivateLinkTraffic.key,
    ].filter(set),
  ];
  const noted = {
    ...(settings.length > 0 ? { settings } : {}),
    ...(values.inboundRulesOnPrivateLinkTraffic
      ? { privateLinkInboundRules: values.inboundRulesOnPrivateLinkTraffic }
      : {}),
  };
  if (values.securityGroups !== undefined) {
    return {
      given: values.securityGroups,
      manageBackendRules: values.manageBackendSecurityGroupRules ?? false,
      ...noted,
      ...(frontendOnly.length > 0 ? { ignored: frontendOnly } : {}),
    };
  }
  const sources: RuleSource[] = [
    ...(ranges ?? defaultRanges(input)).map((cidr) => ({ cidr })),
    ...(values.securityGroupPrefixLists ?? []).map((prefixList) => ({ prefixList })),
  ];
  if (ranges && input.ipAddressType === "ipv4") {
    const v6 = ranges.find((cidr) => cidr.includes(":"));
    if (v6 !== undefined) {
      problems.push(
        rangeProblem(input, object, {
          value: v6,
          allowed: `IPv4 CIDR blocks only: the NLB is ipv4; set ${annotationTable.ipAddressType.key} to dualstack to allow IPv6 clients`,
        }),
      );
    }
  }
  const ingress = input.listeners.flatMap((listener) =>
    protocolsOf(listener.protocol).flatMap((protocol) =>
      sources.map(
        (source): IngressRule => ({ protocol, fromPort: listener.port, toPort: listener.port, source }),
      ),
    ),
  );
  if (values.icmpForPathMtuDiscovery === "on") ingress.push(...pathMtuRules(sources));
  return {
    managed: {
      name: input.name,
      description: MANAGED_SECURITY_GROUP_DESCRIPTION,
      ingress: sortedRules(ingress),
      tags: input.tags,
    },
    manageBackendRules: values.manageBackendSecurityGroupRules ?? true,
    ...noted,
  };
}

/** spec.loadBalancerSourceRanges wins over the annotation; undefined when neither is set. */
function sourceRanges(input: SecurityGroupInput): string[] | undefined {
  const spec: unknown = input.service.spec?.loadBalancerSourceRanges;
  if (spec === undefined || spec === null || (Array.isArray(spec) && spec.length === 0))
    return input.values.sourceRanges;
  if (!Array.isArray(spec)) {
    input.problems.push(
      specProblem(input.object, "spec.loadBalancerSourceRanges", {
        value: textOf(spec),
        allowed: "a list of CIDR blocks",
      }),
    );
    return undefined;
  }
  const out: string[] = [];
  spec.forEach((entry: unknown, index) => {
    const normal = typeof entry === "string" ? normalCidr(entry.trim()) : undefined;
    if (normal === undefined) {
      input.problems.push(
        specProblem(input.object, `spec.loadBalancerSourceRanges[${index}]`, {
          value: textOf(entry),
          allowed: "an IPv4 or IPv6 CIDR block without host bits (10.0.0.0/8, 2001:db8::/32)",
        }),
      );
    } else if (!out.includes(normal)) out.push(normal);
  });
  return out;
}

function defaultRanges(input: SecurityGroupInput): string[] {
  if (input.values.securityGroupPrefixLists?.length) return [];
  return input.ipAddressType === "dualstack" ? [EVERYWHERE_V4, EVERYWHERE_V6] : [EVERYWHERE_V4];
}

function rangeProblem(
  input: SecurityGroupInput,
  object: string,
  error: { value: string; allowed: string },
): InputProblem {
  const fromSpec = (input.service.spec?.loadBalancerSourceRanges?.length ?? 0) > 0;
  if (fromSpec) {
    const index = input.service.spec.loadBalancerSourceRanges!.findIndex(
      (entry) => normalCidr(String(entry).trim()) === error.value,
    );
    return specProblem(object, `spec.loadBalancerSourceRanges[${Math.max(index, 0)}]`, error);
  }
  return annotationProblem(object, annotationTable.sourceRanges.key, error);
}

/** ICMP "fragmentation needed" (IPv4 3/4) and "packet too big" (IPv6 2/0) from each CIDR source. */
function pathMtuRules(sources: RuleSource[]): IngressRule[] {
  return sources.flatMap((source): IngressRule[] => {
    if (!("cidr" in source)) return [];
    return source.cidr.includes(":")
      ? [{ protocol: "icmpv6", fromPort: 2, toPort: 0, source }]
      : [{ protocol: "icmp", fromPort: 3, toPort: 4, source }];
  });
}

function protocolsOf(protocol: ListenerProtocol | TargetGroupSpec["protocol"]): ("tcp" | "udp")[] {
  if (protocol === "UDP") return ["udp"];
  if (protocol === "TCP_UDP") return ["tcp", "udp"];
  return ["tcp"];
}

/** The ports a target group's targets must accept from the NLB: traffic ports and the health check's. */
export function backendPortsOf(
  tg: TargetGroupSpec,
): Map<string, { protocol: "tcp" | "udp"; port: number }[]> {
  const out = new Map<string, { protocol: "tcp" | "udp"; port: number }[]>();
  for (const target of tg.targets) {
    const ports = protocolsOf(tg.protocol).map((protocol) => ({ protocol, port: target.port }));
    const healthPort = tg.healthCheck.port === "traffic-port" ? target.port : tg.healthCheck.port;
    ports.push({ protocol: "tcp", port: healthPort });
    out.set(target.id, [...(out.get(target.id) ?? []), ...ports]);
  }
  return out;
}

/**
 * The security group of a target's network interface that gets the backend rules: the only one, or
 * else the one tagged `kubernetes.io/cluster/<cluster>` (AWS LBC's rule). A string explains a refusal.
 */
export function targetSecurityGroup(
  groups: TargetSecurityGroup[],
  clusterName: string,
): { id: string } | { problem: string } {
  if (groups.length === 1) return { id: groups[0]!.id };
  if (groups.length === 0) return { problem: "its network interface has no security group" };
  const key = `kubernetes.io/cluster/${clusterName}`;
  const tagged = groups.filter((g) => Object.hasOwn(g.tags, key));
  if (tagged.length === 1) return { id: tagged[0]!.id };
  const ids = groups.map((g) => g.id).join(", ");
  return {
    problem:
      tagged.length === 0
        ? `its network interface has ${groups.length} security groups (${ids}) and none is tagged ${key}`
        : `its network interface has ${tagged.length} security groups tagged ${key} (${tagged.map((g) => g.id).join(", ")}); tag exactly one`,
  };
}

/** The CIDR block, prefix list ID or security group ID a rule admits. */
export function sourceText(source: RuleSource): string {
  return "cidr" in source ? source.cidr : "prefixList" in source ? source.prefixList : source.group;
}

export function ruleKey(groupId: string, rule: IngressRule): string {
  const s = rule.source;
  const source = "cidr" in s ? `cidr:${s.cidr}` : "prefixList" in s ? `pl:${s.prefixList}` : `sg:${s.group}`;
  return `${groupId}|${rule.protocol}|${rule.fromPort}|${rule.toPort}|${source}`;
}

function sortedRules(rules: IngressRule[]): IngressRule[] {
  const seen = new Map<string, IngressRule>();
  for (const rule of rules) seen.set(ruleKey("", rule), rule);
  return [...seen.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([, rule]) => rule);
}

/**
 * Pod IP -> the instance of the node it runs on (EndpointSlice nodeName). With prefix delegation a pod
 * IP sits inside a /28 on one of its node's interfaces, where an address lookup cannot find it; the
 * node's interface groups stand in for it then.
 */
export function podInstances(
  service: Service,
  slices: readonly EndpointSlice[],
  nodes: readonly Node[],
): Map<string, string> {
  const instanceOfNode = new Map<string, string>();
  for (const node of nodes) {
    const id = instanceIdOf(node);
    if (id && node.metadata?.name) instanceOfNode.set(node.metadata.name, id);
  }
  const out = new Map<string, string>();
  for (const slice of slicesOfService(service, slices)) {
    for (const endpoint of slice.endpoints ?? []) {
      const instance = endpoint.nodeName ? instanceOfNode.get(endpoint.nodeName) : undefined;
      if (instance) for (const address of endpoint.addresses ?? []) out.set(address, instance);
    }
  }
  return out;
}
