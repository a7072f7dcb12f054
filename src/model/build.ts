// build(): a Service, its EndpointSlices and the cluster's Nodes in; the desired NLB stack out.
// Pure and total: every problem with the input is collected and returned, nothing throws.
import { fixedAddressesOf } from "./addresses.ts";
import { type AnnotationValues, annotationTable, parseAnnotations } from "./annotations.ts";
import { healthCheckFor } from "./health-check.ts";
import { listenerAttributesByPort } from "./listener-attributes.ts";
import { loadBalancerAttributesOf } from "./load-balancer-attributes.ts";
import { generatedLoadBalancerName, managedSecurityGroupName, targetGroupName } from "./naming.ts";
import { annotationProblem, specProblem, textOf } from "./problems.ts";
import { admitsGated, type PodLookup } from "./readiness.ts";
import { securityGroupsOf } from "./security-groups.ts";
import { sortedRecord } from "./sorted.ts";
import { LOAD_BALANCER_RESOURCE, ownershipTags, SECURITY_GROUP_RESOURCE, stackIdOf } from "./tags.ts";
import { targetGroupAttributesByPort } from "./target-group-attributes.ts";
import { instanceTargets, ipTargets, slicesOfService } from "./targets.ts";
import { tlsSettings } from "./tls.ts";
import type {
  BuildConfig,
  BuildResult,
  DesiredStack,
  EndpointSlice,
  InputProblem,
  ListenerProtocol,
  Node,
  Scheme,
  Service,
  ServicePort,
  TargetGroupProtocol,
  TargetGroupSpec,
  TargetType,
} from "./types.ts";

export const MAX_LISTENERS = 50;
export const MAX_TAGS = 50;
/** Target group port for ip targets behind a named targetPort: AWS registers each target with its own port. */
export const NAMED_TARGET_PORT_PLACEHOLDER = 1;

interface IndexedPort {
  index: number;
  port: ServicePort;
  protocol: "TCP" | "UDP";
}

/** One listener's worth of service ports: one port, or a TCP and a UDP port with the same number. */
interface PortGroup {
  port: number;
  protocol: ListenerProtocol;
  /** The port whose targetPort and endpoints the target group follows (TCP for TCP_UDP). */
  primary: IndexedPort;
  members: IndexedPort[];
}

export function build(
  service: Service,
  slices: readonly EndpointSlice[],
  nodes: readonly Node[],
  config: BuildConfig,
  pods: PodLookup = new Map(),
): BuildResult {
  const stackId = stackIdOf(service);
  const { values, problems } = parseAnnotations(service);
  problems.push(...metadataProblems(service, stackId));
  const { scheme, source: schemeSource } = schemeOf(values, config);
  const targetType: TargetType =
    values.type === "nlb-ip" ? "ip" : (values.targetType ?? config.defaultTargetType);

  const groups = portGroups(service, stackId, problems);
  const targetGroupPorts = groups.map((group) => targetGroupPort(group, targetType, stackId, problems));
  const health = healthCheckFor(service, targetType, values);
  problems.push(...health.problems);
  const userTags = userTagsOf(values, config, stackId, problems);
  const tls = tlsSettings(values, groups, stackId, problems);
  const attributesFor = targetGroupAttributesByPort(
    values,
    groups.map((group) => group.port),
    stackId,
    problems,
  );
  const loadBalancerAttributes = loadBalancerAttributesOf(values, stackId, problems);
  const addresses = fixedAddressesOf(values, scheme, schemeSource, stackId, problems);
  const listenerAttributesOf = listenerAttributesByPort(
    values,
    groups.map((g) => ({ port: g.port, protocol: tls?.ports.has(g.port) ? "TLS" : g.protocol })),
    stackId,
    problems,
  );
  const tagsFor = (resource: string) =>
    sortedRecord({
      ...userTags,
      ...config.defaultTags,
      ...ownershipTags(config.clusterName, stackId, resource),
    });
  const securityGroups = securityGroupsOf({
    values,
    service,
    ipAddressType: values.ipAddressType ?? "ipv4",
    listeners: groups,
    name: managedSecurityGroupName(config.clusterName, service),
    tags: tagsFor(SECURITY_GROUP_RESOURCE),
    object: stackId,
    problems,
  });
  if (problems.length > 0) return { ok: false, problems };

  const isTls = (group: PortGroup) => tls?.ports.has(group.port) === true;
  const targetGroupProtocol = (group: PortGroup): TargetGroupProtocol =>
    isTls(group) ? (tls?.tlsTargets ? "TLS" : "TCP") : group.protocol;
  const serviceSlices = targetType === "ip" ? slicesOfService(service, slices) : [];

  const targetGroups: TargetGroupSpec[] = groups.map((group, i) => {
    const id = `${stackId}:${group.port}`;
    const port = targetGroupPorts[i]!;
    const protocol = targetGroupProtocol(group);
    const name = targetGroupName(config.clusterName, service, {
      port: group.port,
      protocol,
      targetType,
      targetPort: port,
      ipAddressType: "ipv4",
    });
    return {
      id,
      name,
      targetType,
      protocol,
      port,
      ipAddressType: "ipv4",
      healthCheck: structuredClone(health.healthCheck),
      attributes: attributesFor(group.port),
      tags: tagsFor(id),
      targets:
        targetType === "instance"
          ? instanceTargets(nodes, port, values.targetNodeLabels)
          : ipTargets(serviceSlices, group.primary.port, "IPv4", (endpoint) =>
              admitsGated(endpoint, pods, name),
            ),
      ...(values.multiClusterTargetGroup ? { multiCluster: true as const } : {}),
    };
  });

  const stack: DesiredStack = {
    service: stackId,
    loadBalancer: {
      name: values.name ?? generatedLoadBalancerName(config.clusterName, service, scheme),
      type: "network",
      scheme,
      ipAddressType: values.ipAddressType ?? "ipv4",
      ...(values.subnets === undefined ? {} : { subnets: values.subnets }),
      ...addresses,
      attributes: loadBalancerAttributes,
      tags: tagsFor(LOAD_BALANCER_RESOURCE),
    },
    listeners: groups.map((group, i) => ({
      port: group.port,
      protocol: isTls(group) ? "TLS" : group.protocol,
      targetGroup: targetGroups[i]!.id,
      ...(tls && isTls(group)
        ? {
            certificates: [...tls.certificates],
            sslPolicy: tls.sslPolicy,
            ...(tls.alpnPolicy === undefined ? {} : { alpnPolicy: tls.alpnPolicy }),
          }
        : {}),
      ...listenerAttributesOf(group.port),
    })),
    targetGroups,
    securityGroups,
  };
  return { ok: true, stack };
}

/** The scheme annotation wins; else the deprecated internal annotation; else the configured default. */
function schemeOf(values: AnnotationValues, config: BuildConfig): { scheme: Scheme; source: string } {
  if (values.scheme !== undefined)
    return { scheme: values.scheme, source: `annotation ${annotationTable.scheme.key}` };
  if (values.internal !== undefined)
    return {
      scheme: values.internal ? "internal" : "internet-facing",
      source: `annotation ${annotationTable.internal.key}`,
    };
  return { scheme: config.defaultScheme, source: "the controller's --default-scheme" };
}

function portGroups(service: Service, object: string, problems: InputProblem[]): PortGroup[] {
  const ports: unknown[] = Array.isArray(service.spec?.ports) ? service.spec.ports : [];
  if (ports.length === 0) {
    problems.push(specProblem(object, "spec.ports", { value: "", allowed: "at least one port" }));
    return [];
  }
  const byNumber = new Map<number, IndexedPort[]>();
  ports.forEach((raw, index) => {
    const field = `spec.ports[${index}]`;
    if (typeof raw !== "object" || raw === null) {
      problems.push(specProblem(object, field, { value: textOf(raw), allowed: "a service port object" }));
      return;
    }
    const port = raw as ServicePort;
    let valid = true;
    if (!isPortNumber(port.port)) {
      problems.push(
        specProblem(object, `${field}.port`, { value: textOf(port.port), allowed: "a port from 1 to 65535" }),
      );
      valid = false;
    }
    const protocol = port.protocol ?? "TCP";
    if (protocol !== "TCP" && protocol !== "UDP") {
      const allowed =
        protocol === "SCTP"
          ? "TCP or UDP (an NLB has no SCTP listeners)"
          : "TCP or UDP (the protocols of NLB listeners)";
      problems.push(specProblem(object, `${field}.protocol`, { value: textOf(protocol), allowed }));
      valid = false;
    }
    if (!valid) return;
    const entry: IndexedPort = { index, port, protocol: protocol as "TCP" | "UDP" };
    const same = byNumber.get(port.port) ?? [];
    const duplicate = same.find((other) => other.protocol === entry.protocol);
    if (duplicate) {
      problems.push(
        specProblem(object, `${field}.port`, {
          value: `${port.port}/${entry.protocol}`,
          allowed: `each port and protocol once (spec.ports[${duplicate.index}] has ${port.port}/${entry.protocol} already)`,
        }),
      );
      return;
    }
    byNumber.set(port.port, [...same, entry]);
  });

  const groups = [...byNumber.entries()]
    .sort(([a], [b]) => a - b)
    .map(([port, members]): PortGroup => {
      const tcp = members.find((member) => member.protocol === "TCP");
      const primary = tcp ?? members[0]!;
      const protocol: ListenerProtocol = members.length > 1 ? "TCP_UDP" : primary.protocol;
      return { port, protocol, primary, members };
    });
  if (groups.length > MAX_LISTENERS) {
    problems.push(
      specProblem(object, "spec.ports", {
        value: `${groups.length} listeners`,
        allowed: `at most ${MAX_LISTENERS} listeners per NLB (a TCP and a UDP port with the same number share one)`,
      }),
    );
  }
  return groups;
}

/**
 * Instance targets: the nodePort (a TCP_UDP pair must share it). Ip targets: the numeric
 * targetPort (targetPort defaults to port). A named targetPort may resolve to different numbers
 * on different pods and targets are registered with their own ports anyway, so the target group
 * gets the fixed placeholder port 1, as LBC does; this keeps the port, which AWS cannot modify,
 * independent of which endpoints exist at the moment.
 */
function targetGroupPort(
  group: PortGroup,
  targetType: TargetType,
  object: string,
  problems: InputProblem[],
): number {
  const portOf = (member: IndexedPort): number | undefined => {
    if (targetType === "instance") {
      if (isPortNumber(member.port.nodePort)) return member.port.nodePort;
      problems.push(
        specProblem(object, `spec.ports[${member.index}].nodePort`, {
          value: textOf(member.port.nodePort ?? ""),
          allowed:
            "a nodePort from 1 to 65535: instance targets receive traffic on it (is spec.allocateLoadBalancerNodePorts false?)",
        }),
      );
      return undefined;
    }
    const targetPort = member.port.targetPort ?? member.port.port;
    const numeric =
      typeof targetPort === "string" && /^\d+$/.test(targetPort) ? Number(targetPort) : targetPort;
    if (typeof numeric === "string" && numeric !== "") return NAMED_TARGET_PORT_PLACEHOLDER;
    if (isPortNumber(numeric)) return numeric;
    problems.push(
      specProblem(object, `spec.ports[${member.index}].targetPort`, {
        value: textOf(targetPort),
        allowed: "a port from 1 to 65535 or the name of a container port",
      }),
    );
    return undefined;
  };

  const primaryPort = portOf(group.primary);
  for (const member of group.members) {
    if (member === group.primary) continue;
    const memberPort = portOf(member);
    if (primaryPort === undefined || memberPort === undefined || memberPort === primaryPort) continue;
    const field = targetType === "instance" ? "nodePort" : "targetPort";
    problems.push(
      specProblem(object, `spec.ports[${member.index}].${field}`, {
        value: textOf(memberPort),
        allowed: `equal to spec.ports[${group.primary.index}].${field} (${primaryPort}): TCP and UDP port ${group.port} share one TCP_UDP target group`,
      }),
    );
  }
  return primaryPort ?? 0;
}

function isPortNumber(value: unknown): value is number {
  return typeof value === "number" && Number.isInteger(value) && value >= 1 && value <= 65535;
}

/** additional-resource-tags, less any key the ownership tags or --default-tags take (those win). */
function userTagsOf(
  values: AnnotationValues,
  config: BuildConfig,
  object: string,
  problems: InputProblem[],
): Record<string, string> {
  const userTags = values.additionalResourceTags ?? {};
  const fixed = {
    ...config.defaultTags,
    ...ownershipTags(config.clusterName, object, LOAD_BALANCER_RESOURCE),
  };
  const total = new Set([...Object.keys(userTags), ...Object.keys(fixed)]).size;
  if (Object.keys(userTags).length > 0 && total > MAX_TAGS) {
    const fixedCount = Object.keys(fixed).length;
    problems.push(
      annotationProblem(object, annotationTable.additionalResourceTags.key, {
        value: `${Object.keys(userTags).length} tags`,
        allowed: `at most ${MAX_TAGS} tags per AWS resource in all, of which ${fixedCount} are the controller's own`,
      }),
    );
  }
  return userTags;
}

const SERVICE_NAME = /^[a-z]([-a-z0-9]{0,61}[a-z0-9])?$/;
const NAMESPACE_NAME = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/;

/** Names Kubernetes itself would refuse; only a manifest file (plan -f) can carry them. */
function metadataProblems(service: Service, stackId: string): InputProblem[] {
  const out: InputProblem[] = [];
  const name = service.metadata?.name;
  if (typeof name !== "string" || !SERVICE_NAME.test(name)) {
    out.push(
      specProblem(stackId, "metadata.name", {
        value: textOf(name),
        allowed:
          "a DNS-1035 label: lower-case letters, digits and '-', starting with a letter, at most 63 characters",
      }),
    );
  }
  const namespace = service.metadata?.namespace ?? "default";
  if (typeof namespace !== "string" || !NAMESPACE_NAME.test(namespace)) {
    out.push(
      specProblem(stackId, "metadata.namespace", {
        value: textOf(namespace),
        allowed: "a DNS-1123 label: lower-case letters, digits and '-', at most 63 characters",
      }),
    );
  }
  return out;
}
