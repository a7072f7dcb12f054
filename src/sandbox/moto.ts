import { accessSync, constants } from "node:fs";
import { delimiter, join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { startSupervised } from "./supervised-process.ts";

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

/** Starts `moto_server` on a free loopback port and waits until it answers. */
export async function startMoto(options: StartMotoOptions = {}): Promise<Moto> {
  const executable = findExecutable("moto_server");
  if (executable === undefined) throw new MotoNotFoundError();
  const host = options.host ?? "127.0.0.1";
  const deadline = Date.now() + (options.startTimeoutMs ?? 30_000);
  const stopGraceMs = options.stopGraceMs ?? 3_000;
  const startedAt = performance.now();

  let announcedUrl: string | undefined;
  const child = startSupervised(executable, ["-H", host, "-p", String(options.port ?? 0)], {
    env: { ...process.env, PYTHONUNBUFFERED: "1" },
    log: (line) => {
      const match = /Running on (http:\/\/\S+)/.exec(line);
      if (match?.[1] !== undefined && announcedUrl === undefined) announcedUrl = match[1];
      options.log?.(line);
    },
  });
  const stop = () => child.stop(stopGraceMs);

  try {
    const givenUrl = options.port ? `http://${host}:${options.port}` : undefined;
    const url = await waitUntilAnswering(
      () => announcedUrl ?? givenUrl,
      () => child.exitInfo(),
      deadline,
    );
    const moto: Moto = {
      url,
      pid: child.pid,
      startupMs: Math.round(performance.now() - startedAt),
      reset: () => resetMoto(url),
      stop,
    };
    return moto;
  } catch (error) {
    await stop();
    if (child.exitInfo()?.code === 127) throw new MotoNotFoundError();
    const tail = child.tail();
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
