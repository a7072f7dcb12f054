import { type ChildProcess, spawn } from "node:child_process";
import { setTimeout as sleep } from "node:timers/promises";

/**
 * A server process the sandbox or a test started (moto, etcd, kube-apiserver): in its own process
 * group, so a stop reaches its children, and killed when this process goes, even by SIGKILL.
 */
export interface SupervisedProcess {
  /** Process id, also the id of its process group. */
  readonly pid: number;
  /** The last lines it printed, for error messages. */
  tail(): string[];
  /** How it ended, once it has. */
  exitInfo(): ExitInfo | undefined;
  /** Resolves once the process has exited. */
  readonly exited: Promise<void>;
  /** SIGTERM to its process group, SIGKILL after the grace period; resolves once the process has exited. */
  stop(graceMs?: number): Promise<void>;
}

export interface ExitInfo {
  code: number | null;
  signal: NodeJS.Signals | null;
}

export interface SuperviseOptions {
  env?: NodeJS.ProcessEnv;
  cwd?: string;
  /** Receives every line the process prints on stdout or stderr. */
  log?: (line: string) => void;
  /** How many of the last lines tail() keeps; default 20. */
  tailLines?: number;
}

const running = new Set<ChildProcess>();
let exitHooksInstalled = false;

function killGroup(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pid, signal);
  } catch {}
}

/**
 * The children run in their own process group, which also means a Ctrl-C or SIGTERM aimed at us
 * does not reach them: kill them on the way out, whichever way that is.
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
 * The shell forks a watchdog that kills the server when our end of its stdin closes (that is, when
 * this process is gone, even by SIGKILL), then execs the server in its own place, so the pid we hold
 * is the server's. `$$` inside the subshell is the outer shell's pid, which the exec hands on.
 */
const WATCHDOG_SCRIPT = 'exec 3<&0 </dev/null; (read _line <&3; kill "$$" 2>/dev/null) & exec "$@" 3<&-';

/** Starts `executable` with `args` under the watchdog. */
export function startSupervised(
  executable: string,
  args: string[],
  options: SuperviseOptions = {},
): SupervisedProcess {
  installExitHooks();
  const child = spawn("/bin/sh", ["-c", WATCHDOG_SCRIPT, "sh", executable, ...args], {
    detached: true,
    stdio: ["pipe", "pipe", "pipe"],
    env: options.env ?? process.env,
    cwd: options.cwd,
  });
  const pid = child.pid;
  if (pid === undefined) throw new Error(`${executable} could not be spawned`);
  running.add(child);

  const keep = options.tailLines ?? 20;
  const lines: string[] = [];
  let exit: ExitInfo | undefined;
  const exited = new Promise<void>((resolve) => {
    child.once("exit", (code, signal) => {
      exit = { code, signal };
      running.delete(child);
      // Reap the watchdog subshell, which outlives the server in the same group.
      killGroup(pid, "SIGKILL");
      resolve();
    });
  });
  const onLine = (line: string): void => {
    lines.push(line);
    if (lines.length > keep) lines.shift();
    options.log?.(line);
  };
  for (const stream of [child.stdout, child.stderr]) {
    let pending = "";
    stream?.setEncoding("utf8");
    stream?.on("data", (chunk: string) => {
      pending += chunk;
      const parts = pending.split("\n");
      pending = parts.pop() ?? "";
      for (const line of parts) onLine(line.trimEnd());
    });
  }
  // Never let a forgotten server keep this process alive; the exit hook then kills it.
  child.unref();
  for (const stream of [child.stdin, child.stdout, child.stderr]) {
    (stream as unknown as { unref?: () => void } | null)?.unref?.();
  }

  const stop = async (graceMs = 3_000): Promise<void> => {
    if (exit !== undefined) return;
    killGroup(pid, "SIGTERM");
    const graceOver = new AbortController();
    const grace = sleep(graceMs, "grace", { signal: graceOver.signal }).catch(() => "exited");
    const first = await Promise.race([exited.then(() => "exited"), grace]);
    graceOver.abort();
    if (first === "grace") {
      killGroup(pid, "SIGKILL");
      await exited;
    }
  };
  return { pid, tail: () => [...lines], exitInfo: () => exit, exited, stop };
}
