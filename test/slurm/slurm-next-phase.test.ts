import { readFileSync } from "node:fs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createAlerting } from "../../src/alerts/create-alerting.ts";
import { parseConfig } from "../../src/config/load-config.ts";
import { systemClock } from "../../src/core/clock.ts";
import { readRunStatus } from "../../src/monitors/run-status.ts";
import { createRunOperations } from "../../src/ops/create-operations.ts";
import { loadPlan } from "../../src/ops/plan-loader.ts";
import type { Plan } from "../../src/ops/plan-schema.ts";
import { createMonitorStore } from "../../src/store/monitor-store.ts";
import { createOpsStore } from "../../src/store/ops-store.ts";
import { type PhaseAttempt, PhasesRepo } from "../../src/store/phases-repo.ts";
import { remotesOver } from "../../src/transport/run-remote.ts";
import { MemorySink } from "../alerts/alert-fixture.ts";
import { waitUntil } from "../harness/wait.ts";
import { type SlurmFixture, startSlurmFixture } from "./slurm-fixture.ts";

const ACTOR = { platform: "cli", userId: "tester", name: "tester", channelId: "" };

/** The demo plan's first phase, asking Slurm for a 30 min limit, with a short hold. */
function testPlan(): Plan {
  const demo = loadPlan("configs/plans/demo.yaml");
  const first = demo.phases[0] as Plan["phases"][number];
  return {
    ...demo,
    baseline: { minSteps: 8, warmupSteps: 0 },
    phases: [
      {
        ...first,
        slurm: { time: "00:30:00" },
        hold: { minSteps: 12, maxSteps: 60 },
        warmupSteps: 2,
      },
    ],
  };
}

let fx: SlurmFixture;

beforeAll(async () => {
  fx = await startSlurmFixture({ prefix: "trainops-slurm-phase-" });
}, 60_000);

afterAll(async () => {
  await fx?.stop();
});

describe("next-phase on a Slurm job", () => {
  it("edits the config, cancels and resubmits the job, follows the new id and judges it", async () => {
    const firstJob = await fx.submit();
    const path = fx.sim.writeConfig({
      store: `${fx.sim.root}/store.db`,
      runs: [
        fx.runEntry({
          restart: { interruptTimeout: "8s", terminateTimeout: "4s", confirmTimeout: "60s" },
        }),
      ],
      alerts: { console: false, groupWindow: "0s" },
    });
    const config = parseConfig(readFileSync(path, "utf8"));
    const { monitor, db, transport } = fx.sim.attach(config);
    const store = createMonitorStore(db);
    const ops = createRunOperations({
      store: createOpsStore(db),
      config,
      remoteFor: remotesOver(() => transport, systemClock),
      clock: systemClock,
      plans: { exp001: testPlan() },
      checkEveryMs: 250,
    });
    const sink = new MemorySink();
    const alerting = createAlerting({ db, config, clock: systemClock, sinks: [sink] });
    const phases = new PhasesRepo(db);
    const drive = async (label: string, done: (a: PhaseAttempt | null) => boolean) => {
      await waitUntil(
        async () => {
          await monitor.pollOnce();
          await ops.engine.tick("exp001");
          alerting.evaluate("exp001");
          await alerting.deliverDue();
          return done(phases.current("exp001"));
        },
        { timeoutMs: 90_000, intervalMs: 300, what: label },
      );
      return phases.current("exp001") as PhaseAttempt;
    };

    const baseline = await drive("the baseline", (a) => a?.state === "passed");
    expect(baseline.kind).toBe("baseline");

    const preview = await ops.preview("next-phase", "exp001");
    expect(preview.diff).toContain("Slurm resubmit: sbatch --time=00:30:00");
    const result = await ops.apply(preview, ACTOR);
    expect(result.ok, `${result.summary}\n${result.details.join("\n")}`).toBe(true);
    expect(readFileSync(fx.sim.vm.trainConfigPath, "utf8")).toMatch(/^ {2}workers: 2/m);

    const phase = await drive(
      "phase 1's verdict",
      (a) =>
        a !== null && a.kind === "phase" && ["passed", "failed", "inconclusive"].includes(a.state),
    );
    expect(phase.state).toBe("passed");
    const slurm = readRunStatus(store, "exp001").slurm;
    expect(slurm?.jobIds).toEqual([String(firstJob), String(firstJob + 1)]);
    expect(slurm).toMatchObject({ jobId: String(firstJob + 1), state: "RUNNING", restarts: 1 });
    // The phase's `slurm: { time }` went to sbatch.
    expect(slurm?.timeLimitSeconds).toBe(1800);
    // The budget counts from when the new job ran, not from when it was queued.
    expect(phase.trainingStartedAt).not.toBeNull();
    expect(await fx.cluster.jobState(firstJob)).toMatch(/CANCELLED|COMPLETED|FAILED/);
    // Cancelling its own job is no news.
    expect(sink.messages.filter((m) => /job_ended|crashed/.test(m.footer ?? ""))).toEqual([]);
  }, 240_000);
});
