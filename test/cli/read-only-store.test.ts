import { execFileSync, spawn } from "node:child_process";
import { chmodSync, existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { type CliResult, TRAINOPS_BIN } from "../harness/cli.ts";

// A store folder the user cannot write. Root writes anywhere, so as root the CLI runs as
// `nobody` (setpriv, else runuser); as any other user, a folder without write permission does.

const root = mkdtempSync(join(tmpdir(), "trainops-readonly-"));
afterAll(() => rmSync(root, { recursive: true, force: true }));

function findTool(name: string): string | null {
  for (const dir of ["/usr/bin", "/bin", "/usr/sbin", "/sbin"]) {
    if (existsSync(join(dir, name))) return join(dir, name);
  }
  return null;
}

const isRoot = process.getuid?.() === 0;
const setpriv = findTool("setpriv");
const runuser = findTool("runuser");
/** The command prefix that drops root, or null where none exists. */
function unprivileged(): string[] | null {
  if (!isRoot) return [];
  if (setpriv) {
    const gid = execFileSync("id", ["-g", "nobody"], { encoding: "utf8" }).trim();
    return [setpriv, "--reuid=nobody", `--regid=${gid}`, "--clear-groups"];
  }
  if (runuser) return [runuser, "-u", "nobody", "--"];
  return null;
}
const prefix = unprivileged();

function trainopsAsUser(args: string[]): Promise<CliResult> {
  const [command, ...rest] = [...(prefix ?? []), process.execPath, TRAINOPS_BIN, ...args];
  const child = spawn(command as string, rest, {
    cwd: root,
    env: { ...process.env, TRAINOPS_FROM_SOURCE: "0", HOME: root },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let stdout = "";
  let stderr = "";
  child.stdout.on("data", (chunk: Buffer) => {
    stdout += chunk.toString("utf8");
  });
  child.stderr.on("data", (chunk: Buffer) => {
    stderr += chunk.toString("utf8");
  });
  return new Promise((resolve, reject) => {
    child.on("error", reject);
    child.on("close", (code) => resolve({ code, stdout, stderr }));
  });
}

describe.skipIf(prefix === null)(
  "a store folder this user cannot write (skipped as root without setpriv or runuser)",
  () => {
    it("every command names the store, its folder and the fix instead of EACCES", async () => {
      // Readable by everyone, writable by its owner (root) only.
      chmodSync(root, 0o755);
      const storeDir = join(root, "store");
      const work = join(root, "work");
      mkdirSync(storeDir, { mode: 0o755 });
      mkdirSync(work, { mode: 0o755 });
      if (!isRoot) chmodSync(storeDir, 0o555);
      writeFileSync(join(work, "train.log"), "Train step 1/4000\n");
      const store = join(storeDir, "trainops.db");
      const config = join(root, "trainops.yaml");
      writeFileSync(
        config,
        [
          `store: ${store}`,
          "runs:",
          "  - name: exp001",
          "    ssh: local",
          `    workdir: ${work}`,
          "    log: train.log",
          "    steps: { perEpoch: 4000, epochs: 32 }",
          "",
        ].join("\n"),
      );
      chmodSync(config, 0o644);
      const expected = `cannot write the store ${store}: ${storeDir} is not writable by this user; fix its permissions, or point store: at a writable path`;
      for (const args of [["start"], ["poll", "--once"], ["status"]]) {
        const out = await trainopsAsUser([...args, "--config", config]);
        expect(out.stderr, args.join(" ")).toContain(expected);
        expect(out.stderr, args.join(" ")).not.toMatch(/EACCES|EPERM|SQLITE_/);
        expect(out.code, args.join(" ")).not.toBe(0);
      }
      // Nothing was left behind in the folder.
      expect(existsSync(store)).toBe(false);
      expect(existsSync(`${store}.lock`)).toBe(false);
    }, 120_000);
  },
);
