import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { readRunStatus } from "../../src/monitors/run-status.ts";
import { createMonitorStore } from "../../src/store/monitor-store.ts";
import { waitUntil } from "../harness/wait.ts";
import { slurmAlertRun, text } from "./slurm-alert-run.ts";
import { type SlurmFixture, startSlurmFixture } from "./slurm-fixture.ts";

let fx: SlurmFixture;

beforeAll(async () => {
  fx = await startSlurmFixture({ prefix: "trainops-slurm-timeout-" });
}, 60_000);

afterAll(async () => {
  await fx?.stop();
});

describe("a job with --time=00:01:00", () => {
  it("raises time_limit with the scontrol hint, then job_ended TIMEOUT", async () => {
    const jobId = await fx.submit(["--time=00:01:00"]);
    await waitUntil(async () => (await fx.cluster.jobState(jobId)) === "RUNNING", {
      what: `job ${jobId} to run`,
    });
    // Slurm's shortest limit (it counts in minutes), so the wait for its end is short; a margin
    // as long as the limit: the warning is due as soon as the job runs.
    const run = slurmAlertRun(fx, { time_limit: { margin: "1m" } });
    const warning = await run.until(/time limit in/, "time_limit");
    expect(warning.title).toMatch(new RegExp(`Slurm job ${jobId} hits its time limit in \\d`));
    expect(text(warning)).toContain(`scontrol update JobId=${jobId} TimeLimit=01:01:00`);
    const status = readRunStatus(createMonitorStore(run.db), "exp001").slurm;
    expect(status?.timeLimitSeconds).toBe(60);
    expect(status?.timeLeftSeconds).toBeLessThanOrEqual(60);

    // Slurm enforces limits on a 30 s sweep; polling every 3 s keeps the wait cheap.
    const ended = await run.until(/hit its time limit/, "job_ended TIMEOUT", 120_000, 3000);
    // Alerts due in the same round go out as one message; the end is in it, worded for people.
    expect(text(ended)).toContain(`Slurm job ${jobId} hit its time limit (1 min)`);
    expect(text(ended)).toContain("Slurm stopped the job at its 1 min time limit");
    expect(text(ended)).toContain("resume from the last checkpoint");
    expect(readRunStatus(createMonitorStore(run.db), "exp001").slurm?.state).toBe("TIMEOUT");
    expect(run.sink.messages.some((m) => /crash/i.test(m.title))).toBe(false);
  }, 180_000);
});
