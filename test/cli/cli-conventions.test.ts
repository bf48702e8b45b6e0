import { execFile } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Writable } from "node:stream";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { colorEnabled } from "../../src/cli/color.ts";
import { COMMAND_EXAMPLES } from "../../src/cli/command-examples.ts";
import { roundForJson, toJsonText } from "../../src/cli/json-output.ts";
import { main } from "../../src/cli/main.ts";
import { createLogger } from "../../src/daemon/logger.ts";

/**
 * Runs the command line in this process (spawning one per help page is slow on a busy
 * machine), with `env` set for the call and stdout/stderr captured.
 */
async function trainops(
  args: string[],
  env: NodeJS.ProcessEnv = {},
): Promise<{ code: number; stdout: string; stderr: string }> {
  const saved = { ...process.env };
  Object.assign(process.env, env);
  const out = { stdout: "", stderr: "" };
  const writes = { stdout: process.stdout.write, stderr: process.stderr.write };
  process.stdout.write = ((chunk: string | Uint8Array) => {
    out.stdout += String(chunk);
    return true;
  }) as typeof process.stdout.write;
  process.stderr.write = ((chunk: string | Uint8Array) => {
    out.stderr += String(chunk);
    return true;
  }) as typeof process.stderr.write;
  try {
    const code = await main(args);
    return { code, ...out };
  } finally {
    process.stdout.write = writes.stdout;
    process.stderr.write = writes.stderr;
    for (const key of Object.keys(env)) delete process.env[key];
    Object.assign(process.env, saved);
  }
}
const pkg = JSON.parse(readFileSync("package.json", "utf8")) as { version: string };

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), "trainops-conventions-"));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("CLI conventions", () => {
  it("--version and -V print the package version", async () => {
    for (const flag of ["--version", "-V"]) {
      const out = await trainops([flag]);
      expect(out.code).toBe(0);
      expect(out.stdout.trim()).toBe(pkg.version);
    }
  });

  it("TRAINOPS_CONFIG is the default --config; --config still wins", async () => {
    const fromEnv = join(dir, "from-env.yaml");
    const out = await trainops(["status"], { TRAINOPS_CONFIG: fromEnv });
    expect(out.code).toBe(2);
    expect(out.stderr).toContain(`${fromEnv}: file not found`);
    const flag = join(dir, "from-flag.yaml");
    const both = await trainops(["status", "--config", flag], { TRAINOPS_CONFIG: fromEnv });
    expect(both.stderr).toContain(`${flag}: file not found`);
    expect(both.stderr).not.toContain("from-env");
  });

  it("every command's --help ends with examples", async () => {
    const help = await trainops(["--help"]);
    const names = [...help.stdout.matchAll(/^ {2}([a-z-]+)\b/gm)]
      .map((m) => m[1] as string)
      .filter((n) => n !== "help" && /^[a-z]/.test(n));
    expect(names.length).toBeGreaterThan(10);
    for (const name of names) {
      expect(COMMAND_EXAMPLES[name], name).toBeDefined();
      const out = await trainops([name, "--help"]);
      expect(out.stdout, name).toMatch(/\nExamples:\n {2}\$ trainops /);
    }
  });

  it("bash completion completes commands, their options, shells and config files", async () => {
    const script = join(dir, "trainops.bash");
    writeFileSync(script, (await trainops(["completion", "bash"])).stdout);
    writeFileSync(join(dir, "prod.yaml"), "");
    const complete = async (...words: string[]) => {
      const { stdout } = await promisify(execFile)(
        "bash",
        [
          "-c",
          `source ${script}; COMP_WORDS=(${words.map((w) => `'${w}'`).join(" ")}); COMP_CWORD=${words.length - 1}; _trainops; printf '%s\\n' "\${COMPREPLY[@]}"`,
        ],
        { cwd: dir },
      );
      return stdout.trim().split("\n");
    };
    expect(await complete("trainops", "st")).toEqual(["start", "status", "stop"]);
    expect(await complete("trainops", "status", "--")).toEqual(
      expect.arrayContaining(["--run", "--config", "--json", "--help"]),
    );
    expect(await complete("trainops", "completion", "")).toEqual(["bash", "zsh", "fish"]);
    expect(await complete("trainops", "status", "--config", "pro")).toEqual(["prod.yaml"]);
  });

  it("zsh and fish scripts name every command; an unknown shell is a usage error", async () => {
    const zsh = (await trainops(["completion", "zsh"])).stdout;
    const fish = (await trainops(["completion", "fish"])).stdout;
    expect(zsh.startsWith("#compdef trainops")).toBe(true);
    for (const name of Object.keys(COMMAND_EXAMPLES)) {
      expect(zsh, name).toContain(`'${name}:`);
      expect(fish, name).toContain(`-a ${name} `);
    }
    expect(fish).toContain("-l config -r -F");
    const bad = await trainops(["completion", "tcsh"]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/unknown shell 'tcsh'; use bash, zsh, fish/);
  });

  it("NO_COLOR and FORCE_COLOR decide colour, else only a terminal gets it", () => {
    expect(colorEnabled({ isTTY: true }, {})).toBe(true);
    expect(colorEnabled({ isTTY: false }, {})).toBe(false);
    expect(colorEnabled({ isTTY: true }, { NO_COLOR: "1" })).toBe(false);
    expect(colorEnabled({ isTTY: true }, { NO_COLOR: "" })).toBe(true);
    expect(colorEnabled({ isTTY: false }, { FORCE_COLOR: "1" })).toBe(true);
    expect(colorEnabled({ isTTY: true }, { FORCE_COLOR: "0" })).toBe(false);
    const written = (color: boolean) => {
      let text = "";
      const destination = new Writable({
        write(chunk, _enc, done) {
          text += String(chunk);
          done();
        },
      });
      createLogger({ level: "info", pretty: true, color, destination }).warn("disk low");
      return text;
    };
    expect(written(true)).toMatch(/\u001b\[/);
    expect(written(false)).not.toMatch(/\u001b\[/);
    expect(written(false)).toContain("disk low");
  });

  it("JSON numbers: ETAs in whole seconds, other floats to four significant digits", () => {
    expect(roundForJson("stepsPerHour", 199.99999999)).toBe(200);
    expect(roundForJson("stepTimeSeconds", 17.98765)).toBe(17.99);
    expect(roundForJson("loss", 0.41234567)).toBe(0.4123);
    expect(roundForJson("etaSeconds", 12345.678)).toBe(12346);
    expect(roundForJson("epochEtaSeconds", 59.6)).toBe(60);
    expect(roundForJson("step", 549)).toBe(549);
    expect(
      JSON.parse(toJsonText({ runs: [{ stepsPerHour: 1234.5678, etaSeconds: 1.4 }] })),
    ).toEqual({
      runs: [{ stepsPerHour: 1235, etaSeconds: 1 }],
    });
  });
});
