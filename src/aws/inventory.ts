import {
  DescribeLoadBalancersCommand,
  type DescribeLoadBalancersCommandOutput,
  DescribeTagsCommand,
  DescribeTargetGroupsCommand,
  type DescribeTargetGroupsCommandOutput,
  type ElasticLoadBalancingV2Client,
} from "@aws-sdk/client-elastic-load-balancing-v2";
import { CLUSTER_TAG, RESOURCE_TAG, STACK_TAG } from "../model/tags.ts";
import { tagsToRecord } from "./convert.ts";

const TAGS_PER_CALL = 20;

interface StackArns {
  loadBalancers: Set<string>;
  targetGroups: Set<string>;
}

/**
 * Which NLBs and target groups carry this cluster's tag, indexed by stack. Built by one paginated scan
 * of the account (tags in batches of 20) and kept current by the controller's own creates and deletes,
 * so a reconcile describes only its own stack's ARNs instead of listing the account every time.
 */
export class OwnedResources {
  readonly #elbv2: ElasticLoadBalancingV2Client;
  readonly #clusterName: string;
  #byStack = new Map<string, StackArns>();
  /** ARN -> value of its service.k8s.aws/resource tag. */
  #resourceOf = new Map<string, string>();

  constructor(elbv2: ElasticLoadBalancingV2Client, clusterName: string) {
    this.#elbv2 = elbv2;
    this.#clusterName = clusterName;
  }

  async scan(): Promise<void> {
    const lbArns: string[] = [];
    let marker: string | undefined;
    do {
      const page: DescribeLoadBalancersCommandOutput = await this.#elbv2.send(
        new DescribeLoadBalancersCommand({ Marker: marker, PageSize: 400 }),
      );
      for (const lb of page.LoadBalancers ?? [])
        if (lb.Type === "network" && lb.LoadBalancerArn) lbArns.push(lb.LoadBalancerArn);
      marker = page.NextMarker;
    } while (marker);
    const tgArns: string[] = [];
    marker = undefined;
    do {
      const page: DescribeTargetGroupsCommandOutput = await this.#elbv2.send(
        new DescribeTargetGroupsCommand({ Marker: marker, PageSize: 400 }),
      );
      for (const tg of page.TargetGroups ?? []) if (tg.TargetGroupArn) tgArns.push(tg.TargetGroupArn);
      marker = page.NextMarker;
    } while (marker);

    const byStack = new Map<string, StackArns>();
    const resourceOf = new Map<string, string>();
    const index = async (arns: string[], kind: keyof StackArns) => {
      for (let i = 0; i < arns.length; i += TAGS_PER_CALL) {
        const out = await this.#elbv2.send(
          new DescribeTagsCommand({ ResourceArns: arns.slice(i, i + TAGS_PER_CALL) }),
        );
        for (const d of out.TagDescriptions ?? []) {
          const tags = tagsToRecord(d.Tags);
          const stack = tags[STACK_TAG];
          if (tags[CLUSTER_TAG] !== this.#clusterName || !stack || !d.ResourceArn) continue;
          entry(byStack, stack)[kind].add(d.ResourceArn);
          resourceOf.set(d.ResourceArn, tags[RESOURCE_TAG] ?? "");
        }
      }
    };
    await index(lbArns, "loadBalancers");
    await index(tgArns, "targetGroups");
    this.#byStack = byStack;
    this.#resourceOf = resourceOf;
  }

  forStack(stackId: string): { loadBalancers: string[]; targetGroups: string[] } {
    const e = this.#byStack.get(stackId);
    return { loadBalancers: [...(e?.loadBalancers ?? [])], targetGroups: [...(e?.targetGroups ?? [])] };
  }

  stacks(): string[] {
    return [...this.#byStack.keys()];
  }

  /** Target group ARNs of a stack by their resource tag (`ns/name:port`). */
  targetGroupsById(stackId: string): Map<string, string[]> {
    const out = new Map<string, string[]>();
    for (const arn of this.#byStack.get(stackId)?.targetGroups ?? []) {
      const id = this.#resourceOf.get(arn) ?? "";
      out.set(id, [...(out.get(id) ?? []), arn]);
    }
    return out;
  }

  remember(stackId: string, kind: keyof StackArns, arn: string, resource: string): void {
    entry(this.#byStack, stackId)[kind].add(arn);
    this.#resourceOf.set(arn, resource);
  }

  forget(arn: string): void {
    this.#resourceOf.delete(arn);
    for (const [stack, e] of this.#byStack) {
      e.loadBalancers.delete(arn);
      e.targetGroups.delete(arn);
      if (e.loadBalancers.size === 0 && e.targetGroups.size === 0) this.#byStack.delete(stack);
    }
  }
}

function entry(map: Map<string, StackArns>, stack: string): StackArns {
  let e = map.get(stack);
  if (!e) {
    e = { loadBalancers: new Set(), targetGroups: new Set() };
    map.set(stack, e);
  }
  return e;
}
