import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type RunConfig, runSchema } from "../../src/config/schema.ts";
import { systemClock } from "../../src/core/clock.ts";
import { RunMonitor } from "../../src/monitors/run-monitor.ts";
import { openDatabase } from "../../src/store/database.ts";
import { createMonitorStore } from "../../src/store/monitor-store.ts";
import { HostTransportPool } from "../../src/transport/host-transport-pool.ts";
import { createFakeRunDir, stepLine } from "../harness/fake-run-dir.ts";
import { type SshdHarness, startSshd } from "../harness/sshd.ts";

let sshd: SshdHarness;
let root: string;

beforeAll(async () => {
  sshd = await startSshd();
  root = mkdtempSync(join(tmpdir(), "trainops-pool-"));
});

afterAll(async () => {
  await sshd?.stop();
  rmSync(root, { recursive: true, force: true });
});

function runOn(name: string, ssh: Record<string, unknown>): RunConfig {
  const { workdir, nvidiaSmi } = createFakeRunDir(
    join(root, name),
    "train.log",
    `${stepLine(7)}\n`,
  );
  return runSchema.parse({ name, ssh, workdir, log: "train.log", nvidiaSmi });
}

async function until(condition: () => boolean, what: string): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

describe("HostTransportPool over a real sshd", () => {
  it("runs on one host share one connection; it closes with the last of them", async () => {
    const runs = ["a", "b", "c"].map((name) => runOn(name, sshd.runConfigSsh()));
    const store = createMonitorStore(openDatabase(join(root, "shared.db")));
    const pool = new HostTransportPool();
    const transports = runs.map((run) => pool.get(run));
    const monitors = transports.map(
      (transport, i) =>
        new RunMonitor({ run: runs[i] as RunConfig, transport, store, clock: systemClock }),
    );
    const reports = await Promise.all(monitors.map((m) => m.pollOnce()));
    expect(reports.map((r) => [r.outcome, r.sample.step])).toEqual([
      ["ok", 7],
      ["ok", 7],
      ["ok", 7],
    ]);
    expect(pool.size).toBe(1);
    expect(sshd.connectionCount()).toBe(1);

    // One run leaving (closing its handle, twice even) leaves the others connected.
    await transports[0]?.close();
    await transports[0]?.close();
    const again = await monitors[1]?.pollOnce();
    expect(again?.outcome).toBe("ok");
    expect(sshd.connectionCount()).toBe(1);

    await transports[1]?.close();
    await transports[2]?.close();
    expect(pool.size).toBe(0);
    await until(() => sshd.connectionCount() === 0, "the shared connection to close");
  });

  it("runs with different ssh settings get connections of their own", async () => {
    const pool = new HostTransportPool();
    const a = pool.get(runOn("d", sshd.runConfigSsh()));
    const b = pool.get(runOn("e", { ...sshd.runConfigSsh(), execTimeout: "45s" }));
    const local = pool.get(runOn("f", "local" as never));
    expect(pool.size).toBe(2);
    const [ra, rb, rl] = await Promise.all([a.run("echo a"), b.run("echo b"), local.run("echo l")]);
    expect([ra.stdout, rb.stdout, rl.stdout].map((out) => out.toString().trim())).toEqual([
      "a",
      "b",
      "l",
    ]);
    expect(sshd.connectionCount()).toBe(2);
    await Promise.all([a.close(), b.close(), local.close()]);
    expect(pool.size).toBe(0);
    await until(() => sshd.connectionCount() === 0, "both connections to close");
  });
});
