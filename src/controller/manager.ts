import { hostname } from "node:os";
import { ApiBudget } from "../aws/budget.ts";
import { type AwsClients, makeClients } from "../aws/clients.ts";
import { OwnedResources } from "../aws/inventory.ts";
import { AWS_API_LIMITS } from "../aws/limits.ts";
import { describeSubnets, vpcOfInstance } from "../aws/network.ts";
import { observeClusterSecurityGroups } from "../aws/security-groups.ts";
import { TargetSecurityGroups } from "../aws/target-security-groups.ts";
import { TargetRegistry } from "../aws/targets.ts";
import type { Config } from "../config.ts";
import { type KubeApis, loadKubeConfig, makeKubeApis } from "../kube/client.ts";
import { Informer, keyOf, listParams, pageOf } from "../kube/informer.ts";
import { LeaderElector } from "../kube/leader.ts";
import { slimEndpointSlice, slimNode, slimPod, slimService } from "../kube/slim.ts";
import { TargetRecords } from "../kube/target-records.ts";
import { ServiceWriter } from "../kube/writers.ts";
import { build } from "../model/build.ts";
import { isSelected } from "../model/selection.ts";
import { instanceIdOf } from "../model/targets.ts";
import type { EndpointSlice, Node, Pod, Service, Subnet } from "../model/types.ts";
import type { Logger } from "../observability/logger.ts";
import { Metrics } from "../observability/metrics.ts";
import type { ControllerContext } from "./context.ts";
import { describeError } from "./describe-error.ts";
import { WorkQueue } from "./queue.ts";
import { GatePoller } from "./readiness-gates.ts";
import { reconcileStack } from "./stack-reconciler.ts";
import { reconcileTargets } from "./target-reconciler.ts";

const SUBNET_CACHE_MS = 5 * 60_000;

/** Wires informers, the two loops, leader election and periodic resync. */
export class Manager {
  readonly config: Config;
  readonly log: Logger;
  readonly metrics: Metrics;
  readonly kube: KubeApis;
  readonly aws: AwsClients;
  readonly services: Informer<Service>;
  readonly slices: Informer<EndpointSlice>;
  readonly nodes: Informer<Node>;
  readonly pods: Informer<Pod>;
  readonly gates: GatePoller;
  readonly writer: ServiceWriter;
  readonly stackQueue: WorkQueue;
  readonly targetQueue: WorkQueue;
  readonly targets: TargetRegistry;
  readonly owned: OwnedResources;
  #ctx: ControllerContext | undefined;
  #elector: LeaderElector | undefined;
  #resync: NodeJS.Timeout | undefined;
  #targetSeen = new Map<string, number>();
  #ready = false;
  /** Set by stop(): a start() still waiting for its caches or for leadership goes no further. */
  #stopped = false;
  readonly #budget: ApiBudget;

  constructor(config: Config, log: Logger, metrics = new Metrics()) {
    this.config = config;
    this.log = log;
    this.metrics = metrics;
    this.kube = makeKubeApis(loadKubeConfig(config.kubeconfig));
    this.#budget = new ApiBudget(AWS_API_LIMITS, config.awsApiBudget, config.awsApiThrottle, {
      timeScale: config.awsApiTimeScale,
    });
    this.aws = makeClients(
      {
        region: config.awsRegion,
        endpoint: config.awsEndpointUrl,
        budget: this.#budget,
        onBudget: (event, service, operation, ms) => {
          if (event === "waited") metrics.awsBudgetWait.inc({ service, operation }, ms / 1000);
          else metrics.awsThrottled.inc({ service, operation });
        },
      },
      (service, operation, outcome) => metrics.awsCalls.inc({ service, operation, outcome }),
    );
    this.targets = new TargetRegistry(this.aws.elbv2);
    this.owned = new OwnedResources(this.aws.elbv2, config.clusterName);
    const { core, discovery } = this.kube;
    const kc = this.kube.config;
    this.services = new Informer<Service>(
      "services",
      kc,
      "/api/v1/services",
      async (page) => pageOf<Service>(await core.listServiceForAllNamespaces(listParams(page))),
      log,
      slimService,
    );
    this.slices = new Informer<EndpointSlice>(
      "endpointslices",
      kc,
      "/apis/discovery.k8s.io/v1/endpointslices",
      async (page) =>
        pageOf<EndpointSlice>(await discovery.listEndpointSliceForAllNamespaces(listParams(page))),
      log,
      slimEndpointSlice,
    );
    // A reconcile reads only its Service's slices.
    this.slices.indexBy((slice) => {
      const service = slice.metadata.labels?.["kubernetes.io/service-name"];
      return service ? `${slice.metadata.namespace}/${service}` : undefined;
    });
    this.nodes = new Informer<Node>(
      "nodes",
      kc,
      "/api/v1/nodes",
      async (page) => pageOf<Node>(await core.listNode(listParams(page))),
      log,
      slimNode,
    );
    this.pods = new Informer<Pod>(
      "pods",
      kc,
      "/api/v1/pods",
      async (page) => pageOf<Pod>(await core.listPodForAllNamespaces(listParams(page))),
      log,
      slimPod,
    );
    this.writer = new ServiceWriter(this.kube);
    this.gates = new GatePoller(this.targets, this.pods, this.writer, log);

    this.stackQueue = new WorkQueue(
      (key) => this.#timed("stack", () => reconcileStack(this.#context(), key)),
      {
        concurrency: config.concurrency,
      },
    );
    this.targetQueue = new WorkQueue(
      (key) =>
        this.#timed("targets", async () => {
          const seen = this.#targetSeen.get(key);
          this.#targetSeen.delete(key);
          if (!(await reconcileTargets(this.#context(), key))) this.stackQueue.add(key);
          else if (seen !== undefined) this.metrics.targetLatency.observe((performance.now() - seen) / 1000);
        }),
      { concurrency: config.concurrency },
    );
    for (const [loop, q] of [
      ["stack", this.stackQueue],
      ["targets", this.targetQueue],
    ] as const) {
      q.onError = (key, err, retryInMs) =>
        log.warn({ loop, service: key, err: describeError(err), retryInMs }, "reconcile failed");
    }
    this.#wire();
  }

  get ready(): boolean {
    return this.#ready;
  }

  /** Starts informers, waits for leadership when asked, then reconciles everything once. */
  async start(): Promise<void> {
    for (const inf of [this.services, this.slices, this.nodes, this.pods]) inf.start();
    await Promise.all([
      this.services.waitForSync(),
      this.slices.waitForSync(),
      this.nodes.waitForSync(),
      this.pods.waitForSync(),
    ]);
    if (this.#stopped) return;
    if (this.config.leaderElect) {
      this.#elector = new LeaderElector(
        this.kube,
        {
          namespace: this.config.leaderElectionNamespace,
          name: this.config.leaderElectionId,
          identity: `${hostname()}_${process.pid}_${Math.random().toString(36).slice(2, 8)}`,
        },
        this.log,
      );
      this.#ready = true; // a standby is ready: it serves as soon as it leads
      await this.#elector.run(() => {
        this.log.fatal("leadership lost, exiting so a fresh process takes over");
        process.exit(1);
      });
    }
    const vpcId = await this.#untilItWorks("VPC discovery", () =>
      this.config.vpcId ? Promise.resolve(this.config.vpcId) : this.#discoverVpc(),
    );
    const scanned = await this.#untilItWorks("ownership scan", () => this.owned.scan().then(() => true));
    if (vpcId === undefined || !scanned) return;
    this.#ctx = this.#makeContext(vpcId);
    // Only a saving: without it each Service reads its own groups.
    await this.#scanSecurityGroups().catch((err: unknown) =>
      this.log.warn({ err: describeError(err) }, "security group scan failed; reading per Service"),
    );
    if (this.#stopped) return;
    this.#ready = true;
    for (const svc of this.services.values()) this.stackQueue.add(keyOf(svc.metadata));
    this.#resync = setInterval(() => void this.resync(), this.config.syncPeriodMs);
    this.#resync.unref();
    this.log.info(
      { vpcId, services: this.services.size, owned: this.owned.stacks().length },
      "controller started",
    );
  }

  /**
   * One look at the cluster's security groups and rules, and at the interfaces of every target whose
   * Service manages backend rules, so that a restart costs a few batched reads instead of three per Service.
   */
  async #scanSecurityGroups(): Promise<void> {
    const ctx = this.#context();
    const byStack = await observeClusterSecurityGroups(this.aws.ec2, this.config.clusterName);
    ctx.securityGroupSnapshot = { at: Date.now(), byStack, used: new Set() };
    const targets: string[] = [];
    for (const svc of this.services.values()) {
      if (!isSelected(svc, ctx.build.loadBalancerClass) || svc.metadata.deletionTimestamp) continue;
      const built = build(
        svc,
        this.slices.byIndex(keyOf(svc.metadata)),
        this.nodes.all(),
        ctx.build,
        this.pods,
      );
      if (!built.ok || !built.stack.securityGroups.manageBackendRules) continue;
      for (const tg of built.stack.targetGroups) for (const t of tg.targets) targets.push(t.id);
    }
    await ctx.targetSecurityGroups.load(targets);
  }

  /** Re-reads ownership and target sets from AWS and reconciles every Service (drift repair). */
  async resync(): Promise<void> {
    try {
      await this.owned.scan();
      this.targets.invalidateAll();
      for (const svc of this.services.values()) {
        this.#ctx?.fullObserve.add(keyOf(svc.metadata));
        this.stackQueue.add(keyOf(svc.metadata));
      }
    } catch (err) {
      this.log.warn({ err: describeError(err) }, "resync failed");
    }
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    // Calls still waiting for the AWS budget fail rather than go out after the stop began.
    this.#budget.stop();
    if (this.#resync) clearInterval(this.#resync);
    this.gates.stop();
    for (const inf of [this.services, this.slices, this.nodes, this.pods]) inf.stop();
    await Promise.all([this.stackQueue.stop(), this.targetQueue.stop()]);
    await this.#elector?.stop();
    this.aws.elbv2.destroy();
    this.aws.ec2.destroy();
  }

  /** Resolves when both loops have nothing left to do. */
  async idle(): Promise<void> {
    do {
      await this.stackQueue.drained();
      await this.targetQueue.drained();
    } while (this.stackQueue.pending + this.targetQueue.pending > 0);
  }

  /** AWS may be unreachable or throttling at start: retry with capped backoff instead of crash-looping. */
  /** Retries `fn` with backoff; undefined once the manager is stopped. */
  async #untilItWorks<T>(what: string, fn: () => Promise<T>): Promise<T | undefined> {
    for (let attempt = 1; !this.#stopped; attempt++) {
      try {
        return await fn();
      } catch (err) {
        if (this.#stopped) return undefined;
        const delay = Math.min(60_000, 1000 * 2 ** Math.min(attempt, 6));
        this.log.error({ err: describeError(err), attempt, retryInMs: delay }, `${what} failed`);
        // Unref'd: a stopped manager's wait keeps no process alive.
        await new Promise((r) => setTimeout(r, delay).unref());
      }
    }
    return undefined;
  }

  #context(): ControllerContext {
    if (!this.#ctx) throw new Error("controller not started");
    return this.#ctx;
  }

  #makeContext(vpcId: string): ControllerContext {
    let subnetCache: { at: number; subnets: Subnet[] } | undefined;
    return {
      build: {
        clusterName: this.config.clusterName,
        loadBalancerClass: this.config.loadBalancerClass,
        defaultTargetType: this.config.defaultTargetType,
        defaultScheme: this.config.defaultScheme,
        defaultTags: this.config.defaultTags,
      },
      aws: this.aws,
      vpcId,
      owned: this.owned,
      targets: this.targets,
      records: new TargetRecords(this.kube),
      services: this.services,
      slices: this.slices,
      nodes: this.nodes,
      pods: this.pods,
      gates: this.gates,
      writer: this.writer,
      log: this.log,
      metrics: this.metrics,
      stackTargetGroups: new Map(),
      fullObserve: new Set(),
      backendRules: new Map(),
      unresolvedTargets: new Map(),
      targetSecurityGroups: new TargetSecurityGroups(this.aws.ec2, vpcId),
      subnets: async (refresh = false) => {
        if (refresh || !subnetCache || Date.now() - subnetCache.at > SUBNET_CACHE_MS) {
          subnetCache = { at: Date.now(), subnets: await describeSubnets(this.aws.ec2, vpcId) };
        }
        return subnetCache.subnets;
      },
    };
  }

  async #discoverVpc(): Promise<string> {
    for (const node of this.nodes.values()) {
      const id = instanceIdOf(node);
      if (id) return vpcOfInstance(this.aws.ec2, id);
    }
    throw new Error("cannot discover the VPC: no node has an AWS providerID; pass --vpc-id");
  }

  #wire(): void {
    const stackKey = (svc: Service) => keyOf(svc.metadata);
    this.services.on({
      onAdd: (svc) => this.#ctx && this.stackQueue.add(stackKey(svc)),
      onUpdate: (svc, old) => {
        if (this.#ctx && stackChanged(svc, old)) this.stackQueue.add(stackKey(svc));
      },
      onDelete: (svc) => {
        this.targetQueue.forget(stackKey(svc));
        this.#targetSeen.delete(stackKey(svc));
        if (this.#ctx) this.stackQueue.add(stackKey(svc));
      },
    });
    const sliceChanged = (slice: EndpointSlice) => {
      const name = slice.metadata.labels?.["kubernetes.io/service-name"];
      if (name) this.#scheduleTargets(`${slice.metadata.namespace}/${name}`);
    };
    this.slices.on({
      onAdd: sliceChanged,
      onUpdate: (slice, old) => {
        sliceChanged(slice);
        // Moved to another Service (relabelled): the one it left loses those endpoints.
        const label = (s: EndpointSlice) => s.metadata.labels?.["kubernetes.io/service-name"];
        if (label(old) !== label(slice)) sliceChanged(old);
      },
      onDelete: sliceChanged,
    });
    const nodeChanged = () => {
      for (const svc of this.services.values()) {
        if (isSelected(svc, this.config.loadBalancerClass)) this.#scheduleTargets(stackKey(svc));
      }
    };
    // A gated pod whose containers become ready may now be registered although its endpoint is not ready.
    const podChanged = (pod: Pod) => {
      if (!pod.spec?.readinessGates?.length) return;
      for (const slice of this.slices.values()) {
        const service = slice.metadata.labels?.["kubernetes.io/service-name"];
        const refers = (slice.endpoints ?? []).some(
          (e) =>
            e.targetRef?.name === pod.metadata.name && slice.metadata.namespace === pod.metadata.namespace,
        );
        if (service && refers) this.#scheduleTargets(`${slice.metadata.namespace}/${service}`);
      }
    };
    this.pods.on({
      onAdd: podChanged,
      onUpdate: (pod, old) => {
        const ready = (p: Pod) => p.status?.conditions?.find((c) => c.type === "ContainersReady")?.status;
        if (ready(pod) !== ready(old) || pod.status?.podIP !== old.status?.podIP) podChanged(pod);
      },
    });
    this.nodes.on({
      onAdd: nodeChanged,
      onUpdate: (n, old) => {
        if (nodeProjection(n) !== nodeProjection(old)) nodeChanged();
      },
      onDelete: nodeChanged,
    });
  }

  /**
   * A target change of a quiet Service syncs at once; what follows within the batch window (a
   * rollout) is gathered into one sync at its end, so a rollout still costs few calls.
   */
  #scheduleTargets(key: string): void {
    if (!this.#ctx) return;
    // Slices of Services this controller does not serve (ClusterIP, another class) cost nothing.
    const svc = this.services.get(key);
    if (!svc || !isSelected(svc, this.config.loadBalancerClass)) return;
    if (!this.#targetSeen.has(key)) this.#targetSeen.set(key, performance.now());
    this.targetQueue.addCoalesced(key, this.config.targetBatchWindowMs);
  }

  async #timed(loop: "stack" | "targets", fn: () => Promise<void>): Promise<void> {
    const end = this.metrics.reconcileSeconds.startTimer({ loop });
    try {
      await fn();
      this.metrics.reconciles.inc({ loop, result: "ok" });
    } catch (err) {
      this.metrics.reconciles.inc({ loop, result: "error" });
      throw err;
    } finally {
      end();
      this.metrics.queueDepth.set({ loop: "stack" }, this.stackQueue.pending);
      this.metrics.queueDepth.set({ loop: "targets" }, this.targetQueue.pending);
    }
  }
}

/** A Service change the stack loop cares about: spec, annotations, deletion. Status-only writes are ours. */
function stackChanged(svc: Service, old: Service): boolean {
  return (
    svc.metadata.generation !== old.metadata.generation ||
    svc.metadata.deletionTimestamp !== old.metadata.deletionTimestamp ||
    JSON.stringify(svc.metadata.annotations ?? {}) !== JSON.stringify(old.metadata.annotations ?? {}) ||
    JSON.stringify(svc.spec) !== JSON.stringify(old.spec) ||
    (svc.metadata.finalizers?.length ?? 0) < (old.metadata.finalizers?.length ?? 0)
  );
}

/** What decides a node's eligibility; heartbeat-only status updates leave it unchanged. */
function nodeProjection(n: Node): string {
  const ready = n.status?.conditions?.find((c) => c.type === "Ready")?.status;
  return JSON.stringify([ready, n.metadata.labels, n.spec?.taints, n.spec?.providerID]);
}
