import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runTrainops } from "../harness/cli.ts";

const repo = (path: string) => fileURLToPath(new URL(`../../${path}`, import.meta.url));
const compiled = { env: { TRAINOPS_FROM_SOURCE: "0" }, timeoutMs: 60_000 };
let dir: string;

/** The package a bare import specifier names: `ssh2/lib/client.js` → `ssh2`. */
function packageOf(specifier: string): string {
  const parts = specifier.split("/");
  return specifier.startsWith("@") ? parts.slice(0, 2).join("/") : (parts[0] as string);
}

/**
 * The chunks these dist/cli files load before they run: their static imports and theirs,
 * transitively (a dynamic import() is not followed: that code loads only when it runs), with
 * the packages they load as they do — static imports and the top-level `require()`s of
 * CommonJS packages — and the packages they load only when a function runs (an import() or an
 * indented, in-function `require()`).
 */
function staticClosure(start: string[]): {
  chunks: Set<string>;
  packages: Set<string>;
  lazyPackages: Set<string>;
} {
  const chunks = new Set<string>();
  const packages = new Set<string>();
  const lazyPackages = new Set<string>();
  const queue = [...start];
  for (let file = queue.pop(); file !== undefined; file = queue.pop()) {
    if (chunks.has(file)) continue;
    chunks.add(file);
    const text = readFileSync(repo(`dist/cli/${file}`), "utf8");
    for (const m of text.matchAll(/^import\s(?:[^;"]*?\sfrom\s*)?"([^"]+)";/gm)) {
      const target = m[1] as string;
      if (target.startsWith("./")) queue.push(target.slice(2));
      else packages.add(packageOf(target));
    }
    for (const m of text.matchAll(/^(\s*)\S.*?\brequire\d*\("([^"]+)"\)/gm)) {
      const target = m[2] as string;
      if (target.startsWith("node:")) continue;
      (m[1] === "" ? packages : lazyPackages).add(packageOf(target));
    }
    for (const m of text.matchAll(/\bimport\("([^"./][^"]*)"\)/g)) {
      lazyPackages.add(packageOf(m[1] as string));
    }
  }
  return { chunks, packages, lazyPackages };
}

beforeAll(() => {
  // dist/ is the build `npm ci` runs through `prepare`, made by vitest's global set-up before
  // any test file (rebuilding it here would pull it from under the other files' CLI processes).
  dir = mkdtempSync(join(tmpdir(), "trainops-compiled-"));
});

afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("the compiled CLI (dist/)", () => {
  it("is what package.json's build and prepare scripts produce", () => {
    const pkg = JSON.parse(readFileSync(repo("package.json"), "utf8")) as {
      scripts: Record<string, string>;
    };
    expect(pkg.scripts.prepare).toBe("node scripts/build.mjs");
    expect(pkg.scripts.build).toBe("node scripts/build.mjs");
    expect(existsSync(repo("dist/cli/main.js"))).toBe(true);
  });

  it("keeps the chat front ends and canvas out of the code every command loads", () => {
    const main = readFileSync(repo("dist/cli/main.js"), "utf8");
    const staticImports = [...main.matchAll(/^import .* from "([^"]+)";$/gm)].map((m) => m[1]);
    for (const name of ["discord.js", "@slack/bolt", "@napi-rs/canvas", "ssh2", "pino"]) {
      expect(staticImports).not.toContain(name);
    }
    // Discord is still reachable, in a chunk of its own loaded by the commands that need it.
    const chunks = readdirSync(repo("dist/cli")).map((f) =>
      readFileSync(repo(`dist/cli/${f}`), "utf8"),
    );
    expect(chunks.some((text) => text.includes('from "discord.js"'))).toBe(true);
  });

  it("loads no store, SSH, mail, scheduler or config schema for --help, by any chain of chunks", () => {
    const { chunks, packages } = staticClosure(["main.js"]);
    expect(packages).toContain("commander");
    for (const name of ["better-sqlite3", "ssh2", "nodemailer", "node-cron", "discord.js"]) {
      expect(packages).not.toContain(name);
    }
    const code = [...chunks].map((f) => readFileSync(repo(`dist/cli/${f}`), "utf8")).join("\n");
    expect(code).not.toContain("// src/config/schema.ts");
    expect(code).not.toContain("// node_modules/zod/");
  });

  it("loads for poll --once the store and the config, SSH only at the first connection, and no front end", () => {
    // The chunks poll's action imports (the CLI runtime and host polling) and theirs.
    const main = readFileSync(repo("dist/cli/main.js"), "utf8");
    const entries = new Set(
      [...main.matchAll(/import\("\.\/((?:cli-runtime|host-polling)-[\w-]+\.js)"\)/g)].map(
        (m) => m[1] as string,
      ),
    );
    expect([...entries].map((f) => f.split("-")[0]).sort()).toEqual(["cli", "host"]);
    const { chunks, packages, lazyPackages } = staticClosure(["main.js", ...entries]);
    expect(packages).toContain("better-sqlite3");
    const code = [...chunks].map((f) => readFileSync(repo(`dist/cli/${f}`), "utf8")).join("\n");
    expect(code).toContain("// src/config/schema.ts");
    for (const name of [
      "ssh2",
      "discord.js",
      "@discordjs/ws",
      "@slack/bolt",
      "@napi-rs/canvas",
      "nodemailer",
      "pino",
      "prom-client",
    ]) {
      expect(packages).not.toContain(name);
    }
    // The SSH client is there, loaded by the function the first connection runs.
    expect(lazyPackages).toContain("ssh2");
  });

  it("prints help and exits 0", async () => {
    const out = await runTrainops(["--help"], compiled);
    expect(out.code).toBe(0);
    expect(out.stdout).toContain("Usage: trainops");
    expect(out.stdout).toContain("status");
  });

  it("writes a starter config with the plan from configs/ and reads the store", async () => {
    const init = await runTrainops(
      ["init", "--local", "--workdir", dir, "--log", "train.log", "--no-check"],
      { ...compiled, cwd: dir },
    );
    expect(init.stderr).toBe("");
    expect(init.code).toBe(0);
    // The shipped plan, found through the bundle's paths (its schema modeline is rewritten).
    const body = (text: string) => text.replace(/^# yaml-language-server:.*\n/m, "");
    const plan = readFileSync(join(dir, "configs/plans/safe-optimization.yaml"), "utf8");
    expect(body(plan)).toBe(
      body(readFileSync(repo("configs/plans/safe-optimization.yaml"), "utf8")),
    );
    const config = readFileSync(join(dir, "trainops.yaml"), "utf8");
    writeFileSync(join(dir, "trainops.yaml"), config.replace(/^store:.*$/m, "store: ./t.db"));

    const status = await runTrainops(["status", "--json"], { ...compiled, cwd: dir });
    expect(status.stderr).toBe("");
    expect(status.code).toBe(0);
    const runs = (JSON.parse(status.stdout) as { runs: Array<{ lastPollAt: unknown }> }).runs;
    expect(runs).toHaveLength(1);
    expect(runs[0]?.lastPollAt).toBeNull();
  });

  it("loads the SSH client only for a command that connects: status reads the store without it", async () => {
    // A preload records the CommonJS modules the process loaded, as it exits.
    const preload = join(dir, "record-loaded.cjs");
    writeFileSync(
      preload,
      'process.on("exit", () => require("node:fs").writeFileSync(process.env.LOADED_OUT, Object.keys(require.cache).join("\\n")));\n',
    );
    writeFileSync(
      join(dir, "local.yaml"),
      `store: ./local.db\nruns:\n  - name: exp\n    ssh: local\n    workdir: ${dir}\n    log: train.log\n`,
    );
    const loaded = async (args: string[]): Promise<string> => {
      const out = join(dir, "loaded.txt");
      const run = await runTrainops([...args, "--config", join(dir, "local.yaml")], {
        ...compiled,
        env: { ...compiled.env, NODE_OPTIONS: `--require ${preload}`, LOADED_OUT: out },
      });
      expect(run.stderr).toBe("");
      return readFileSync(out, "utf8");
    };
    const status = await loaded(["status"]);
    expect(status).toContain("/node_modules/better-sqlite3/");
    expect(status).not.toContain("/node_modules/ssh2/");
  });

  it("reports a bad config with exit code 2, as from the sources", async () => {
    writeFileSync(join(dir, "bad.yaml"), "runs: 3\n");
    const out = await runTrainops(["status", "--config", join(dir, "bad.yaml")], compiled);
    expect(out.code).toBe(2);
    expect(out.stderr).toMatch(/runs/);
  });
});
