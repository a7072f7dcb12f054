// Drives the real `kubectl` binary against a kubeconfig, for tests that check what stock
// tooling sees. Every process started here is tracked and killed by its own pid.
import { type ChildProcess, execFile, spawn } from "node:child_process";
import { accessSync, constants } from "node:fs";
import { delimiter, join } from "node:path";

/** The kubectl on PATH, or undefined when there is none. */
export function findKubectl(): string | undefined {
  for (const dir of (process.env.PATH ?? "").split(delimiter)) {
    if (!dir) continue;
    const candidate = join(dir, "kubectl");
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not here
    }
  }
  return undefined;
}

export interface KubectlResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** A `kubectl` process that is still running (e.g. `get -w`), read line by line. */
export class KubectlStream {
  readonly lines: string[] = [];
  private readonly child: ChildProcess;
  private buffer = "";
  private exited = false;
  private readonly waiters: (() => void)[] = [];
  private readonly exit: Promise<number>;

  constructor(child: ChildProcess) {
    this.child = child;
    child.stdout?.setEncoding("utf8");
    child.stdout?.on("data", (chunk: string) => {
      this.buffer += chunk;
      const parts = this.buffer.split("\n");
      this.buffer = parts.pop() ?? "";
      this.lines.push(...parts.filter((l) => l.trim() !== ""));
      this.wake();
    });
    this.exit = new Promise((resolve) => {
      child.on("exit", (code) => {
        this.exited = true;
        this.wake();
        resolve(code ?? -1);
      });
    });
  }

  private wake(): void {
    for (const w of this.waiters.splice(0)) w();
  }

  /** Waits until a line matches `pattern`; fails after `timeoutMs` or when kubectl exits. */
  async waitForLine(pattern: RegExp, timeoutMs = 10_000): Promise<string> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const found = this.lines.find((l) => pattern.test(l));
      if (found !== undefined) return found;
      if (this.exited)
        throw new Error(`kubectl exited before printing ${pattern}; output: ${this.lines.join("\n")}`);
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`timed out waiting for ${pattern}; output: ${this.lines.join("\n")}`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  }

  async stop(): Promise<number> {
    if (!this.exited && this.child.pid !== undefined) this.child.kill("SIGTERM");
    return this.exit;
  }
}

export class Kubectl {
  readonly binary: string;
  readonly kubeconfig: string;
  readonly cacheDir: string;
  private readonly streams = new Set<KubectlStream>();

  constructor(binary: string, kubeconfig: string, cacheDir: string) {
    this.binary = binary;
    this.kubeconfig = kubeconfig;
    this.cacheDir = cacheDir;
  }

  private args(args: string[]): string[] {
    return [`--kubeconfig=${this.kubeconfig}`, `--cache-dir=${this.cacheDir}`, ...args];
  }

  /** Runs kubectl to completion; never throws on a non-zero exit. */
  run(args: string[], options: { input?: string; timeoutMs?: number } = {}): Promise<KubectlResult> {
    return new Promise((resolve) => {
      const child = execFile(
        this.binary,
        this.args(args),
        { timeout: options.timeoutMs ?? 30_000, env: { ...process.env, KUBECONFIG: this.kubeconfig } },
        (error, stdout, stderr) => {
          const code = error ? (typeof error.code === "number" ? error.code : 1) : 0;
          resolve({ code, stdout, stderr });
        },
      );
      if (options.input !== undefined) child.stdin?.end(options.input);
    });
  }

  /** Runs kubectl and fails unless it exits 0. */
  async ok(args: string[], input?: string): Promise<string> {
    const result = await this.run(args, input === undefined ? {} : { input });
    if (result.code !== 0) {
      throw new Error(`kubectl ${args.join(" ")} exited ${result.code}: ${result.stderr || result.stdout}`);
    }
    return result.stdout;
  }

  /** Starts a long-running kubectl (such as `get -w`); stop it with stopAll() or stream.stop(). */
  start(args: string[]): KubectlStream {
    const child = spawn(this.binary, this.args(args), {
      env: { ...process.env, KUBECONFIG: this.kubeconfig },
      stdio: ["ignore", "pipe", "pipe"],
    });
    const stream = new KubectlStream(child);
    this.streams.add(stream);
    return stream;
  }

  async stopAll(): Promise<void> {
    await Promise.all([...this.streams].map((s) => s.stop()));
    this.streams.clear();
  }
}
