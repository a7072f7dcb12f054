// What status.loadBalancer.ingress should say for a Service served by an NLB.
import { byCodePoint } from "./sorted.ts";
import type { LoadBalancerIngress, Service } from "./types.ts";

/** `[{ hostname: <DNS name, lower case>, ports: [{ port, protocol }] }]`, ports in (port, protocol) order. */
export function desiredIngress(dnsName: string, service: Service): LoadBalancerIngress[] {
  const servicePorts = Array.isArray(service.spec?.ports) ? service.spec.ports : [];
  const ports = servicePorts
    .filter((port) => typeof port?.port === "number")
    .map((port) => ({ port: port.port, protocol: port.protocol ?? "TCP" }));
  return [{ hostname: dnsName.toLowerCase(), ports: sortedPorts(ports) }];
}

/** Equal as Kubernetes would mean it: same hostnames/IPs and the same set of ports, in any order. */
export function ingressEqual(
  a: LoadBalancerIngress[] | undefined,
  b: LoadBalancerIngress[] | undefined,
): boolean {
  return JSON.stringify(normalised(a)) === JSON.stringify(normalised(b));
}

function normalised(ingress: LoadBalancerIngress[] | undefined): unknown {
  return (ingress ?? [])
    .map((entry) => ({
      hostname: entry.hostname ?? "",
      ip: entry.ip ?? "",
      ports: sortedPorts(
        (entry.ports ?? []).map((port) => ({ port: port.port, protocol: port.protocol ?? "TCP" })),
      ),
    }))
    .sort((x, y) => byCodePoint(x.hostname, y.hostname) || byCodePoint(x.ip, y.ip));
}

function sortedPorts(ports: { port: number; protocol: string }[]): { port: number; protocol: string }[] {
  return [...ports].sort((x, y) => x.port - y.port || byCodePoint(x.protocol, y.protocol));
}
