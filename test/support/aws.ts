/**
 * Gives a test file its AWS endpoint through the environment the SDK already reads, so the same
 * tests run against moto (started here), LocalStack or real AWS (`AWS_ENDPOINT_URL` set by the user).
 */
import { after, before } from "node:test";
import { EC2Client } from "@aws-sdk/client-ec2";
import { ElasticLoadBalancingV2Client } from "@aws-sdk/client-elastic-load-balancing-v2";
import { type Moto, startMoto } from "../../src/sandbox/moto.ts";

export {
  findAmazonLinuxImage,
  providerID,
  type SeededInstance,
  type SeededSubnet,
  type SeededVpc,
  type SeedVpcOptions,
  seedVpc,
} from "../../src/sandbox/seed-aws.ts";

export const DEFAULT_TEST_REGION = "us-west-2";

export interface AwsEndpoint {
  /** The endpoint every SDK client of the test uses (`AWS_ENDPOINT_URL`). */
  endpoint: string;
  region: string;
  /** The moto server started for this file; undefined when the user supplied the endpoint. */
  moto: Moto | undefined;
}

/** A handle filled in by the `before` hook that awsTestEnv() registers. */
export interface AwsTestEnv {
  readonly endpoint: string;
  readonly region: string;
  readonly moto: Moto | undefined;
  /** True when the endpoint came from the user's environment (LocalStack, real AWS). */
  readonly external: boolean;
  /**
   * Resolves once the endpoint is up. node:test starts root-level `before` hooks together, so
   * another root-level hook that needs the endpoint awaits this first.
   */
  ready(): Promise<void>;
}

let current: AwsEndpoint | undefined;

/**
 * Sets up the endpoint for this process: the user's `AWS_ENDPOINT_URL` as is, or a fresh moto.
 * Region and dummy credentials are set only where the environment has none. Returns a function that
 * stops moto and puts the environment back.
 */
export async function startAwsEndpoint(): Promise<{ endpoint: AwsEndpoint; release: () => Promise<void> }> {
  const saved = new Map<string, string | undefined>();
  const setDefault = (name: string, value: string): void => {
    if (process.env[name] !== undefined && process.env[name] !== "") return;
    saved.set(name, process.env[name]);
    process.env[name] = value;
  };
  const given = process.env.AWS_ENDPOINT_URL;
  const moto = given ? undefined : await startMoto();
  if (moto !== undefined) setDefault("AWS_ENDPOINT_URL", moto.url);
  setDefault("AWS_REGION", DEFAULT_TEST_REGION);
  setDefault("AWS_ACCESS_KEY_ID", "testing");
  setDefault("AWS_SECRET_ACCESS_KEY", "testing");
  const endpoint: AwsEndpoint = {
    endpoint: process.env.AWS_ENDPOINT_URL!,
    region: process.env.AWS_REGION!,
    moto,
  };
  const previous = current;
  current = endpoint;
  const release = async (): Promise<void> => {
    if (current === endpoint) current = previous;
    await moto?.stop();
    for (const [name, value] of saved) {
      if (value === undefined) delete process.env[name];
      else process.env[name] = value;
    }
  };
  return { endpoint, release };
}

/**
 * Call at the top of a test file (or a describe block): registers `before`/`after` hooks that start
 * moto once for the file, unless `AWS_ENDPOINT_URL` points elsewhere, and stop it at the end.
 */
export function awsTestEnv(): AwsTestEnv {
  let endpoint: AwsEndpoint | undefined;
  let release: (() => Promise<void>) | undefined;
  const started = (): AwsEndpoint => {
    if (endpoint === undefined) throw new Error("awsTestEnv(): used before its before() hook ran");
    return endpoint;
  };
  let markReady: (() => void) | undefined;
  let markFailed: ((error: unknown) => void) | undefined;
  const readiness = new Promise<void>((resolve, reject) => {
    markReady = resolve;
    markFailed = reject;
  });
  // Whoever awaits ready() sees a failure; the before hook reports it either way.
  readiness.catch(() => undefined);
  before(async () => {
    try {
      ({ endpoint, release } = await startAwsEndpoint());
      markReady?.();
    } catch (error) {
      markFailed?.(error);
      throw error;
    }
  });
  after(async () => {
    await release?.();
  });
  return {
    get endpoint() {
      return started().endpoint;
    },
    get region() {
      return started().region;
    },
    get moto() {
      return started().moto;
    },
    get external() {
      return started().moto === undefined;
    },
    ready: () => readiness,
  };
}

/** Empties moto between tests; against a user-supplied endpoint it does nothing (tests clean up what they make). */
export async function resetAws(): Promise<void> {
  await current?.moto?.reset();
}

export interface TestClientOptions {
  /** Total attempts per call, first try included (SDK default 3). */
  maxAttempts?: number;
  /** SDK retry mode (SDK default "standard"). */
  retryMode?: "standard" | "adaptive";
}

function clientConfig(endpoint: string | undefined, options: TestClientOptions) {
  return {
    ...(endpoint ? { endpoint } : {}),
    ...(options.maxAttempts !== undefined ? { maxAttempts: options.maxAttempts } : {}),
    ...(options.retryMode !== undefined ? { retryMode: options.retryMode } : {}),
  };
}

/** An ELBv2 client configured from the environment, or pointed at `endpoint` (e.g. a fault proxy). */
export function elbv2Client(
  endpoint?: string,
  options: TestClientOptions = {},
): ElasticLoadBalancingV2Client {
  return new ElasticLoadBalancingV2Client(clientConfig(endpoint, options));
}

/** An EC2 client configured from the environment, or pointed at `endpoint` (e.g. a fault proxy). */
export function ec2Client(endpoint?: string, options: TestClientOptions = {}): EC2Client {
  return new EC2Client(clientConfig(endpoint, options));
}
