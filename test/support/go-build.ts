// Builds pinned Go programs (helm, kube-apiserver, etcd) into ~/.cache/aws-nlb-controller/ for the
// tests, so a fresh machine or CI runner needs Go and nothing else.

import { execFile } from "node:child_process";
import { constants } from "node:fs";
import { access, mkdir, mkdtemp, rename, rm } from "node:fs/promises";
import { homedir } from "node:os";
import { delimiter, join } from "node:path";
import { promisify } from "node:util";

const execFileAsync = promisify(execFile);

export const CACHE_ROOT = join(homedir(), ".cache", "aws-nlb-controller");

export const GO_BUILD_TIMEOUT_MS = 20 * 60_000;

export async function findOnPath(command: string): Promise<string | undefined> {
  for (const dir of (process.env.PATH ?? "").split(delimiter)) {
    if (dir === "") continue;
    const candidate = join(dir, command);
    if (await isExecutable(candidate)) return candidate;
  }
  return undefined;
}

export async function isExecutable(path: string): Promise<boolean> {
  try {
    await access(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** The go command on PATH, or in its usual place; undefined when Go is not installed. */
export async function findGo(): Promise<string | undefined> {
  return (
    (await findOnPath("go")) ??
    ((await isExecutable("/usr/local/go/bin/go")) ? "/usr/local/go/bin/go" : undefined)
  );
}

/** Runs go with `args` in `cwd`; on failure throws with the last line go printed. */
export async function runGo(
  go: string,
  args: string[],
  options: { cwd?: string; env?: NodeJS.ProcessEnv } = {},
): Promise<string> {
  try {
    const { stdout } = await execFileAsync(go, args, {
      cwd: options.cwd,
      env: { ...process.env, CGO_ENABLED: "0", ...options.env },
      timeout: GO_BUILD_TIMEOUT_MS,
      maxBuffer: 64 * 1024 * 1024,
    });
    return stdout;
  } catch (error) {
    const detail = lastLine((error as { stderr?: string }).stderr) ?? (error as Error).message;
    throw new Error(`go ${args.slice(0, 2).join(" ")} failed: ${detail}`);
  }
}

/**
 * Runs `build(dir)`, which must leave each of `names` in `dir`, then moves them into `cacheDir`.
 * Building into a private directory and renaming means concurrent runs never see a half-written file.
 */
export async function buildIntoCache(
  cacheDir: string,
  names: string[],
  build: (dir: string) => Promise<void>,
): Promise<void> {
  await mkdir(CACHE_ROOT, { recursive: true });
  const dir = await mkdtemp(`${cacheDir}.build-`);
  try {
    await build(dir);
    await mkdir(cacheDir, { recursive: true });
    for (const name of names) await rename(join(dir, name), join(cacheDir, name));
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

export function lastLine(text: string | undefined): string | undefined {
  const lines = (text ?? "").trim().split("\n");
  const last = lines[lines.length - 1]?.trim();
  return last === "" ? undefined : last;
}
