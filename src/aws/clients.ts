import { EC2Client } from "@aws-sdk/client-ec2";
import { ElasticLoadBalancingV2Client } from "@aws-sdk/client-elastic-load-balancing-v2";
import type { ApiBudget } from "./budget.ts";
import type { AwsService } from "./limits.ts";

export interface AwsSettings {
  region?: string;
  endpoint?: string;
  maxAttempts?: number;
  /** The client-side budget every attempt waits on; none when omitted. */
  budget?: ApiBudget;
  /** Told of each wait for the budget, and of each throttled attempt. */
  onBudget?: (event: "waited" | "throttled", service: AwsService, operation: string, ms: number) => void;
}

export interface AwsClients {
  elbv2: ElasticLoadBalancingV2Client;
  ec2: EC2Client;
}

export type CallObserver = (service: AwsService, operation: string, outcome: string, ms: number) => void;

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
  if (settings.budget) {
    withBudget(elbv2, "elbv2", settings.budget, settings.onBudget);
    withBudget(ec2, "ec2", settings.budget, settings.onBudget);
  }
  if (observe) {
    countCalls(elbv2, "elbv2", observe);
    countCalls(ec2, "ec2", observe);
  }
  return { elbv2, ec2 };
}

type Middleware = (
  next: (a: unknown) => Promise<unknown>,
  ctx: { commandName?: string },
) => (a: unknown) => Promise<unknown>;

interface MiddlewareClient {
  middlewareStack: {
    add: (mw: Middleware, opts: { step: "initialize"; name: string }) => void;
    addRelativeTo: (mw: Middleware, opts: { relation: "after"; toMiddleware: string; name: string }) => void;
  };
}

const THROTTLING =
  /^(Throttling|ThrottlingException|ThrottledException|RequestLimitExceeded|RequestThrottled|RequestThrottledException|TooManyRequestsException|EC2ThrottledException|SlowDown)$/;

/** The SDK's own idea of a throttle too: its retry marks, or an HTTP 429. */
function isThrottling(err: unknown): boolean {
  if (THROTTLING.test(errorName(err))) return true;
  const e = err as { $retryable?: { throttling?: boolean }; $metadata?: { httpStatusCode?: number } };
  return e?.$retryable?.throttling === true || e?.$metadata?.httpStatusCode === 429;
}

/** Every attempt, retries included (it sits inside the SDK's retry), waits for its tokens first. */
function withBudget(
  client: unknown,
  service: AwsService,
  budget: ApiBudget,
  onBudget: AwsSettings["onBudget"],
): void {
  (client as MiddlewareClient).middlewareStack.addRelativeTo(
    (next, ctx) => async (args) => {
      const operation = (ctx.commandName ?? "Unknown").replace(/Command$/, "");
      const wait = budget.reserve(service, operation);
      if (wait > 0) {
        onBudget?.("waited", service, operation, wait);
        await budget.wait(wait);
      }
      try {
        return await next(args);
      } catch (err) {
        if (isThrottling(err)) {
          budget.throttled(service, operation);
          onBudget?.("throttled", service, operation, 0);
        }
        throw err;
      }
    },
    { relation: "after", toMiddleware: "retryMiddleware", name: "nlbControllerApiBudget" },
  );
}

function countCalls(client: unknown, service: AwsService, observe: CallObserver): void {
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
