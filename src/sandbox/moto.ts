import { type ChildProcess, spawn } from "node:child_process";
import { accessSync, constants } from "node:fs";
import { delimiter, join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";

/** A running `moto_server` process. */
export interface Moto {
  /** Base URL, e.g. `http://127.0.0.1:41873`; what `AWS_ENDPOINT_URL` should point at. */
  readonly url: string;
  /** Process id, also the id of its process group. */
  readonly pid: number;
  /** Milliseconds from spawn until the server answered. */
  readonly startupMs: number;
  /** Forgets every resource in every region (`POST /moto-api/reset`). */
  reset(): Promise<void>;
  /** SIGTERM to its process group, SIGKILL after a grace period; resolves once the process has exited. */
  stop(): Promise<void>;
}

export interface StartMotoOptions {
  /** Loopback address to bind; default 127.0.0.1. */
  host?: string;
  /** Port to bind; default: a free one chosen by the OS. */
  port?: number;
  /** Receives every line moto prints (request log, warnings). */
  log?: (line: string) => void;
  /** How long to wait for the server to answer; default 30 s. */
  startTimeoutMs?: number;
  /** How long stop() waits after SIGTERM before SIGKILL; default 3 s. */
  stopGraceMs?: number;
}

export const MOTO_NOT_FOUND_MESSAGE =
  "moto_server not found on PATH: install it with pip install 'moto[server]'";

export class MotoNotFoundError extends Error {
  constructor() {
    super(MOTO_NOT_FOUND_MESSAGE);
    this.name = "MotoNotFoundError";
  }
}

export function isMotoMissing(error: unknown): error is MotoNotFoundError {
  return error instanceof MotoNotFoundError;
}

/** The path of an executable named `command` on `pathList`, or undefined. */
export function findExecutable(command: string, pathList = process.env.PATH ?? ""): string | undefined {
  for (const dir of pathList.split(delimiter)) {
    if (dir === "") continue;
    const candidate = join(dir, command);
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {}
  }
  return undefined;
}

const running = new Set<ChildProcess>();
let exitHooksInstalled = false;

function killGroup(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pid, signal);
  } catch {}
}

/**
 * moto runs in its own process group (so a stop reaches any children), which also means a Ctrl-C
 * or SIGTERM aimed at us does not reach it: kill it on the way out, whichever way that is.
 */
function installExitHooks(): void {
  if (exitHooksInstalled) return;
  exitHooksInstalled = true;
  process.on("exit", () => {
    for (const child of running) if (child.pid !== undefined) killGroup(child.pid, "SIGKILL");
  });
  for (const signal of ["SIGINT", "SIGTERM", "SIGHUP"] as const) {
    const onSignal = (): void => {
      // Somebody else handles this signal and is responsible for stopping us; the exit hook remains.
      if (process.listenerCount(signal) > 1) return;
      for (const child of running) if (child.pid !== undefined) killGroup(child.pid, "SIGKILL");
      process.removeListener(signal, onSignal);
      process.kill(process.pid, signal);
    };
    process.on(signal, onSignal);
  }
}

/**
 * The shell forks a watchdog that kills moto when our end of its stdin closes (that is, when this
 * process is gone, even by SIGKILL), then execs moto_server in its own place, so the pid we hold
 * is moto's. `$$` inside the subshell is the outer shell's pid, which the exec hands to moto.
 */
const WATCHDOG_SCRIPT = 'exec 3<&0 </dev/null; (read _line <&3; kill "$$" 2>/dev/null) & exec "$@" 3<&-';

/** Starts `moto_server` on a free loopback port and waits until it answers. */
export async function startMoto(options: StartMotoOptions = {}): Promise<Moto> {
  const executable = findExecutable("moto_server");
  if (executable === undefined) throw new MotoNotFoundError();
  const host = options.host ?? "127.0.0.1";
  const deadline = Date.now() + (options.startTimeoutMs ?? 30_000);
  const stopGraceMs = options.stopGraceMs ?? 3_000;
  const startedAt = performance.now();

  installExitHooks();
  const child = spawn(
    "/bin/sh",
    ["-c", WATCHDOG_SCRIPT, "sh", executable, "-H", host, "-p", String(options.port ?? 0)],
    {
      detached: true,
      stdio: ["pipe", "pipe", "pipe"],
      env: { ...process.env, PYTHONUNBUFFERED: "1" },
    },
  );
  const pid = child.pid;
  if (pid === undefined) throw new Error("moto_server could not be spawned");
  running.add(child);

  const tail: string[] = [];
  let announcedUrl: string | undefined;
  let exitInfo: { code: number | null; signal: NodeJS.Signals | null } | undefined;
  const exited = new Promise<void>((resolve) => {
    child.once("exit", (code, signal) => {
      exitInfo = { code, signal };
      running.delete(child);
      // Reap the watchdog subshell, which outlives moto in the same group.
      killGroup(pid, "SIGKILL");
      resolve();
    });
  });
  const onLine = (line: string): void => {
    tail.push(line);
    if (tail.length > 20) tail.shift();
    const match = /Running on (http:\/\/\S+)/.exec(line);
    if (match?.[1] !== undefined && announcedUrl === undefined) announcedUrl = match[1];
    options.log?.(line);
  };
  for (const stream of [child.stdout, child.stderr]) {
    let pending = "";
    stream?.setEncoding("utf8");
    stream?.on("data", (chunk: string) => {
      pending += chunk;
      const lines = pending.split("\n");
      pending = lines.pop() ?? "";
      for (const line of lines) onLine(line.trimEnd());
    });
  }
  // Never let a forgotten server keep this process alive; the exit hook then kills it.
  child.unref();
  for (const stream of [child.stdin, child.stdout, child.stderr]) {
    (stream as unknown as { unref?: () => void } | null)?.unref?.();
  }

  const stop = async (): Promise<void> => {
    if (exitInfo !== undefined) return;
    killGroup(pid, "SIGTERM");
    const graceOver = new AbortController();
    const grace = sleep(stopGraceMs, "grace", { signal: graceOver.signal }).catch(() => "exited");
    const first = await Promise.race([exited.then(() => "exited"), grace]);
    graceOver.abort();
    if (first === "grace") {
      killGroup(pid, "SIGKILL");
      await exited;
    }
  };

  try {
    const givenUrl = options.port ? `http://${host}:${options.port}` : undefined;
    const url = await waitUntilAnswering(
      () => announcedUrl ?? givenUrl,
      () => exitInfo,
      deadline,
    );
    const moto: Moto = {
      url,
      pid,
      startupMs: Math.round(performance.now() - startedAt),
      reset: () => resetMoto(url),
      stop,
    };
    return moto;
  } catch (error) {
    await stop();
    if (exitInfo?.code === 127) throw new MotoNotFoundError();
    const detail = tail.length > 0 ? `\n--- moto_server output (last lines) ---\n${tail.join("\n")}` : "";
    throw new Error(`${(error as Error).message}${detail}`);
  }
}

async function waitUntilAnswering(
  announcedUrl: () => string | undefined,
  exitInfo: () => { code: number | null; signal: NodeJS.Signals | null } | undefined,
  deadline: number,
): Promise<string> {
  for (;;) {
    const exit = exitInfo();
    if (exit !== undefined) {
      throw new Error(`moto_server exited before answering (code ${exit.code}, signal ${exit.signal})`);
    }
    const url = announcedUrl();
    if (url !== undefined) {
      if (/:0$/.test(url)) throw new Error(`moto_server did not report the port it bound (${url})`);
      try {
        const response = await fetch(`${url}/moto-api/`, { signal: AbortSignal.timeout(2_000) });
        await response.arrayBuffer();
        if (response.ok) return url;
      } catch {}
    }
    if (Date.now() > deadline) throw new Error("moto_server did not answer within the start-up deadline");
    await sleep(25);
  }
}

async function resetMoto(url: string): Promise<void> {
  const response = await fetch(`${url}/moto-api/reset`, { method: "POST" });
  const body = await response.text();
  if (!response.ok) throw new Error(`moto reset failed: HTTP ${response.status} ${body.slice(0, 200)}`);
}
