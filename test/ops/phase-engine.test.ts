import { execFileSync, spawnSync } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { systemClock } from "../../src/core/clock.ts";
import { createRunOperations } from "../../src/ops/create-operations.ts";
import { OperationRefusedError, previewPhase } from "../../src/ops/run-operations.ts";
import { ChangeLocksRepo } from "../../src/store/change-locks-repo.ts";
import { openDatabase } from "../../src/store/database.ts";
import { createOpsStore } from "../../src/store/ops-store.ts";
import { PhasesRepo } from "../../src/store/phases-repo.ts";
import { LocalTransport } from "../../src/transport/local-transport.ts";
import { remotesOver } from "../../src/transport/run-remote.ts";
import { waitUntil } from "../harness/wait.ts";
import { createOpsFixture, feed, type OpsFixture, TRAINING_YAML } from "./ops-fixture.ts";

const ALICE = { platform: "cli", userId: "alice", name: "alice", channelId: "" };
const BOB = { platform: "discord", userId: "42", name: "bob", channelId: "555" };

describe("phase engine and run operations on a real store and a real process", () => {
  let fx: OpsFixture;
  afterEach(async () => {
    await fx?.cleanup();
  });

  async function measuredBaseline(then = "passed"): Promise<{ step: number; at: number }> {
    const last = feed(fx, { step: 500, at: Date.now() - 5000 }, 25);
    expect((await fx.ops.engine.tick("exp", last.at + 1)).action).toBe("baseline-started");
    expect((await fx.ops.engine.tick("exp", last.at + 1)).action).toBe(then);
    return last;
  }

  it("walks baseline → phase 1 passes → phase 2 OOM fails → rollback restores the YAML byte for byte", async () => {
    fx = createOpsFixture();
    await measuredBaseline();
    expect(fx.notes.at(-1)?.message.lines?.[0]).toBe(
      "Baseline measured: 18.1 s/step, VRAM peak 77.0 GiB, training RSS peak 7.0 GiB, 24 steps. Next: Phase 1 (workers 2, batch 1, low risk)",
    );

    // Start the trainer (a plain restart), so phase 1 has a process to stop.
    const started = await fx.ops.apply(await fx.ops.preview("restart", "exp"), ALICE);
    expect(started).toMatchObject({ ok: true, summary: "exp restarted" });
    const preview = await fx.ops.preview("next-phase", "exp");
    expect(preview).toMatchObject({
      kind: "next-phase",
      title: "Phase 1: Test 2 workers",
      changes: [{ key: "training.workers", before: 1, after: 2 }],
      phase: { index: 1, name: "Test 2 workers" },
      restarts: true,
    });
    expect(preview.diff).toEqual([
      "L3 -   workers: 1            # data-loader processes",
      "L3 +   workers: 2            # data-loader processes",
    ]);
    const progress: string[] = [];
    const applied = await fx.ops.apply(preview, ALICE, (line) => progress.push(line));
    expect(applied.ok).toBe(true);
    expect(applied.warning).toBeUndefined();
    expect(applied.details.at(-1)).toBe(
      "Judged over the next 100-200 steps after 10 warm-up steps; the verdict is posted when known, and a failure rolls back to the last passed config by itself.",
    );
    expect(progress.join("\n")).toMatch(/Config written .*exp\.yaml.*\.bak/);
    expect(progress.join("\n")).toContain("Training stopped (SIGINT).");
    expect(progress.join("\n")).toMatch(/Training is stepping again: Train step \d+\/4000/);
    const phase1Yaml = readFileSync(join(fx.dir, "exp.yaml"), "utf8");
    expect(phase1Yaml).toBe(TRAINING_YAML.replace("workers: 1 ", "workers: 2 "));

    // What the old process printed while it was stopped does not count against phase 1.
    const phase1 = new PhasesRepo(fx.db).list("exp").at(-1);
    const trainingStartedAt = phase1?.trainingStartedAt as number;
    expect(trainingStartedAt).toBeGreaterThan(phase1?.startedAt as number);
    // The operation recorded the same moment for the alert rules, so they too leave the old
    // process's exit alone.
    expect(fx.expectedStop()?.startedAt).toBe(trainingStartedAt);
    expect(fx.expectedStop()?.until).toBeGreaterThan(trainingStartedAt);
    fx.events.insert("exp", trainingStartedAt - 1, {
      kind: "worker_killed",
      line: "RuntimeError: DataLoader worker (pid(s) 4242) exited unexpectedly",
      lineNumber: null,
      source: "log",
    });

    // Phase 1's own samples: a slow warm-up (ignored), then 9.4 s/step.
    let at = feed(fx, { step: 0, at: Date.now() }, 10, { stepTime: 30 });
    expect((await fx.ops.engine.tick("exp", at.at + 1)).detail).toBe("warming");
    at = feed(fx, at, 90, { stepTime: 9.4, vramGiB: 77.6, ramGiB: 14 });
    expect((await fx.ops.engine.tick("exp", at.at + 1)).detail).toBe("evaluating");
    expect((await fx.ops.plan("exp")).criteria).toContain(
      "✓ step time 9.4 s (needs < 18.1 s, as Baseline)",
    );
    at = feed(fx, at, 11, { stepTime: 9.4, vramGiB: 77.6, ramGiB: 14 });
    expect((await fx.ops.engine.tick("exp", at.at + 1)).action).toBe("passed");
    expect(fx.notes.at(-1)?.message.lines?.[0]).toBe(
      "Phase 1 passed: 9.4 s/step (was 18.1 s, 1.9x faster), VRAM peak 77.6 GiB (needs < 80 GiB), training RSS peak 14.0 GiB, 100 steps. Next: Phase 2 (workers 2, batch 2, low risk)",
    );
    expect(fx.notes.at(-1)?.key).toMatch(/^phase:exp:\d+:passed$/);
    // The verdict asks for a chart of the phase and as long again before it.
    const chart = fx.notes.at(-1)?.message.charts?.[0];
    expect(chart).toMatchObject({
      run: "exp",
      name: "exp-phase1-passed.png",
      title: "exp: Phase 1 passed",
    });
    const attempt = new PhasesRepo(fx.db).list("exp").at(-1);
    expect(chart?.to).toBe(at.at + 2);
    expect(chart?.from).toBe(
      (attempt?.startedAt as number) - Math.max(at.at + 1 - (attempt?.startedAt as number), 60_000),
    );
    // The judged phase gets most of the width; the context before it is compressed.
    expect(chart?.focusFrom).toBe(attempt?.measureFrom ?? attempt?.startedAt);
    expect(chart?.focusFrom).toBeGreaterThan(chart?.from as number);

    // Phase 2 runs out of GPU memory.
    await fx.ops.apply(await fx.ops.preview("next-phase", "exp"), BOB);
    expect(readFileSync(join(fx.dir, "exp.yaml"), "utf8")).toContain("train_batch_size: 2 ");
    at = feed(fx, { step: 0, at: Date.now() }, 5, { stepTime: 9, vramGiB: 79.5 });
    fx.events.insert("exp", at.at, {
      kind: "cuda_oom",
      line: "torch.OutOfMemoryError: CUDA out of memory. Tried to allocate 2.00 GiB",
      lineNumber: 12,
      source: "log",
    });
    const tick = await fx.ops.engine.tick("exp", at.at + 1);
    expect(tick.action).toBe("rolled-back");
    const failed = fx.notes.find((n) => n.key.endsWith(":failed"));
    expect(failed?.message.severity).toBe("critical");
    expect(failed?.message.lines?.[0]).toMatch(
      /^Phase 2 failed: torch.OutOfMemoryError: CUDA out of memory\. Tried to allocate 2\.00 GiB\. .*VRAM peak 79\.5 GiB \(needs < 80 GiB\)/,
    );
    expect(failed?.message.lines?.[1]).toBe(
      "Rolling back to the last passed config and restarting.",
    );
    expect(fx.notes.at(-1)?.message.lines?.[0]).toMatch(
      /Rolled back exp to Phase 1 \(Test 2 workers\)'s config/,
    );
    expect(readFileSync(join(fx.dir, "exp.yaml"), "utf8")).toBe(phase1Yaml);

    const view = await fx.ops.plan("exp");
    expect(view.current).toMatchObject({ index: 2, state: "failed, rolled back" });
    expect(view.phases.slice(0, 3).map((p) => [p.index, p.state, p.workers, p.batch])).toEqual([
      [0, "passed", 1, 1],
      [1, "passed", 2, 1],
      [2, "failed", 2, 2],
    ]);
    const p1 = view.phases[1];
    expect(p1?.stepTimeSeconds).toBe(9.4);
    expect(p1?.epochTimeSeconds).toBeCloseTo(9.4 * 4000);
    expect(p1?.totalTimeSeconds).toBeCloseTo(9.4 * 4000 * 32);
    expect(p1?.speedup).toBeCloseTo(18.1 / 9.4);

    // A bot restart: a fresh engine over the same store resumes where it was (nothing to do).
    expect((await fx.ops.engine.tick("exp")).action).toBe("none");
    // next-phase now retries phase 2.
    expect(previewPhase(await fx.ops.preview("next-phase", "exp"))?.index).toBe(2);
  }, 60_000);

  it("refuses a second change while one is in flight, naming who holds it", async () => {
    fx = createOpsFixture();
    await measuredBaseline();
    const preview = await fx.ops.preview("next-phase", "exp");
    const first = fx.ops.apply(preview, ALICE);
    // Barrier: alice's change holds the run's lock in the store.
    const locks = new ChangeLocksRepo(fx.db);
    await waitUntil(() => locks.get("exp")?.holderName === "alice", {
      intervalMs: 5,
      what: "alice's lock",
    });
    await expect(fx.ops.apply(preview, BOB)).rejects.toThrow(
      /exp is being changed by alice \(next-phase since \d\d:\d\d:\d\d UTC\); one change at a time/,
    );
    expect((await first).ok).toBe(true);
    await expect(fx.ops.preview("next-phase", "exp")).rejects.toThrow(/Phase 1 is still warming/);
  }, 30_000);

  it("never edits while the run's state is unknown", async () => {
    fx = createOpsFixture();
    const last = await measuredBaseline();
    const preview = await fx.ops.preview("set", "exp", { workers: 4 });
    fx.sample({ step: last.step, at: last.at + 10, reachable: false });
    await expect(fx.ops.apply(preview, ALICE)).rejects.toThrow(
      /exp's state is unknown: the last poll was unreachable .*connect ECONNREFUSED/,
    );
    expect(readFileSync(join(fx.dir, "exp.yaml"), "utf8")).toBe(TRAINING_YAML);
  });

  it("validates values a person types", async () => {
    fx = createOpsFixture();
    await measuredBaseline();
    await expect(fx.ops.preview("set", "exp", { workers: 0 })).rejects.toThrow(
      "workers must be an integer from 1 to 64; got '0'",
    );
    await expect(fx.ops.preview("set", "exp", { batch: 2.5 })).rejects.toThrow(
      /batch must be an integer from 1 to 4096/,
    );
    await expect(fx.ops.preview("set", "exp", {})).rejects.toBeInstanceOf(OperationRefusedError);
    await expect(fx.ops.preview("set", "nope", { workers: 2 })).rejects.toThrow(
      /no run named 'nope'; configured runs: exp/,
    );
  });

  it("a start command that fails marks the change failed and rolls back", async () => {
    fx = createOpsFixture();
    await measuredBaseline();
    // Training runs, so the stop makes it log a last step: that line must not confirm the start.
    await fx.ops.apply(await fx.ops.preview("restart", "exp"), ALICE);
    const preview = await fx.ops.preview("set", "exp", { workers: 8 });
    const result = await fx.ops.apply(preview, ALICE);
    expect(result.ok).toBe(false);
    expect(result.summary).toMatch(
      /Manual change failed: training did not come back after the change/,
    );
    expect(result.summary).toMatch(/Rolled back exp to Baseline's config; training restarted/);
    expect(result.details).toContain("RuntimeError: bad environment");
    expect(readFileSync(join(fx.dir, "exp.yaml"), "utf8")).toBe(TRAINING_YAML);
    const attempts = new PhasesRepo(fx.db).list("exp");
    expect(attempts.at(-1)).toMatchObject({ kind: "manual", state: "failed" });
    expect(attempts.at(-1)?.rolledBackAt).not.toBeNull();
  }, 60_000);

  it("a change that steps once and then OOMs is applied, and says it is already failing", async () => {
    fx = createOpsFixture();
    await measuredBaseline();
    const result = await fx.ops.apply(await fx.ops.preview("set", "exp", { batch: 8 }), ALICE);
    // The change went in and training came back: not a failed start, but not done either.
    expect(result.ok).toBe(true);
    expect(result.warning).toBe(
      "Training started, then failed: torch.OutOfMemoryError: CUDA out of memory. Tried to allocate 4.00 GiB",
    );
    // Already failing: no promise of a judgement over the coming steps.
    expect(result.details.join("\n")).not.toContain("Judged over");
  }, 60_000);

  it("a verdict whose notice cannot be queued is not recorded; the next tick records both", async () => {
    fx = createOpsFixture();
    const last = feed(fx, { step: 500, at: Date.now() - 5000 }, 25);
    expect((await fx.ops.engine.tick("exp", last.at + 1)).action).toBe("baseline-started");
    fx.failNotices(true);
    await expect(fx.ops.engine.tick("exp", last.at + 1)).rejects.toThrow("disk I/O error");
    fx.failNotices(false);
    const phases = new PhasesRepo(fx.db);
    expect(phases.list("exp").at(-1)?.state).toBe("evaluating");
    expect(fx.notes.filter((n) => n.key.endsWith(":passed"))).toHaveLength(0);
    expect((await fx.ops.engine.tick("exp", last.at + 1)).action).toBe("passed");
    expect(phases.list("exp").at(-1)?.state).toBe("passed");
    expect(fx.notes.filter((n) => n.key.endsWith(":passed"))).toHaveLength(1);
  }, 30_000);

  it("a rollback whose config fails at once says so, loudly", async () => {
    fx = createOpsFixture();
    await measuredBaseline();
    const applied = await fx.ops.apply(await fx.ops.preview("set", "exp", { workers: 3 }), ALICE);
    expect(applied.ok).toBe(true);
    // Something outside the config breaks (a GPU gone bad): the change fails, and so does the
    // config it rolls back to.
    writeFileSync(join(fx.dir, "broken-gpu"), "");
    fx.events.insert("exp", Date.now(), {
      kind: "cuda_oom",
      line: "torch.OutOfMemoryError: CUDA out of memory. Tried to allocate 2.00 GiB",
      lineNumber: null,
      source: "log",
    });
    const tick = await fx.ops.engine.tick("exp", Date.now() + 1);
    expect(tick.action).toBe("rolled-back");
    const notice = fx.notes.at(-1)?.message;
    expect(notice?.title).toBe("exp: rolled back, but failing");
    expect(notice?.severity).toBe("critical");
    expect(notice?.lines?.[1]).toBe(
      "Training started, then failed: torch.OutOfMemoryError: CUDA out of memory. Tried to allocate 4.00 GiB",
    );
  }, 60_000);

  it("pauses an inconclusive phase when the VM stops answering", async () => {
    fx = createOpsFixture();
    await measuredBaseline();
    await fx.ops.apply(await fx.ops.preview("next-phase", "exp"), ALICE);
    let at = feed(fx, { step: 0, at: Date.now() }, 30, { stepTime: 9 });
    at = feed(fx, at, 3, { reachable: false });
    const tick = await fx.ops.engine.tick("exp", at.at + 1);
    expect(tick.action).toBe("inconclusive");
    expect(fx.notes.at(-1)?.message.lines?.[0]).toMatch(
      /^Phase 1 inconclusive: the VM did not answer 3 polls in a row\./,
    );
    expect((await fx.ops.plan("exp")).current?.state).toBe("inconclusive, waiting for a person");
  }, 30_000);

  it("resumes a phase after a bot restart: a new engine over the same store carries on", async () => {
    fx = createOpsFixture();
    await measuredBaseline();
    await fx.ops.apply(await fx.ops.preview("next-phase", "exp"), ALICE);
    let at = feed(fx, { step: 0, at: Date.now() }, 60, { stepTime: 9.4 });
    expect((await fx.ops.engine.tick("exp", at.at + 1)).detail).toBe("evaluating");
    // The bot restarts: new database handle, new operations; nothing in memory survives.
    const db = openDatabase(fx.config.store);
    const reborn = createRunOperations({
      store: createOpsStore(db),
      config: fx.config,
      remoteFor: remotesOver(() => new LocalTransport(), systemClock),
      clock: systemClock,
    });
    at = feed(fx, at, 60, { stepTime: 9.4 });
    expect((await reborn.engine.tick("exp", at.at + 1)).action).toBe("passed");
    expect(fx.notes.at(-1)?.message.lines?.[0]).toMatch(
      /^Phase 1 passed: 9\.4 s\/step \(was 18\.1 s, 1\.9x faster\)/,
    );
    db.close();
  }, 30_000);

  it("with autoAdvance, a passed phase applies the next one without a person", async () => {
    fx = createOpsFixture({ autoAdvance: true });
    await measuredBaseline("advanced");
    const current = new PhasesRepo(fx.db).current("exp");
    expect(current).toMatchObject({
      kind: "phase",
      phaseIndex: 1,
      state: "warming",
      actor: "trainops:engine",
    });
    expect(fx.notes[0]?.message.lines?.[1]).toMatch(/^Time to finish: [\d.]+ days at this pace\.$/);
    expect(fx.notes[0]?.message.lines?.[2]).toBe("autoAdvance is on: applying the next phase now.");
    expect(readFileSync(join(fx.dir, "exp.yaml"), "utf8")).toContain("workers: 2 ");
  }, 30_000);

  it("starts training in the run's tmux session when one is named", async () => {
    const session = `trainops-test-${process.pid}-${Date.now()}`;
    fx = createOpsFixture({
      restart: {
        interruptTimeout: "3s",
        terminateTimeout: "3s",
        confirmTimeout: "6s",
        tmuxSession: session,
      },
    });
    await measuredBaseline();
    try {
      const result = await fx.ops.apply(await fx.ops.preview("restart", "exp"), ALICE);
      expect(result).toMatchObject({ ok: true });
      expect(() => execFileSync("tmux", ["has-session", "-t", session])).not.toThrow();
    } finally {
      spawnSync("tmux", ["kill-session", "-t", session]);
    }
  }, 30_000);
});
