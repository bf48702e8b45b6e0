import { type ChildProcess, spawn } from "node:child_process";
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { hostname, tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, describe, expect, it } from "vitest";
import { acquireInstanceLock, InstanceLockedError } from "../../src/daemon/instance-lock.ts";

const HOLDER = fileURLToPath(new URL("../harness/lock-holder.ts", import.meta.url));
const root = mkdtempSync(join(tmpdir(), "trainops-lock-"));
afterAll(() => rmSync(root, { recursive: true, force: true }));

/** Starts a process that holds the lock of `store`; resolves once it says it does. */
async function holder(store: string): Promise<ChildProcess> {
  const child = spawn(process.execPath, ["--import", "tsx", HOLDER, store], {
    stdio: ["ignore", "pipe", "inherit"],
  });
  await new Promise<void>((resolve, reject) => {
    child.stdout?.on("data", (chunk: Buffer) => {
      if (chunk.toString().includes("held")) resolve();
    });
    child.on("exit", (code) => reject(new Error(`lock holder exited with ${code}`)));
  });
  return child;
}

describe("the instance lock", () => {
  it("refuses a second trainops while the first lives, and is free at once after a SIGKILL", async () => {
    const store = join(root, "a.db");
    const first = await holder(store);
    const refused = await acquireInstanceLock(store).catch((error: Error) => error);
    expect(refused).toBeInstanceOf(InstanceLockedError);
    expect((refused as Error).message).toMatch(
      new RegExp(
        `another trainops \\(pid ${first.pid} on ${hostname()}, started .+\\) is already running on ${store}`,
      ),
    );
    const gone = new Promise((resolve) => first.once("exit", resolve));
    first.kill("SIGKILL");
    await gone;
    // No heartbeat to wait out, no file to delete: the kernel let go with the process.
    const lock = await acquireInstanceLock(store);
    expect(existsSync(lock.path)).toBe(true);
    lock.release();
    expect(existsSync(lock.path)).toBe(false);
  }, 60_000);

  it("takes over a lock file naming a live pid that does not hold it (pid 1 in a restarted container)", async () => {
    const store = join(root, "b.db");
    writeFileSync(`${store}.lock`, `1 ${hostname()} 2026-12-01T00:00:00.000Z\n`);
    const lock = await acquireInstanceLock(store);
    const again = await acquireInstanceLock(store).catch((error: Error) => error);
    expect((again as Error).message).toContain(`pid ${process.pid}`);
    lock.release();
  });
});
