// Cluster IPs and node ports held by Services. The maps are derived from stored Services only
// (kept in step on every commit), so a rejected or dry-run write never leaks an allocation.
import { arrayAt, isObject, numberAt, objectAt } from "../json.ts";
import { type KubeObject, keyOf } from "../object.ts";

export const serviceCidr = "10.96.0.0/12";
export const nodePortRange = { min: 30000, max: 32767 } as const;

const cidrBase = (10 << 24) | (96 << 16);
const cidrSize = 1 << 20;
/** Lowest addresses and ports are left for static assignment, as the real allocators prefer. */
const ipStaticBand = 256;
const portStaticBand = 128;

function ipToInt(ip: string): number | undefined {
  const parts = ip.split(".");
  if (parts.length !== 4 || parts.some((p) => !/^\d{1,3}$/.test(p) || Number(p) > 255)) return undefined;
  return parts.reduce((acc, p) => acc * 256 + Number(p), 0);
}

function intToIp(n: number): string {
  return [n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].join(".");
}

/** Undefined when the address is a usable cluster IP; else why not. */
export function clusterIpRangeProblem(ip: string): string | undefined {
  const n = ipToInt(ip);
  if (n === undefined || n <= cidrBase || n >= cidrBase + cidrSize - 1) {
    return "the provided network does not match the current range";
  }
  return undefined;
}

export function heldClusterIps(svc: KubeObject | undefined): string[] {
  const spec = objectAt(svc, "spec");
  const ips = arrayAt(spec, "clusterIPs") ?? [];
  return ips.filter((ip): ip is string => typeof ip === "string" && ip !== "None" && ip !== "");
}

export function heldNodePorts(svc: KubeObject | undefined): number[] {
  const spec = objectAt(svc, "spec");
  const held = new Set<number>();
  for (const port of arrayAt(spec, "ports") ?? []) {
    if (!isObject(port)) continue;
    const np = numberAt(port, "nodePort");
    if (np) held.add(np);
  }
  const hc = numberAt(spec, "healthCheckNodePort");
  if (hc) held.add(hc);
  return [...held];
}

export class Allocations {
  private readonly ips = new Map<string, string>();
  private readonly ports = new Map<number, string>();

  ipFree(ip: string, owner: string): boolean {
    const holder = this.ips.get(ip);
    return holder === undefined || holder === owner;
  }

  portFree(port: number, owner: string): boolean {
    const holder = this.ports.get(port);
    return holder === undefined || holder === owner;
  }

  pickIp(owner: string, taken: ReadonlySet<string>): string | undefined {
    const usable = (n: number): string | undefined => {
      const ip = intToIp(cidrBase + n);
      return this.ipFree(ip, owner) && !taken.has(ip) ? ip : undefined;
    };
    for (let i = 0; i < 64; i++) {
      const found = usable(ipStaticBand + Math.floor(Math.random() * (cidrSize - ipStaticBand - 1)));
      if (found) return found;
    }
    for (let n = 1; n < cidrSize - 1; n++) {
      const found = usable(n);
      if (found) return found;
    }
    return undefined;
  }

  pickPort(owner: string, taken: ReadonlySet<number>): number | undefined {
    const usable = (port: number): boolean => this.portFree(port, owner) && !taken.has(port);
    const dynamicMin = nodePortRange.min + portStaticBand;
    for (let i = 0; i < 64; i++) {
      const port = dynamicMin + Math.floor(Math.random() * (nodePortRange.max - dynamicMin + 1));
      if (usable(port)) return port;
    }
    for (let port = nodePortRange.min; port <= nodePortRange.max; port++) if (usable(port)) return port;
    return undefined;
  }

  /** Moves holdings from the stored previous version of a Service to its next one. */
  sync(previous: KubeObject | undefined, next: KubeObject | undefined): void {
    const owner = keyOf((previous ?? next) as KubeObject);
    for (const ip of heldClusterIps(previous)) if (this.ips.get(ip) === owner) this.ips.delete(ip);
    for (const port of heldNodePorts(previous)) if (this.ports.get(port) === owner) this.ports.delete(port);
    for (const ip of heldClusterIps(next)) this.ips.set(ip, owner);
    for (const port of heldNodePorts(next)) this.ports.set(port, owner);
  }
}
