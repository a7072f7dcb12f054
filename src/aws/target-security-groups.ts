// Which security groups a target's network interface has: instances by their primary interface,
// pod IPs by the interface that holds the address. Cached: a target's interface rarely changes,
// and endpoint churn must not turn into a read per change.
import {
  DescribeInstancesCommand,
  DescribeNetworkInterfacesCommand,
  DescribeSecurityGroupsCommand,
  type EC2Client,
} from "@aws-sdk/client-ec2";
import type { TargetSecurityGroup } from "../model/types.ts";
import { tagsToRecord } from "./convert.ts";

const BATCH = 200;
const DEFAULT_TTL_MS = 10 * 60_000;
const MISS_TTL_MS = 30_000;

export class TargetSecurityGroups {
  readonly #ec2: EC2Client;
  readonly #vpcId: string;
  readonly #ttlMs: number;
  /** target (instance ID or IP) -> its interface's group IDs; [] when no interface was found. */
  /** `instance`: for an address, the instance its interface is attached to, when AWS says. */
  readonly #groupsOf = new Map<string, { at: number; ids: string[] | undefined; instance?: string }>();
  readonly #tagsOf = new Map<string, { at: number; tags: Record<string, string> }>();

  constructor(ec2: EC2Client, vpcId: string, ttlMs = DEFAULT_TTL_MS) {
    this.#ec2 = ec2;
    this.#vpcId = vpcId;
    this.#ttlMs = ttlMs;
  }

  /**
   * Drops cached addresses now on another node than their interface was attached to: an IP the VPC
   * CNI handed to a pod elsewhere may sit on an interface with other groups.
   */
  forgetMoved(nodeOf: Map<string, string>): void {
    for (const [address, instance] of nodeOf) {
      const hit = this.#groupsOf.get(address);
      if (hit?.instance && hit.instance !== instance) this.#groupsOf.delete(address);
    }
  }

  /** Looks up what the cache lacks (at most a few batched reads), then answers from the cache. */
  async load(targets: Iterable<string>): Promise<(target: string) => TargetSecurityGroup[] | undefined> {
    const now = Date.now();
    const stale = [...new Set(targets)].filter((t) => {
      const hit = this.#groupsOf.get(t);
      // A miss is retried sooner than a hit: the interface may just be coming up.
      return !hit || now - hit.at > (hit.ids ? this.#ttlMs : MISS_TTL_MS);
    });
    const instances = stale.filter((t) => t.startsWith("i-"));
    const addresses = stale.filter((t) => !t.startsWith("i-"));
    for (let i = 0; i < instances.length; i += BATCH)
      await this.#loadInstances(instances.slice(i, i + BATCH), now);
    for (let i = 0; i < addresses.length; i += BATCH)
      await this.#loadAddresses(addresses.slice(i, i + BATCH), now);
    const ambiguous = new Set<string>();
    for (const t of new Set(targets)) {
      const ids = this.#groupsOf.get(t)?.ids ?? [];
      // Tags decide between several groups and a user fixes them when told to: they expire too.
      if (ids.length > 1)
        for (const id of ids) {
          const hit = this.#tagsOf.get(id);
          if (!hit || now - hit.at > this.#ttlMs) ambiguous.add(id);
        }
    }
    if (ambiguous.size > 0) await this.#loadTags([...ambiguous]);
    return (target) =>
      this.#groupsOf.get(target)?.ids?.map((id) => ({ id, tags: this.#tagsOf.get(id)?.tags ?? {} }));
  }

  async #loadInstances(ids: string[], at: number): Promise<void> {
    let token: string | undefined;
    const found = new Set<string>();
    do {
      const page = await this.#ec2.send(
        new DescribeInstancesCommand({ Filters: [{ Name: "instance-id", Values: ids }], NextToken: token }),
      );
      for (const instance of (page.Reservations ?? []).flatMap((r) => r.Instances ?? [])) {
        if (!instance.InstanceId) continue;
        const primary = (instance.NetworkInterfaces ?? []).find((n) => n.Attachment?.DeviceIndex === 0);
        const groups = primary?.Groups ?? instance.SecurityGroups ?? [];
        this.#groupsOf.set(instance.InstanceId, {
          at,
          ids: groups.flatMap((g) => (g.GroupId ? [g.GroupId] : [])),
        });
        found.add(instance.InstanceId);
      }
      token = page.NextToken;
    } while (token);
    for (const id of ids) if (!found.has(id)) this.#groupsOf.set(id, { at, ids: undefined });
  }

  async #loadAddresses(addresses: string[], at: number): Promise<void> {
    let token: string | undefined;
    const found = new Set<string>();
    do {
      const page = await this.#ec2.send(
        new DescribeNetworkInterfacesCommand({
          Filters: [
            { Name: "vpc-id", Values: [this.#vpcId] },
            { Name: "addresses.private-ip-address", Values: addresses },
          ],
          NextToken: token,
        }),
      );
      for (const eni of page.NetworkInterfaces ?? []) {
        const ids = (eni.Groups ?? []).flatMap((g) => (g.GroupId ? [g.GroupId] : []));
        const own = [eni.PrivateIpAddress, ...(eni.PrivateIpAddresses ?? []).map((a) => a.PrivateIpAddress)];
        for (const address of own) {
          if (address && addresses.includes(address)) {
            const instance = eni.Attachment?.InstanceId;
            this.#groupsOf.set(address, { at, ids, ...(instance ? { instance } : {}) });
            found.add(address);
          }
        }
      }
      token = page.NextToken;
    } while (token);
    for (const address of addresses)
      if (!found.has(address)) this.#groupsOf.set(address, { at, ids: undefined });
  }

  async #loadTags(groupIds: string[]): Promise<void> {
    // By filter, not GroupIds: a group deleted meanwhile must not fail the whole lookup.
    const out = await this.#ec2.send(
      new DescribeSecurityGroupsCommand({ Filters: [{ Name: "group-id", Values: groupIds }] }),
    );
    const at = Date.now();
    for (const g of out.SecurityGroups ?? [])
      if (g.GroupId) this.#tagsOf.set(g.GroupId, { at, tags: tagsToRecord(g.Tags) });
  }
}
