// Finds or builds a Helm 3 binary for the chart tests, and runs it.
//
// Order: `helm` on PATH (when it is Helm 3), then the copy cached under
// ~/.cache/aws-nlb-controller/helm-<version>/helm, then `go install` of the pinned version into
// that cache, so a fresh machine or CI runner needs no manual step. Building takes about two
// minutes on two cores with an empty Go module cache, and a few seconds with a warm one.

import { execFile, spawn } from "node:child_process";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { parseAllDocuments } from "yaml";
import {
  buildIntoCache,
  CACHE_ROOT,
  findGo,
  findOnPath,
  GO_BUILD_TIMEOUT_MS,
  isExecutable,
  runGo,
} from "./go-build.ts";

const execFileAsync = promisify(execFile);

export const HELM_VERSION = "v3.22.0";

// The Kubernetes version helm's release builds report by default (from the client-go they
// link), set the same way here so lint's deprecation checks behave like a released binary.
const HELM_K8S_MINOR = "37";
const HELM_MODULE = "helm.sh/helm/v3";
const HELM_LDFLAGS = [
  "-s -w",
  `-X ${HELM_MODULE}/internal/version.version=${HELM_VERSION}`,
  `-X ${HELM_MODULE}/internal/version.gitTreeState=clean`,
  `-X ${HELM_MODULE}/pkg/lint/rules.k8sVersionMajor=1`,
  `-X ${HELM_MODULE}/pkg/lint/rules.k8sVersionMinor=${HELM_K8S_MINOR}`,
  `-X ${HELM_MODULE}/pkg/chartutil.k8sVersionMajor=1`,
  `-X ${HELM_MODULE}/pkg/chartutil.k8sVersionMinor=${HELM_K8S_MINOR}`,
].join(" ");

/** Timeout for a test hook that awaits ensureHelm(): room for a first-time `go install`. */
export const HELM_SETUP_TIMEOUT_MS = GO_BUILD_TIMEOUT_MS + 60_000;

const INSTALL_HINT = `install Helm 3 (https://helm.sh/docs/intro/install/) or Go (https://go.dev/dl/, then the tests build helm ${HELM_VERSION} themselves)`;

const helmCacheDir = join(CACHE_ROOT, `helm-${HELM_VERSION}`);
export const cachedHelmPath = join(helmCacheDir, "helm");

let located: Promise<string> | undefined;

/** Path of a Helm 3 binary; builds the pinned version with `go install` when there is none. */
export function ensureHelm(): Promise<string> {
  located ??= locateOrBuildHelm();
  return located;
}

async function locateOrBuildHelm(): Promise<string> {
  const onPath = await findOnPath("helm");
  // Helm 4 renders and reports schema errors differently; the chart tests pin Helm 3.
  if (onPath !== undefined && (await helmMajorVersion(onPath)) === 3) return onPath;
  if (await isExecutable(cachedHelmPath)) return cachedHelmPath;
  const go = await findGo();
  if (go === undefined)
    throw new Error(`helm 3 is not on PATH and Go is missing to build it: ${INSTALL_HINT}`);
  process.stderr.write(
    `helm: building helm ${HELM_VERSION} with go install (about 4 minutes on first use)\n`,
  );
  const started = Date.now();
  try {
    await buildIntoCache(helmCacheDir, ["helm"], async (gobin) => {
      await runGo(
        go,
        ["install", "-trimpath", "-ldflags", HELM_LDFLAGS, `${HELM_MODULE}/cmd/helm@${HELM_VERSION}`],
        {
          env: { GOBIN: gobin },
        },
      );
    });
  } catch (error) {
    throw new Error(
      `${(error as Error).message}; put Helm 3 on PATH instead (https://helm.sh/docs/intro/install/)`,
    );
  }
  process.stderr.write(`helm: built ${cachedHelmPath} in ${((Date.now() - started) / 1000).toFixed(1)} s\n`);
  return cachedHelmPath;
}

async function helmMajorVersion(helm: string): Promise<number | undefined> {
  try {
    const { stdout } = await execFileAsync(helm, ["version", "--short"], { timeout: 30_000 });
    const match = /^v(\d+)\./.exec(stdout.trim());
    return match ? Number(match[1]) : undefined;
  } catch {
    return undefined;
  }
}

export interface HelmResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs helm with the given arguments; `input` goes to its stdin. Never throws on a non-zero exit. */
export async function runHelm(args: string[], input?: string): Promise<HelmResult> {
  const helm = await ensureHelm();
  return new Promise((resolve, reject) => {
    const child = spawn(helm, args, { stdio: ["pipe", "pipe", "pipe"], timeout: 60_000 });
    let stdout = "";
    let stderr = "";
    child.stdout.setEncoding("utf8").on("data", (chunk: string) => {
      stdout += chunk;
    });
    child.stderr.setEncoding("utf8").on("data", (chunk: string) => {
      stderr += chunk;
    });
    child.on("error", reject);
    child.on("close", (code, signal) => {
      resolve({ code: code ?? (signal ? 128 : 1), stdout, stderr });
    });
    child.stdin.end(input ?? "");
  });
}

/** The chart in this repository. */
export const CHART_DIR = fileURLToPath(new URL("../../helm/aws-nlb-controller", import.meta.url));

/** Kubernetes version the tests render for, so results do not depend on how helm was built. */
export const TEST_KUBE_VERSION = "1.31.0";

export interface TemplateOptions {
  release?: string;
  namespace?: string;
  chartDir?: string;
}

/** `helm template` of the chart with `values` (sent as JSON on stdin, on top of values.yaml). */
export function helmTemplate(
  values: Record<string, unknown>,
  options: TemplateOptions = {},
): Promise<HelmResult> {
  return runHelm(
    [
      "template",
      options.release ?? "nlb",
      options.chartDir ?? CHART_DIR,
      "--namespace",
      options.namespace ?? "kube-system",
      "--kube-version",
      TEST_KUBE_VERSION,
      "--values",
      "-",
    ],
    JSON.stringify(values),
  );
}

/** `helm lint --strict` of the chart with `values`. */
export function helmLint(values: Record<string, unknown>, chartDir: string = CHART_DIR): Promise<HelmResult> {
  return runHelm(
    ["lint", chartDir, "--strict", "--kube-version", TEST_KUBE_VERSION, "--values", "-"],
    JSON.stringify(values),
  );
}

export interface Manifest {
  apiVersion: string;
  kind: string;
  metadata: {
    name: string;
    namespace?: string;
    labels?: Record<string, string>;
    annotations?: Record<string, string>;
  };
  [field: string]: unknown;
}

/** Every non-empty document of a multi-document YAML stream; throws on a YAML error. */
export function parseManifests(text: string): Manifest[] {
  const manifests: Manifest[] = [];
  for (const document of parseAllDocuments(text)) {
    if (document.errors.length > 0)
      throw new Error(`invalid YAML in rendered chart: ${document.errors[0]?.message}`);
    const value: unknown = document.toJS();
    if (value === null || value === undefined) continue;
    if (typeof value !== "object" || !("kind" in value) || !("metadata" in value)) {
      throw new Error(`rendered document is not a Kubernetes object: ${JSON.stringify(value).slice(0, 200)}`);
    }
    manifests.push(value as Manifest);
  }
  return manifests;
}

/** Renders the chart and parses it; fails with helm's own message when rendering fails. */
export async function renderChart(
  values: Record<string, unknown>,
  options: TemplateOptions = {},
): Promise<Manifest[]> {
  const result = await helmTemplate(values, options);
  if (result.code !== 0)
    throw new Error(`helm template failed (exit ${result.code}): ${result.stderr.trim()}`);
  return parseManifests(result.stdout);
}
