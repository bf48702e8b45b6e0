import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { LogSummarizer } from "../../src/monitors/parsers/log-summarizer.ts";
import { parseProcessTable } from "../../src/monitors/parsers/process-table.ts";
import { type EpochReady, epochGoFile, epochReadyFile } from "../../src/simulator/epoch-gate.ts";
import { psRows, SimSandbox, waitFor } from "./sim-harness.ts";

const sandbox = new SimSandbox();
afterAll(() => sandbox.cleanup());

function yaml(training: Record<string, number | boolean>): string {
  const lines = Object.entries(training).map(([k, v]) => `  ${k}: ${v}  # set by the test`);
  return `# test experiment\ntraining:\n${lines.join("\n")}\n`;
}

function summarize(path: string) {
  const summarizer = new LogSummarizer();
  summarizer.push(readFileSync(path));
  return summarizer.finish();
}

function stepsIn(path: string): number[] {
  const text = existsSync(path) ? readFileSync(path, "utf8") : "";
  return [...text.matchAll(/Train step (\d+)\/\d+/g)].map((m) => Number(m[1]));
}

describe("training simulator process", () => {
  it("writes step lines in the user's logging format that the monitor's parser reads", async () => {
    const workdir = sandbox.workdir(
      "steps",
      yaml({ workers: 1, train_batch_size: 1, steps_per_epoch: 5, epochs: 2 }),
    );
    const sim = sandbox.start(workdir);
    expect(await sim.exited).toEqual({ code: 0, signal: null });

    const log = readFileSync(sim.logPath, "utf8");
    expect(stepsIn(sim.logPath)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    expect(log).toContain("Epoch 1/2 Train - Loss:");
    expect(log).toContain("Training finished: 10 steps, 2 epochs");
    // Same record layout as the user's real log (corpus train_01): asctime with comma
    // milliseconds, logger, level, message.
    const corpus = readFileSync(
      "test/fixtures/corpus/train_01_vesuvius_surface_python_logging_restart.txt",
      "utf8",
    ).split("# === verbatim sample follows (everything below this line) ===\n")[1]!;
    const record = /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3} - [\w.]+ - (?:INFO|WARNING|ERROR) - /;
    for (const line of corpus.trim().split("\n")) expect(line).toMatch(record);
    for (const line of log.trim().split("\n")) expect(line).toMatch(record);

    const summary = summarize(sim.logPath);
    expect(summary.lastStep).toBe(10);
    expect(summary.totalSteps).toBe(10);
    // Simulated seconds, not compressed ones: 1 worker, batch 1 is ~18 s/step.
    expect(summary.stepTimeSeconds).toBeGreaterThan(16);
    expect(summary.stepTimeSeconds).toBeLessThan(20);
    expect(summary.errors).toEqual([]);
  });

  it("runs its workers as pt_data_worker with the trainer's args; they die with the trainer", async () => {
    const workdir = sandbox.workdir("workers", yaml({ workers: 3, train_batch_size: 2 }));
    const sim = sandbox.start(workdir, ["--time-scale", "10"]);
    const trainerPid = sim.child.pid!;
    const workers = await waitFor("3 workers", () => {
      const rows = psRows(workdir).filter((r) => r.comm === "pt_data_worker");
      return rows.length === 3 ? rows : undefined;
    });
    const trainer = psRows(workdir).find((r) => r.pid === trainerPid)!;
    expect(trainer.args).toContain("train.py");
    for (const worker of workers) {
      expect(worker.ppid).toBe(trainerPid);
      expect(worker.args).toBe(trainer.args);
    }
    // The monitor's own process-table parser finds them the way it will on a VM.
    const rows = psRows(workdir);
    const ps = rows.map((r) => `${r.pid} ${r.ppid} 1024 5 ${r.comm}`).join("\n");
    const args = rows.map((r) => `${r.pid} ${r.args}`).join("\n");
    const table = parseProcessTable(ps, args, {
      process: "train.py",
      workerProcess: "pt_data_worker",
    });
    expect(table.trainer?.pid).toBe(trainerPid);
    expect(table.workers.count).toBe(3);

    sim.child.kill("SIGKILL");
    await sim.exited;
    await waitFor("workers gone", () => psRows(workdir).length === 0);
  });

  it("dies of CUDA OOM at batch 8 with PyTorch's traceback and exit status 1", async () => {
    const workdir = sandbox.workdir("oom", yaml({ workers: 2, train_batch_size: 8 }));
    const sim = sandbox.start(workdir);
    expect((await sim.exited).code).toBe(1);
    const log = readFileSync(sim.logPath, "utf8");
    expect(log).toMatch(
      /^torch\.OutOfMemoryError: CUDA out of memory\. Tried to allocate 4\.00 GiB\. GPU 0 has a total capacity of 79\.15 GiB of which \d+\.\d\d MiB is free\./m,
    );
    expect(stepsIn(sim.logPath)).toEqual([1, 2]);
    const summary = summarize(sim.logPath);
    expect(summary.errors.map((e) => e.kind)).toEqual(["cuda_oom"]);
    // The GPU is released: no state for the fake nvidia-smi.
    expect(existsSync(join(sim.stateDir, "gpu"))).toBe(false);
    expect(psRows(workdir)).toEqual([]);
  });

  it("loses a worker to the OOM killer above the host RAM limit", async () => {
    // 4 workers at batch 1: 9.1 + 4 x 7 = 37.1 GiB modelled, over a 30 GiB limit.
    const workdir = sandbox.workdir("ram", yaml({ workers: 4, train_batch_size: 1 }));
    // Slow enough (~0.5 s a step) for all four workers to be up before the third step.
    const sim = sandbox.start(workdir, ["--ram-limit-gib", "30", "--time-scale", "10"]);
    const workerPids = await waitFor("workers", () => {
      const rows = psRows(workdir).filter((r) => r.comm === "pt_data_worker");
      return rows.length === 4 ? rows.map((r) => r.pid) : undefined;
    });
    expect((await sim.exited).code).toBe(1);
    const log = readFileSync(sim.logPath, "utf8");
    const killed =
      /RuntimeError: DataLoader worker \(pid (\d+)\) is killed by signal: Killed\./.exec(log);
    expect(killed).not.toBeNull();
    expect(workerPids).toContain(Number(killed![1]));
    expect(summarize(sim.logPath).errors.map((e) => e.kind)).toEqual(["worker_killed"]);
    await waitFor("workers gone", () => psRows(workdir).length === 0);
  });

  it("saves a checkpoint on SIGINT and resumes from it on the next start", async () => {
    const workdir = sandbox.workdir("resume", yaml({ workers: 1, train_batch_size: 1 }));
    const first = sandbox.start(workdir, ["--time-scale", "200"]);
    await waitFor("3 steps", () => stepsIn(first.logPath).length >= 3);
    first.child.kill("SIGINT");
    expect(await first.exited).toEqual({ code: 0, signal: null });
    const stoppedAt = Math.max(...stepsIn(first.logPath));
    const checkpoint = JSON.parse(
      readFileSync(join(workdir, "runs/exp/checkpoints/last.json"), "utf8"),
    );
    expect(checkpoint.step).toBe(stoppedAt);
    const log = readFileSync(first.logPath, "utf8");
    expect(log).toContain(`KeyboardInterrupt: stopping training at step ${stoppedAt}`);
    expect(log).toContain(
      `Saving checkpoint at step ${stoppedAt} to runs/exp/checkpoints/last.json`,
    );
    // A graceful stop is never a crash for the monitor.
    for (const error of summarize(first.logPath).errors) expect(error.kind).toBe("interrupted");

    const second = sandbox.start(workdir, ["--time-scale", "200"]);
    await waitFor("a step after the restart", () => stepsIn(second.logPath).length > stoppedAt);
    second.child.kill("SIGTERM");
    expect((await second.exited).code).toBe(0);
    const after = readFileSync(second.logPath, "utf8");
    expect(after).toContain(
      `Resuming from checkpoint runs/exp/checkpoints/last.json at step ${stoppedAt}`,
    );
    expect(after).toContain(`Received SIGTERM: stopping training at step`);
    // Steps continue where they stopped: no step is repeated or skipped across the restart.
    const steps = stepsIn(second.logPath);
    expect(steps).toEqual(steps.map((_, i) => i + 1));
  });

  it("forces a crash, NaN loss and a stall on request", async () => {
    const crash = sandbox.start(sandbox.workdir("crash", yaml({ workers: 1 })), [
      "--crash-at-step",
      "4",
    ]);
    expect((await crash.exited).code).toBe(1);
    expect(stepsIn(crash.logPath)).toEqual([1, 2, 3]);
    const crashErrors = summarize(crash.logPath).errors;
    expect(crashErrors.map((e) => e.kind)).toEqual(["traceback"]);
    expect(crashErrors[0]?.line).toMatch(/^ValueError: empty surface mask/);

    const nan = sandbox.workdir("nan", yaml({ workers: 1, steps_per_epoch: 6, epochs: 1 }));
    const nanRun = sandbox.start(nan, ["--nan-at-step", "5"]);
    expect((await nanRun.exited).code).toBe(0);
    expect(readFileSync(nanRun.logPath, "utf8")).toContain(
      "Train step 5/6 (epoch 1/1) - loss: nan",
    );
    expect(summarize(nanRun.logPath).errors.map((e) => e.kind)).toContain("nan_loss");

    const stall = sandbox.start(sandbox.workdir("stall", yaml({ workers: 1 })), [
      "--stall-at-step",
      "3",
    ]);
    await waitFor("2 steps", () => stepsIn(stall.logPath).length === 2);
    // Barrier: the same run without the stall, started only now, logs 6 steps; the stalled one,
    // started earlier on the same simulated clock, would have logged as many by then.
    const pace = sandbox.start(sandbox.workdir("pace", yaml({ workers: 1 })));
    await waitFor(
      "6 steps of the run that does not stall",
      () => stepsIn(pace.logPath).length >= 6,
    );
    pace.child.kill("SIGINT");
    expect(stepsIn(stall.logPath)).toEqual([1, 2]);
    expect(stall.child.exitCode).toBeNull();
    stall.child.kill("SIGINT");
    expect((await stall.exited).code).toBe(0);
    expect((await pace.exited).code).toBe(0);
  });

  it("fails like the script on a bad training YAML, naming the key", async () => {
    const sim = sandbox.start(sandbox.workdir("badyaml", "training:\n  workers: two\n"));
    expect((await sim.exited).code).toBe(1);
    const log = readFileSync(sim.logPath, "utf8");
    expect(log).toContain('ValueError: training.workers must be an integer >= 0, got "two"');
    expect(summarize(sim.logPath).errors.map((e) => e.kind)).toEqual(["traceback"]);
  });

  it("re-creates workers each epoch unless persistent_workers is set", async () => {
    const workerSets = async (persistent: boolean) => {
      const workdir = sandbox.workdir(
        `persist-${persistent}`,
        yaml({ workers: 2, steps_per_epoch: 2, epochs: 3, persistent_workers: persistent }),
      );
      const gate = join(workdir, "gate");
      const sim = sandbox.start(workdir, ["--epoch-gate", gate]);
      const trainerPid = sim.child.pid!;
      const sets = new Set<string>();
      for (let epoch = 1; epoch <= 3; epoch++) {
        // Barrier: the trainer holds at each epoch's start, its workers up, until let go.
        const ready = await waitFor(`epoch ${epoch} to start`, () =>
          existsSync(epochReadyFile(gate, epoch))
            ? (JSON.parse(readFileSync(epochReadyFile(gate, epoch), "utf8")) as EpochReady)
            : undefined,
        );
        const workers = psRows(workdir).filter((r) => r.comm === "pt_data_worker");
        const pids = workers.map((r) => r.pid).sort((a, b) => a - b);
        expect(pids).toEqual([...ready.workerPids].sort((a, b) => a - b));
        expect(pids).toHaveLength(2);
        for (const worker of workers) expect(worker.ppid).toBe(trainerPid);
        sets.add(pids.join(","));
        writeFileSync(epochGoFile(gate, epoch), "");
      }
      expect((await sim.exited).code).toBe(0);
      return sets.size;
    };
    // Each in its own workdir, whose processes alone it watches: both run at once.
    const [persistent, recreated] = await Promise.all([workerSets(true), workerSets(false)]);
    expect(persistent).toBe(1);
    expect(recreated).toBe(3);
  }, 60_000);

  it("holds at an epoch's start under --epoch-gate until let go; SIGINT ends the hold", async () => {
    const workdir = sandbox.workdir("gate-stop", yaml({ workers: 1, steps_per_epoch: 2 }));
    const gate = join(workdir, "gate");
    const sim = sandbox.start(workdir, ["--epoch-gate", gate]);
    await waitFor("epoch 1 to start", () => existsSync(epochReadyFile(gate, 1)));
    sim.child.kill("SIGINT");
    expect((await sim.exited).code).toBe(0);
    // At 1000× a step takes some 18 ms: no step ran while the trainer held, however long.
    expect(stepsIn(sim.logPath)).toEqual([]);
    expect(readFileSync(sim.logPath, "utf8")).toContain(
      "KeyboardInterrupt: stopping training at step 0",
    );
  });

  it("reports an idle GPU on request and rejects unknown flags with status 2", async () => {
    const workdir = sandbox.workdir("idle", yaml({ workers: 4, train_batch_size: 4 }));
    const sim = sandbox.start(workdir, ["--gpu-idle", "--time-scale", "10"]);
    await waitFor("a step", () => stepsIn(sim.logPath).length > 0);
    const state = readFileSync(join(sim.stateDir, "gpu"), "utf8").trim().split(" ");
    expect(state[0]).toBe(String(sim.child.pid));
    expect(state[3]).toBe("0");
    sim.child.kill("SIGTERM");
    await sim.exited;

    const bad = sandbox.start(workdir, ["--warp-speed", "9"]);
    expect((await bad.exited).code).toBe(2);
  });
});
