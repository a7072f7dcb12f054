import { EC2Client } from "@aws-sdk/client-ec2";
import { ElasticLoadBalancingV2Client } from "@aws-sdk/client-elastic-load-balancing-v2";

export interface AwsSettings {
  region?: string;
  endpoint?: string;
  maxAttempts?: number;
}

export interface AwsClients {
  elbv2: ElasticLoadBalancingV2Client;
  ec2: EC2Client;
}

export type CallObserver = (service: "elbv2" | "ec2", operation: string, outcome: string, ms: number) => void;

/**
 * SDK clients with adaptive retries: the SDK backs off on Throttling / RequestLimitExceeded and
 * rate-limits itself client-side, which keeps the controller inside the account's shared budget.
 */
export function makeClients(settings: AwsSettings, observe?: CallObserver): AwsClients {
  const common = {
    ...(settings.region ? { region: settings.region } : {}),
    ...(settings.endpoint ? { endpoint: settings.endpoint } : {}),
    maxAttempts: settings.maxAttempts ?? 8,
    retryMode: "adaptive",
  };
  const elbv2 = new ElasticLoadBalancingV2Client(common);
  const ec2 = new EC2Client(common);
  if (observe) {
    countCalls(elbv2, "elbv2", observe);
    countCalls(ec2, "ec2", observe);
  }
  return { elbv2, ec2 };
}

interface MiddlewareClient {
  middlewareStack: {
    add: (
      mw: (
        next: (a: unknown) => Promise<unknown>,
        ctx: { commandName?: string },
      ) => (a: unknown) => Promise<unknown>,
      opts: { step: "initialize"; name: string },
    ) => void;
  };
}

function countCalls(client: unknown, service: "elbv2" | "ec2", observe: CallObserver): void {
  (client as MiddlewareClient).middlewareStack.add(
    (next, ctx) => async (args) => {
      const started = performance.now();
      const operation = (ctx.commandName ?? "Unknown").replace(/Command$/, "");
      try {
        const out = await next(args);
        observe(service, operation, "ok", performance.now() - started);
        return out;
      } catch (err) {
        observe(service, operation, errorName(err), performance.now() - started);
        throw err;
      }
    },
    { step: "initialize", name: "nlbControllerCallCounter" },
  );
}

export function errorName(err: unknown): string {
  if (err && typeof err === "object" && "name" in err && typeof err.name === "string") return err.name;
  return "Error";
}

export const isNotFound = (err: unknown): boolean => /NotFound/.test(errorName(err));
