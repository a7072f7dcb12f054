import { z } from "zod";
import { parseThrottleOverrides, type ThrottleOverride } from "./aws/budget.ts";
import { LOG_LEVELS, type LogLevel } from "./observability/logger.ts";
import { parseBindAddress } from "./observability/server.ts";

export interface Config {
  clusterName: string;
  kubeconfig?: string;
  awsRegion?: string;
  awsEndpointUrl?: string;
  vpcId?: string;
  loadBalancerClass: string;
  defaultTargetType: "instance" | "ip";
  defaultScheme: "internal" | "internet-facing";
  defaultTags: Record<string, string>;
  concurrency: number;
  targetBatchWindowMs: number;
  /** Share of AWS's published API rates the client-side budget allows. */
  awsApiBudget: number;
  awsApiThrottle: ThrottleOverride[];
  /** Not a flag: the benchmark's AWS runs this many times faster than real time (refills only). */
  awsApiTimeScale?: number;
  syncPeriodMs: number;
  logLevel: LogLevel;
  metricsBindAddress: string;
  healthProbeBindAddress: string;
  leaderElect: boolean;
  leaderElectionNamespace: string;
  leaderElectionId: string;
}

/** A flag's value is wrong: the CLI prints the one line and exits 2. */
export class FlagError extends Error {
  override name = "FlagError";
}

const fail = (flag: string, value: unknown, allowed: string): never => {
  throw new FlagError(`--${flag}: "${String(value)}" is not valid: ${allowed}`);
};

export function parseDuration(flag: string, value: string): number {
  const m = /^(\d+(?:\.\d+)?)(ms|s|m|h)$/.exec(value.trim());
  if (!m) return fail(flag, value, "a duration such as 250ms, 30s, 10m or 1h");
  const n = Number(m[1]);
  const unit = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 }[m[2] as "ms" | "s" | "m" | "h"];
  return Math.round(n * unit);
}

export function parseTagList(flag: string, value: string): Record<string, string> {
  const out: Record<string, string> = {};
  if (value.trim() === "") return out;
  for (const pair of value.split(",")) {
    const i = pair.indexOf("=");
    const k = (i < 0 ? pair : pair.slice(0, i)).trim();
    if (i < 0 || !k || k.length > 128 || k.startsWith("aws:") || k in out) {
      fail(
        flag,
        value,
        "comma-separated key=value pairs with unique keys of 1-128 characters, none starting with aws:",
      );
    }
    const v = pair.slice(i + 1).trim();
    if (v.length > 256) fail(flag, value, "tag values of at most 256 characters");
    out[k] = v;
  }
  return out;
}

const enumOf = <T extends string>(flag: string, allowed: readonly T[], value: string): T => {
  const v = value.toLowerCase() as T;
  return allowed.includes(v) ? v : fail(flag, value, `one of ${allowed.join(", ")}`);
};

const CLUSTER_NAME = /^[A-Za-z0-9][A-Za-z0-9_-]{0,99}$/;
const VPC_ID = /^vpc-[0-9a-f]{8,17}$/;
const CLASS = /^[a-z0-9]([-a-z0-9.]*[a-z0-9])?\/[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$/;

/** Raw flag values (strings as typed, env applied) -> one validated Config. Throws FlagError. */
export function resolveConfig(raw: Record<string, string | boolean | undefined>, env = process.env): Config {
  const str = (k: string): string | undefined => {
    const v = raw[k];
    return typeof v === "string" ? v : undefined;
  };
  const clusterName = str("clusterName") ?? env.CLUSTER_NAME;
  if (!clusterName)
    throw new FlagError("--cluster-name is required: the name of this EKS cluster, used in ownership tags");
  if (!CLUSTER_NAME.test(clusterName))
    fail("cluster-name", clusterName, "letters, digits, - and _, at most 100 characters");
  const vpcId = str("vpcId");
  if (vpcId !== undefined && !VPC_ID.test(vpcId))
    fail("vpc-id", vpcId, "a VPC ID such as vpc-0abc1234def567890");
  const lbClass = str("loadBalancerClass") ?? "service.k8s.aws/nlb";
  if (!CLASS.test(lbClass))
    fail("load-balancer-class", lbClass, "a domain-prefixed name such as service.k8s.aws/nlb");
  const endpoint = str("awsEndpointUrl") ?? env.AWS_ENDPOINT_URL;
  if (endpoint !== undefined && !z.url({ protocol: /^https?$/ }).safeParse(endpoint).success) {
    fail("aws-endpoint-url", endpoint, "an http:// or https:// URL");
  }
  const region = str("awsRegion") ?? env.AWS_REGION ?? env.AWS_DEFAULT_REGION;
  if (region !== undefined && !/^[a-z]{2}(-[a-z]+)+-\d$/.test(region))
    fail("aws-region", region, "an AWS region such as us-west-2");
  const concurrencyRaw = str("concurrency") ?? "3";
  const concurrency = Number(concurrencyRaw);
  if (!/^\d+$/.test(concurrencyRaw) || concurrency < 1 || concurrency > 64)
    fail("concurrency", concurrencyRaw, "a whole number from 1 to 64");
  const window = parseDuration("target-batch-window", str("targetBatchWindow") ?? "250ms");
  if (window > 60_000) fail("target-batch-window", str("targetBatchWindow"), "at most 60s");
  const budgetRaw = str("awsApiBudget") ?? "0.5";
  const awsApiBudget = Number(budgetRaw);
  if (!/^\d*\.?\d+$/.test(budgetRaw) || awsApiBudget < 0.01 || awsApiBudget > 100)
    fail(
      "aws-api-budget",
      budgetRaw,
      "a share of AWS's published API rates from 0.01 to 100, such as 0.5 (above 1 only where AWS raised the account's rates)",
    );
  const throttle = parseThrottleOverrides(str("awsApiThrottle") ?? "");
  if (typeof throttle === "string") fail("aws-api-throttle", str("awsApiThrottle"), throttle);
  const sync = parseDuration("sync-period", str("syncPeriod") ?? "10h");
  if (sync < 60_000) fail("sync-period", str("syncPeriod"), "at least 1m");
  const metricsBindAddress = str("metricsBindAddress") ?? ":8080";
  const healthProbeBindAddress = str("healthProbeBindAddress") ?? ":8081";
  for (const [flag, v] of [
    ["metrics-bind-address", metricsBindAddress],
    ["health-probe-bind-address", healthProbeBindAddress],
  ] as const) {
    try {
      parseBindAddress(v);
    } catch {
      fail(flag, v, "[host]:port such as :8080, or 0 to turn it off");
    }
  }
  return {
    clusterName,
    kubeconfig: str("kubeconfig"),
    awsRegion: region,
    awsEndpointUrl: endpoint,
    vpcId,
    loadBalancerClass: lbClass,
    defaultTargetType: enumOf(
      "default-target-type",
      ["instance", "ip"] as const,
      str("defaultTargetType") ?? "instance",
    ),
    defaultScheme: enumOf(
      "default-scheme",
      ["internal", "internet-facing"] as const,
      str("defaultScheme") ?? "internal",
    ),
    defaultTags: parseTagList("default-tags", str("defaultTags") ?? ""),
    concurrency,
    targetBatchWindowMs: window,
    awsApiBudget,
    awsApiThrottle: throttle as ThrottleOverride[],
    syncPeriodMs: sync,
    logLevel: enumOf("log-level", LOG_LEVELS, str("logLevel") ?? "info"),
    metricsBindAddress,
    healthProbeBindAddress,
    leaderElect: raw.leaderElect === true,
    leaderElectionNamespace: str("leaderElectionNamespace") ?? env.POD_NAMESPACE ?? "kube-system",
    leaderElectionId: str("leaderElectionId") ?? "aws-nlb-controller-leader",
  };
}
