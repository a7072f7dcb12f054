import type {
  ActualLoadBalancer,
  ActualStack,
  ActualTargetGroup,
  DesiredStack,
  HealthCheck,
  TargetGroupSpec,
} from "../../../src/model/types.ts";

export const TCP_CHECK: HealthCheck = {
  protocol: "TCP",
  port: "traffic-port",
  intervalSeconds: 10,
  timeoutSeconds: 10,
  healthyThresholdCount: 3,
  unhealthyThresholdCount: 3,
};

const tags = (resource: string) => ({
  "elbv2.k8s.aws/cluster": "prod",
  "service.k8s.aws/stack": "shop/web",
  "service.k8s.aws/resource": resource,
});

export function targetGroup(port: number, over: Partial<TargetGroupSpec> = {}): TargetGroupSpec {
  return {
    id: `shop/web:${port}`,
    name: `k8s-shop-web-${port}aaaaaaa`.slice(0, 32),
    targetType: "instance",
    protocol: "TCP",
    port: 30000 + port,
    ipAddressType: "ipv4",
    healthCheck: TCP_CHECK,
    attributes: { "proxy_protocol_v2.enabled": "false" },
    tags: tags(`shop/web:${port}`),
    targets: [{ id: "i-0aaaaaaaaaaaaaaa1", port: 30000 + port }],
    ...over,
  };
}

export function desiredStack(ports = [80]): DesiredStack {
  return {
    service: "shop/web",
    loadBalancer: {
      name: "k8s-shop-web-0123456789",
      type: "network",
      scheme: "internal",
      ipAddressType: "ipv4",
      attributes: {},
      tags: tags("LoadBalancer"),
    },
    listeners: ports.map((port) => ({ port, protocol: "TCP" as const, targetGroup: `shop/web:${port}` })),
    targetGroups: ports.map((p) => targetGroup(p)),
    securityGroups: { manageBackendRules: false },
  };
}

export function actualLb(over: Partial<ActualLoadBalancer> = {}): ActualLoadBalancer {
  return {
    arn: "arn:lb/1",
    name: "k8s-shop-web-0123456789",
    dnsName: "k8s-shop-web.elb.example",
    type: "network",
    scheme: "internal",
    ipAddressType: "ipv4",
    subnets: ["subnet-aaaa1111", "subnet-bbbb2222"],
    securityGroups: [],
    attributes: { "deletion_protection.enabled": "false" },
    tags: tags("LoadBalancer"),
    ...over,
  };
}

export function actualTg(port: number, over: Partial<ActualTargetGroup> = {}): ActualTargetGroup {
  const spec = targetGroup(port);
  return {
    arn: `arn:tg/${port}`,
    name: spec.name,
    targetType: spec.targetType,
    protocol: spec.protocol,
    port: spec.port,
    ipAddressType: "ipv4",
    healthCheck: TCP_CHECK,
    attributes: { "proxy_protocol_v2.enabled": "false", "deregistration_delay.timeout_seconds": "300" },
    tags: spec.tags,
    loadBalancerArns: ["arn:lb/1"],
    ...over,
  };
}

/** The actual stack that exactly matches desiredStack(ports). */
export function convergedStack(ports = [80]): ActualStack {
  return {
    loadBalancers: [actualLb()],
    listeners: ports.map((port) => ({
      arn: `arn:listener/${port}`,
      loadBalancerArn: "arn:lb/1",
      port,
      protocol: "TCP",
      targetGroupArn: `arn:tg/${port}`,
    })),
    targetGroups: ports.map((p) => actualTg(p)),
  };
}
