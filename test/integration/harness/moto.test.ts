import assert from "node:assert/strict";
import { execFile, spawn } from "node:child_process";
import { createServer } from "node:net";
import { dirname } from "node:path";
import { after, before, describe, test } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import { promisify } from "node:util";
import { CreateVpcCommand, DescribeVpcsCommand, EC2Client } from "@aws-sdk/client-ec2";
import {
  findExecutable,
  isMotoMissing,
  MOTO_NOT_FOUND_MESSAGE,
  type Moto,
  startMoto,
} from "../../../src/sandbox/moto.ts";

const run = promisify(execFile);
const motoModule = new URL("../../../src/sandbox/moto.ts", import.meta.url).href;

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

async function answers(url: string): Promise<boolean> {
  try {
    const response = await fetch(`${url}/moto-api/`, { signal: AbortSignal.timeout(1_000) });
    await response.arrayBuffer();
    return response.ok;
  } catch {
    return false;
  }
}

/** Waits until the server stops answering; the process may linger as an unreaped zombie, its socket does not. */
async function untilSilent(url: string, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (await answers(url)) {
    if (Date.now() > deadline) assert.fail(`${url} still answers ${timeoutMs} ms after its owner went away`);
    await sleep(50);
  }
}

/**
 * Runs a node child that starts moto, then (once we have seen moto answer) either exits without
 * stopping it or is SIGKILLed. Returns the URL moto had.
 */
async function motoInAbandonedChild(ending: "exit" | "sigkill"): Promise<string> {
  const script = `
    import { startMoto } from ${JSON.stringify(motoModule)};
    const moto = await startMoto();
    console.log(moto.url);
    process.stdin.once("data", () => process.exit(0));
  `;
  const child = spawn(process.execPath, ["--input-type=module", "-e", script], {
    stdio: ["pipe", "pipe", "inherit"],
  });
  try {
    let output = "";
    const url = await new Promise<string>((resolve, reject) => {
      child.stdout.setEncoding("utf8");
      child.stdout.on("data", (chunk: string) => {
        output += chunk;
        if (output.includes("\n")) resolve(output.split("\n")[0]!.trim());
      });
      child.once("exit", (code) => reject(new Error(`child exited with ${code} before moto started`)));
    });
    assert.equal(await answers(url), true);
    const exited = new Promise((resolve) => child.once("exit", resolve));
    if (ending === "exit") child.stdin.write("go\n");
    else child.kill("SIGKILL");
    await exited;
    return url;
  } finally {
    child.kill("SIGKILL");
  }
}

describe("moto launcher", () => {
  let moto: Moto;

  before(async () => {
    moto = await startMoto();
  });
  after(async () => {
    await moto?.stop();
  });

  test("starts on a free loopback port and answers", async () => {
    assert.match(moto.url, /^http:\/\/127\.0\.0\.1:\d+$/);
    assert.notEqual(new URL(moto.url).port, "0");
    assert.ok(moto.pid > 0);
    assert.ok(moto.startupMs > 0 && moto.startupMs < 30_000, `startup took ${moto.startupMs} ms`);
    assert.equal(await answers(moto.url), true);
  });

  test("reset forgets what was created", async () => {
    const ec2 = new EC2Client({
      endpoint: moto.url,
      region: "us-west-2",
      credentials: { accessKeyId: "testing", secretAccessKey: "testing" },
    });
    const { Vpc } = await ec2.send(new CreateVpcCommand({ CidrBlock: "10.42.0.0/16" }));
    assert.ok(Vpc?.VpcId);
    const before = await ec2.send(new DescribeVpcsCommand({}));
    assert.ok(before.Vpcs?.some((vpc) => vpc.VpcId === Vpc.VpcId));

    await moto.reset();

    const afterReset = await ec2.send(new DescribeVpcsCommand({}));
    assert.equal(
      afterReset.Vpcs?.some((vpc) => vpc.VpcId === Vpc.VpcId),
      false,
    );
    ec2.destroy();
  });

  test("stop ends the process and is idempotent", async () => {
    const other = await startMoto();
    assert.equal(isAlive(other.pid), true);
    await other.stop();
    assert.equal(isAlive(other.pid), false);
    assert.equal(await answers(other.url), false);
    await other.stop();
  });

  test("two servers run side by side on different ports", async () => {
    const other = await startMoto();
    try {
      assert.notEqual(other.url, moto.url);
      assert.equal(await answers(other.url), true);
    } finally {
      await other.stop();
    }
  });

  test("a server that dies at start-up fails with its output", async () => {
    const blocker = createServer();
    await new Promise<void>((resolve) => blocker.listen(0, "127.0.0.1", resolve));
    const { port } = blocker.address() as { port: number };
    try {
      await assert.rejects(startMoto({ port }), (error: Error) => {
        assert.match(error.message, /moto_server exited before answering/);
        assert.match(error.message, /moto_server output/);
        return true;
      });
    } finally {
      blocker.close();
    }
  });
});

describe("moto cleanup when its owner goes away", () => {
  test("the exit hook kills moto when the process exits without stopping it", async () => {
    const url = await motoInAbandonedChild("exit");
    await untilSilent(url);
  });

  test("the stdin watchdog kills moto when its owner is SIGKILLed", async () => {
    const url = await motoInAbandonedChild("sigkill");
    await untilSilent(url);
  });
});

describe("moto missing from PATH", () => {
  test("fails with one clear line", async () => {
    const nodeDir = dirname(process.execPath);
    assert.equal(findExecutable("moto_server", nodeDir), undefined, `${nodeDir} holds a moto_server`);
    const script = `
      import { startMoto, isMotoMissing } from ${JSON.stringify(motoModule)};
      try { await startMoto(); console.log("started"); } catch (error) {
        console.log(error.message); process.exitCode = isMotoMissing(error) ? 3 : 4;
      }
    `;
    const result = await run(process.execPath, ["--input-type=module", "-e", script], {
      env: { PATH: nodeDir, HOME: process.env.HOME ?? "/tmp" },
    }).then(
      () => assert.fail("the child should have exited non-zero"),
      (error: { code: number; stdout: string }) => error,
    );
    assert.equal(result.code, 3);
    assert.equal(result.stdout, `${MOTO_NOT_FOUND_MESSAGE}\n`);
    assert.equal(
      MOTO_NOT_FOUND_MESSAGE,
      "moto_server not found on PATH: install it with pip install 'moto[server]'",
    );
  });

  test("isMotoMissing is false for other errors", () => {
    assert.equal(isMotoMissing(new Error("boom")), false);
  });
});
