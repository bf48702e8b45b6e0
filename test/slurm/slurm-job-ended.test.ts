import { afterEach, describe, expect, it } from "vitest";
import { readRunStatus } from "../../src/monitors/run-status.ts";
import { createMonitorStore } from "../../src/store/monitor-store.ts";
import { waitUntil } from "../harness/wait.ts";
import { slurmAlertRun, text } from "./slurm-alert-run.ts";
import { type SlurmFixture, startSlurmFixture } from "./slurm-fixture.ts";

let fx: SlurmFixture | undefined;

afterEach(async () => {
  await fx?.stop();
  fx = undefined;
});

async function runningJob(fixture: SlurmFixture, args: string[] = []) {
  const jobId = await fixture.submit(args);
  await waitUntil(async () => (await fixture.cluster.jobState(jobId)) === "RUNNING", {
    what: `job ${jobId} to run`,
  });
  return jobId;
}

describe("job_ended on a real Slurm cluster", () => {
  it("reports a scancel from outside as CANCELLED, not as a crash", async () => {
    fx = await startSlurmFixture({ prefix: "trainops-slurm-cancel-" });
    const jobId = await runningJob(fx);
    const run = slurmAlertRun(fx);
    await waitUntil(
      async () => {
        await run.cycle();
        return readRunStatus(createMonitorStore(run.db), "exp001").step !== null;
      },
      { timeoutMs: 60_000, intervalMs: 500, what: "the job's first steps" },
    );
    await fx.cluster.exec("scancel", [String(jobId)]);
    const message = await run.until(/was cancelled/, "job_ended CANCELLED");
    expect(message.title).toContain(`Slurm job ${jobId} was cancelled`);
    expect(text(message)).toContain("not trainops");
    expect(text(message)).toContain("/train restart");
    expect(run.sink.messages.some((m) => /crash/i.test(m.title))).toBe(false);
    expect(readRunStatus(createMonitorStore(run.db), "exp001").slurm?.state).toBe("CANCELLED");
  }, 150_000);

  it("reports a failing rank with its exit code, rank and node", async () => {
    fx = await startSlurmFixture({
      prefix: "trainops-slurm-fail-",
      rank1Lines: [
        "Traceback (most recent call last):",
        '  File "/work/train.py", line 88, in <module>',
        "    main()",
        "RuntimeError: NCCL error in: ProcessGroupNCCL.cpp:1275, unhandled system error",
      ],
      rank1Exit: 1,
    });
    const jobId = await fx.submit();
    const run = slurmAlertRun(fx);
    const message = await run.until(/failed with exit code/, "job_ended FAILED");
    expect(message.title).toContain(`Slurm job ${jobId} failed with exit code 1`);
    expect(text(message)).toContain("rank 1 on n2");
    expect(text(message)).toContain("RuntimeError: NCCL error");
  }, 150_000);

  it("reports a node whose slurmd died as NODE_FAIL", async () => {
    fx = await startSlurmFixture({ prefix: "trainops-slurm-node-", slurmdTimeout: 10 });
    const jobId = await runningJob(fx, ["--no-requeue"]);
    const run = slurmAlertRun(fx);
    await run.cycle();
    fx.cluster.killSlurmd("n2");
    const message = await run.until(/node failure/, "the job's end after n2 died", 90_000);
    expect(message.title).toContain(`Slurm job ${jobId}`);
    expect(message.title).toContain("was lost to a node failure");
    expect(text(message)).toContain("NodeDown");
  }, 180_000);
});
