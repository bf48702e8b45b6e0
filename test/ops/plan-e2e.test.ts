import { readFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Config, configSchema } from "../../src/config/schema.ts";
import { systemClock } from "../../src/core/clock.ts";
import type { Message } from "../../src/message/message.ts";
import type { RunMonitor } from "../../src/monitors/run-monitor.ts";
import { createRunOperations, type Operations } from "../../src/ops/create-operations.ts";
import { loadPlan } from "../../src/ops/plan-loader.ts";
import type { Plan } from "../../src/ops/plan-schema.ts";
import type { SimulatedVm } from "../../src/simulator/simulated-vm.ts";
import { NoticesRepo } from "../../src/store/notices-repo.ts";
import { createOpsStore } from "../../src/store/ops-store.ts";
import { type PhaseAttempt, PhasesRepo } from "../../src/store/phases-repo.ts";
import { remotesOver } from "../../src/transport/run-remote.ts";
import { type SimulatedRun, startSimulatedRun } from "../harness/simulated-run.ts";
import type { SshdHarness } from "../harness/sshd.ts";

/**
 * The whole loop, time-compressed, over a real sshd: the simulator is the VM, the real monitor
 * polls it, the engine judges each phase and the operations edit and restart.
 */

const ACTOR = { platform: "cli", userId: "tester", name: "tester", channelId: "" };

/** The demo plan's phases 1, 2 and the over-sized one, with holds short enough for a test. */
function testPlan(): Plan {
  const demo = loadPlan("configs/plans/demo.yaml");
  const pick = [demo.phases[0], demo.phases[1], demo.phases[5]];
  return {
    ...demo,
    baseline: { minSteps: 8, warmupSteps: 0 },
    phases: pick.map((p) => ({
      ...(p as Plan["phases"][number]),
      hold: { minSteps: 12, maxSteps: 40 },
      warmupSteps: 2,
    })),
  };
}

let sim: SimulatedRun;
let sshd: SshdHarness;
let vm: SimulatedVm;
let monitor: RunMonitor;
let ops: Operations;
let phases: PhasesRepo;
let notices: NoticesRepo;
/** The notices the operations queued for chat, oldest first. */
const notes = (): Message[] => notices.list().map((n) => n.message);

beforeAll(async () => {
  sim = await startSimulatedRun({
    prefix: "trainops-plan-e2e-",
    vm: { timeScale: 200, startupSeconds: 20 },
  });
  ({ sshd, vm } = sim);
  const config: Config = configSchema.parse({
    store: join(sim.root, "store.db"),
    runs: [sim.restartableRunEntry()],
  });
  const attached = sim.attach(config);
  monitor = attached.monitor;
  const { db, transport } = attached;
  notices = new NoticesRepo(db);
  ops = createRunOperations({
    store: createOpsStore(db),
    config,
    remoteFor: remotesOver(() => transport, systemClock),
    clock: systemClock,
    plans: { exp001: testPlan() },
    checkEveryMs: 200,
  });
  phases = new PhasesRepo(db);
  await vm.start();
}, 60_000);

afterAll(() => sim?.stop());

/** Polls and ticks like the daemon until `done` holds for the run's current attempt. */
async function drive(
  label: string,
  done: (a: PhaseAttempt | null) => boolean,
): Promise<PhaseAttempt> {
  const deadline = Date.now() + 45_000;
  while (Date.now() < deadline) {
    await monitor.pollOnce();
    await ops.engine.tick("exp001");
    const current = phases.current("exp001");
    if (done(current)) return current as PhaseAttempt;
    await new Promise((r) => setTimeout(r, 150));
  }
  throw new Error(
    `timed out waiting for ${label}: ${JSON.stringify(phases.current("exp001"))}\n${notes()
      .map((n) => n.lines?.[0])
      .join("\n")}`,
  );
}

const settled = (state: string) => (a: PhaseAttempt | null) =>
  a !== null && ["passed", "failed", "inconclusive"].includes(a.state) && a.state === state;

describe("phase plan on the simulator over SSH", () => {
  it("baseline → phase 1 passes → phase 2 passes → over-sized phase OOMs → rollback, training resumes", async () => {
    const original = readFileSync(vm.trainConfigPath, "utf8");
    const baseline = await drive("baseline", settled("passed"));
    expect(baseline.kind).toBe("baseline");
    expect(notes().at(-1)?.lines?.[0]).toMatch(
      /^Baseline measured: [\d.]+ s\/step, .*Next: Phase 1 \(workers 2, batch 1, low risk\)$/,
    );

    const p1 = await ops.apply(await ops.preview("next-phase", "exp001"), ACTOR);
    expect(p1.ok, p1.summary).toBe(true);
    expect(await drive("phase 1", settled("passed"))).toMatchObject({
      phaseIndex: 1,
      workers: 2,
      batch: 1,
    });
    expect(notes().at(-1)?.lines?.[0]).toMatch(
      /^Phase 1 passed: [\d.]+ s\/step \(was [\d.]+ s, [\d.]+x faster\), VRAM peak 7\d\.\d GiB \(needs < 80 GiB\), .* steps\. Next: Phase 2 \(workers 2, batch 2, low risk\)$/,
    );
    const phase1Yaml = readFileSync(vm.trainConfigPath, "utf8");
    expect(phase1Yaml).toBe(original.replace(/^( {2}workers: )1/m, "$12"));

    const p2 = await ops.apply(await ops.preview("next-phase", "exp001"), ACTOR);
    expect(p2.ok, p2.summary).toBe(true);
    await drive("phase 2", settled("passed"));
    const phase2Yaml = readFileSync(vm.trainConfigPath, "utf8");
    expect(phase2Yaml).toContain("train_batch_size: 2 # ~77GB of 80GB VRAM at batch 1");

    const big = await ops.preview("next-phase", "exp001");
    expect(big.title).toBe("Phase 3: Over-sized batch 8");
    const p3 = await ops.apply(big, ACTOR);
    // The simulator fails only after a few steps, so the restart itself is confirmed.
    expect(p3.ok, p3.summary).toBe(true);
    const failed = await drive(
      "the over-sized phase to fail and roll back",
      (a) => a?.state === "failed" && a.rolledBackAt !== null,
    );
    expect(failed.reason).toMatch(/CUDA out of memory|VRAM peak/);
    const verdict = notes().find((n) => n.title.includes("Phase 3 failed"));
    expect(verdict?.severity).toBe("critical");
    expect(notes().at(-1)?.lines?.[0]).toMatch(
      /^Rolled back exp001 to Phase 2 \(Test batch size 2\)'s config; training restarted/,
    );
    // The new process's first line that carries a step (the resume notice counts).
    expect(notes().at(-1)?.lines?.[1]).toMatch(/^First step: .*step \d+/i);
    // Byte for byte, comments included.
    expect(readFileSync(vm.trainConfigPath, "utf8")).toBe(phase2Yaml);
    expect(vm.isRunning()).toBe(true);

    const view = await ops.plan("exp001");
    expect(view.phases.map((p) => p.state)).toEqual(["passed", "passed", "passed", "failed"]);
    expect(view.current?.state).toBe("failed, rolled back");
    const speedup = view.phases[2]?.speedup ?? 0;
    expect(speedup).toBeGreaterThan(1.5);
  }, 240_000);

  it("refuses to edit while the VM is unreachable", async () => {
    const preview = await ops.preview("set", "exp001", { workers: 3 });
    await sshd.kill();
    try {
      const report = await monitor.pollOnce();
      expect(report.outcome).toBe("unreachable");
      await expect(ops.apply(preview, ACTOR)).rejects.toThrow(
        /exp001's state is unknown: the last poll was unreachable/,
      );
    } finally {
      await sshd.restart();
    }
    expect(readFileSync(vm.trainConfigPath, "utf8")).toContain("workers: 2");
  }, 60_000);
});
