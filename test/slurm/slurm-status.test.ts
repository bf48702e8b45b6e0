import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parseConfig } from "../../src/config/load-config.ts";
import { readRunStatus } from "../../src/monitors/run-status.ts";
import { createMonitorStore } from "../../src/store/monitor-store.ts";
import { waitUntil } from "../harness/wait.ts";
import { type SlurmFixture, startSlurmFixture } from "./slurm-fixture.ts";

let fx: SlurmFixture;

beforeAll(async () => {
  fx = await startSlurmFixture({ prefix: "trainops-slurm-status-" });
}, 60_000);

afterAll(async () => {
  await fx?.stop();
});

describe("a Slurm run watched from the login node over SSH", () => {
  it("shows the queue while pending, then nodes, per-node GPUs and steps from the job's StdOut", async () => {
    const blocker = await fx.block();
    await waitUntil(async () => (await fx.cluster.jobState(blocker)) === "RUNNING", {
      what: "the blocking job to run",
    });
    const jobId = await fx.submit();
    const path = fx.sim.writeConfig({
      store: `${fx.sim.root}/store.db`,
      runs: [fx.runEntry()],
    });
    const config = parseConfig((await import("node:fs")).readFileSync(path, "utf8"));
    const { monitor, db } = fx.sim.attach(config);
    const store = createMonitorStore(db);

    // The scheduler names a reason on its first pass over the new job.
    let pending = await monitor.pollOnce();
    await waitUntil(
      async () => {
        pending = await monitor.pollOnce();
        return readRunStatus(store, "exp001").slurm?.reason != null;
      },
      { intervalMs: 300, what: "a pending reason" },
    );
    expect(pending.outcome).toBe("ok");
    expect(pending.message).toBeNull();
    const waiting = readRunStatus(store, "exp001").slurm;
    expect(waiting).toMatchObject({
      jobId: String(jobId),
      state: "PENDING",
      nodes: [],
      timeLimitSeconds: null,
      restarts: 0,
    });
    expect(waiting?.reason).toMatch(/Resources|Priority/);
    expect(pending.sample.alive).toBe(false);

    await fx.cluster.exec("scancel", [String(blocker)]);
    await waitUntil(
      async () => {
        const report = await monitor.pollOnce();
        return report.sample.step !== null && report.sample.gpus.length === 2;
      },
      { timeoutMs: 60_000, intervalMs: 500, what: "steps and GPUs of the running job" },
    );
    const status = readRunStatus(store, "exp001");
    expect(status.slurm).toMatchObject({
      jobId: String(jobId),
      state: "RUNNING",
      reason: null,
      nodes: ["n1", "n2"],
      gpusPerNode: { n1: 2, n2: 2 },
    });
    expect(status.alive).toBe(true);
    // The fake nvidia-smi shows one GPU per call; each node's srun task ran it once.
    expect(status.gpus.map((g) => `${g.node}/GPU${g.index}`)).toEqual(["n1/GPU0", "n2/GPU0"]);
    expect(status.step).toBeGreaterThan(0);
  }, 120_000);
});
