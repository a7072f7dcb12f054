// The Dockerfile, read instruction by instruction (no Docker engine here): stages, what each one
// runs, the unprivileged runtime, and the entrypoint matching what `npm run build` produces.
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { before, describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import { parse } from "yaml";

const ROOT = fileURLToPath(new URL("../../../", import.meta.url));

interface Instruction {
  keyword: string;
  args: string;
}

interface Stage {
  name: string;
  image: string;
  instructions: Instruction[];
}

/** Splits a Dockerfile into instructions: comments dropped, `\` continuations joined. */
function instructionsOf(text: string): Instruction[] {
  const instructions: Instruction[] = [];
  let pending = "";
  for (const rawLine of text.split("\n")) {
    const line = rawLine.trim();
    if (pending === "" && (line === "" || line.startsWith("#"))) continue;
    if (line.startsWith("#")) continue;
    if (line.endsWith("\\")) {
      pending += `${line.slice(0, -1)} `;
      continue;
    }
    const full = (pending + line).trim();
    pending = "";
    const match = /^([A-Za-z]+)\s+(.*)$/s.exec(full);
    assert.ok(match, `not an instruction: ${full}`);
    instructions.push({ keyword: match[1]!.toUpperCase(), args: match[2]!.trim() });
  }
  assert.equal(pending, "", "the Dockerfile ends inside a continued line");
  return instructions;
}

function stagesOf(instructions: Instruction[]): { args: Map<string, string>; stages: Stage[] } {
  const args = new Map<string, string>();
  const stages: Stage[] = [];
  for (const instruction of instructions) {
    if (instruction.keyword === "FROM") {
      const match = /^(\S+)(?:\s+AS\s+(\S+))?$/i.exec(instruction.args);
      assert.ok(match, `bad FROM: ${instruction.args}`);
      const image = match[1]!.replace(/\$\{(\w+)\}/g, (_, name: string) => args.get(name) ?? "");
      stages.push({ name: match[2] ?? String(stages.length), image, instructions: [] });
    } else if (stages.length === 0) {
      assert.equal(instruction.keyword, "ARG", "only ARG may come before the first FROM");
      const [name, value] = instruction.args.split("=");
      args.set(name!, value ?? "");
    } else {
      stages.at(-1)!.instructions.push(instruction);
    }
  }
  return { args, stages };
}

function exec(stage: Stage, keyword: string): string[] {
  return stage.instructions.filter((i) => i.keyword === keyword).map((i) => i.args);
}

/** The paths a COPY/ADD reads, and its flags. */
function copyParts(args: string): { flags: Map<string, string>; sources: string[]; dest: string } {
  const words = args.split(/\s+/);
  const flags = new Map<string, string>();
  while (words[0]?.startsWith("--")) {
    const [flag, value] = words.shift()!.slice(2).split("=");
    flags.set(flag!, value ?? "");
  }
  const dest = words.pop()!;
  return { flags, sources: words, dest };
}

/** Whether a top-level .dockerignore pattern (name or `*.ext` glob) excludes `path`. */
function ignored(patterns: string[], path: string): boolean {
  const first = path.replace(/^\.\//, "").split("/")[0]!;
  return patterns.some((pattern) => {
    const regex = new RegExp(`^${pattern.replace(/[.+^${}()|[\]\\]/g, "\\$&").replace(/\*/g, "[^/]*")}$`);
    return regex.test(first);
  });
}

describe("Dockerfile", () => {
  let stages: Stage[] = [];
  let dockerignore: string[] = [];
  before(async () => {
    const text = await readFile(join(ROOT, "Dockerfile"), "utf8");
    stages = stagesOf(instructionsOf(text)).stages;
    dockerignore = (await readFile(join(ROOT, ".dockerignore"), "utf8"))
      .split("\n")
      .map((l) => l.trim())
      .filter((l) => l !== "" && !l.startsWith("#"));
  });

  it("has build, deps and runtime stages on Node 24", () => {
    assert.deepEqual(
      stages.map((s) => s.name),
      ["build", "deps", "runtime"],
    );
    for (const stage of stages)
      assert.match(stage.image, /^(node:24[-.\w]*|gcr\.io\/distroless\/nodejs24[-\w:]*)$/);
  });

  it("compiles with the dev dependencies in the build stage", () => {
    const build = stages[0]!;
    const runs = exec(build, "RUN").join("\n");
    assert.match(runs, /\bnpm ci\b/);
    assert.doesNotMatch(runs, /--omit=dev/);
    assert.match(runs, /\bnpm run build\b/);
  });

  it("installs only production dependencies for the runtime", () => {
    const deps = stages[1]!;
    assert.match(exec(deps, "RUN").join("\n"), /\bnpm ci --omit=dev\b/);
    const runtime = stages[2]!;
    assert.deepEqual(
      exec(runtime, "RUN"),
      [],
      "the runtime stage runs nothing: no package manager at run time",
    );
    const fromStages = exec(runtime, "COPY")
      .map(copyParts)
      .filter((c) => c.flags.has("from"));
    assert.deepEqual(
      fromStages.map((c) => [c.flags.get("from"), c.sources]),
      [
        ["deps", ["/app/node_modules"]],
        ["build", ["/src/dist"]],
      ],
    );
  });

  it("runs as 65532 with the entrypoint and command of the controller", () => {
    const runtime = stages.at(-1)!;
    assert.deepEqual(exec(runtime, "USER"), ["65532:65532"]);
    assert.deepEqual(JSON.parse(exec(runtime, "ENTRYPOINT").at(-1) ?? "null"), ["node", "dist/cli.js"]);
    assert.deepEqual(JSON.parse(exec(runtime, "CMD").at(-1) ?? "null"), ["run"]);
    assert.deepEqual(exec(runtime, "WORKDIR"), ["/app"]);
  });

  it("exposes the chart's metrics and probe ports", async () => {
    const values = parse(await readFile(join(ROOT, "helm/aws-nlb-controller/values.yaml"), "utf8")) as {
      metrics: { port: number };
      healthProbe: { port: number };
    };
    const exposed = exec(stages.at(-1)!, "EXPOSE").flatMap((e) => e.split(/\s+/).map(Number));
    assert.deepEqual(exposed.sort(), [values.metrics.port, values.healthProbe.port].sort());
  });

  it("starts the file that package.json's bin names and tsc emits", async () => {
    const pkg = JSON.parse(await readFile(join(ROOT, "package.json"), "utf8")) as {
      bin: Record<string, string>;
      scripts: Record<string, string>;
      type: string;
    };
    assert.equal(pkg.bin["nlb-controller"], "dist/cli.js");
    assert.equal(pkg.type, "module", "dist/*.js are ES modules, so package.json must be in the image");
    const tsconfig = JSON.parse(await readFile(join(ROOT, "tsconfig.json"), "utf8")) as {
      compilerOptions: { rootDir: string; outDir: string };
    };
    assert.equal(tsconfig.compilerOptions.rootDir, "src");
    assert.equal(tsconfig.compilerOptions.outDir, "dist");
    const runtimeCopies = exec(stages.at(-1)!, "COPY").map(copyParts);
    assert.ok(runtimeCopies.some((c) => !c.flags.has("from") && c.sources.includes("package.json")));
  });

  it("copies from the build context only files that exist and .dockerignore lets through", () => {
    const contextSources = stages
      .flatMap((s) => [...exec(s, "COPY"), ...exec(s, "ADD")])
      .map(copyParts)
      .filter((c) => !c.flags.has("from"))
      .flatMap((c) => c.sources);
    assert.ok(contextSources.length >= 4);
    for (const source of contextSources) {
      assert.ok(existsSync(join(ROOT, source)), `${source} does not exist`);
      assert.equal(ignored(dockerignore, source), false, `${source} is excluded by .dockerignore`);
    }
    for (const heavy of ["node_modules", "dist", ".git", "test"]) {
      assert.ok(ignored(dockerignore, heavy), `${heavy} should stay out of the build context`);
    }
  });
});
