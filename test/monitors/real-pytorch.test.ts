import { afterEach, describe, expect, it } from "vitest";
import { createAlerting } from "../../src/alerts/create-alerting.ts";
import type { Config, RunConfig } from "../../src/config/schema.ts";
import { systemClock } from "../../src/core/clock.ts";
import { FAILURE_KINDS, type StepPoint } from "../../src/model/monitoring.ts";
import { createStepParser } from "../../src/monitors/parsers/step-parser.ts";
import { checkRun } from "../../src/monitors/run-check.ts";
import { listRunProcesses } from "../../src/monitors/run-process-list.ts";
import type { Db } from "../../src/store/database.ts";
import { EventsRepo } from "../../src/store/events-repo.ts";
import { MemorySink } from "../alerts/alert-fixture.ts";
import { type PytorchRun, startPytorchRun } from "../harness/pytorch-run.ts";
import { waitUntil } from "../harness/wait.ts";

/**
 * A real PyTorch 1.13 job (Debian's python3-torch, CPU) as the VM's trainer, over a real sshd:
 * its DataLoader workers are forks that keep `python3` as comm, its progress is what it prints.
 */

let current: PytorchRun | null = null;

afterEach(async () => {
  await current?.stop();
  current = null;
});

/**
 * A real PyTorch run attached to a monitor over a store, with the alerting engine delivering to
 * a sink the test reads, as a chat would receive the alerts. The job is started by the test.
 */
async function watchedTorch(options: Parameters<typeof startPytorchRun>[0]) {
  const torch = await startPytorchRun(options);
  current = torch;
  const { config }: { config: Config } = torch.config();
  const attached = torch.attach(config);
  const sink = new MemorySink();
  const alerting = createAlerting({
    db: attached.db,
    config,
    clock: systemClock,
    sinks: [sink],
    tickMs: 50,
  });
  return { torch, config, ...attached, sink, alerting };
}

/**
 * What the run's step parser (the monitor's, `format: auto`) reads from each log line that
 * matches `progress`, fed the whole log in order as the monitor feeds it.
 */
function parsedSteps(config: RunConfig, log: string, progress: RegExp): Array<StepPoint | null> {
  const parser = createStepParser({ format: config.steps.format });
  return log.split("\n").flatMap((line) => {
    const point = parser.parseLine(line);
    return progress.test(line) ? [point] : [];
  });
}

function eventKinds(db: Db, run: string): string[] {
  return new EventsRepo(db).range(run, 0, Date.now() + 60_000).map((e) => e.kind);
}

describe("a real PyTorch job over sshd", () => {
  it("reads every step, the forked workers and their RSS; check says how they were found and what a restart would signal", async () => {
    const { torch, config, run, transport, monitor } = await watchedTorch({
      prefix: "trainops-torch-read-",
      style: "logging",
      epochs: 2,
      stepsPerEpoch: 20,
      stepSleep: 0.15,
    });
    await torch.start(config);
    await torch.waitForLines(/step \d+\/40 \| loss=/, 3);

    const report = await monitor.pollOnce();
    expect(report.outcome).toBe("ok");
    expect(report.sample.alive).toBe(true);
    expect(report.sample.workers?.count).toBe(2);
    // Each worker is a python3 process of its own, with tens of MiB resident.
    expect(report.sample.workers?.rssBytes).toBeGreaterThan(2 * 10 * 1024 * 1024);
    expect(report.sample.trainerRssBytes).toBeGreaterThan(50 * 1024 * 1024);

    const listed = await listRunProcesses(transport, run);
    expect(listed.scope).toBe("started");
    expect(listed.summary.workersFoundBy).toBe("forked");
    const trainer = listed.tree.find((p) => p.role === "trainer");
    const workers = listed.tree.filter((p) => p.role === "worker");
    expect(workers.map((w) => w.ppid)).toEqual([trainer?.pid, trainer?.pid]);
    expect(workers.every((w) => w.comm === "python3" && w.args === trainer?.args)).toBe(true);

    const checks = await checkRun(run, transport);
    const detail = (name: string) => checks.find((c) => c.check === name)?.detail ?? "";
    expect(detail("workers")).toMatch(
      /^2 data-loader workers \(\d+ MiB\), found as the trainer's forked children/,
    );
    expect(detail("processes")).toContain(
      "a restart would signal 3 processes (the process tree trainops started)",
    );
    expect(detail("processes")).toContain(`pid ${trainer?.pid} trainer:`);

    await torch.waitForLines(/^training finished$/, 1);
    await waitUntil(async () => !(await listRunProcesses(transport, run)).summary.alive, {
      timeoutMs: 30_000,
      what: "the trainer to exit",
    });
    const last = await monitor.pollOnce();
    expect(last.sample.step).toBe(40);
    expect(last.sample.totalSteps).toBe(40);
    expect(last.sample.alive).toBe(false);
    // Every progress line the job printed is a step to the monitor's parser, with its numbers.
    const printed = torch
      .readLog()
      .split("\n")
      .flatMap((l) => {
        const m = /epoch (\d) \| step (\d+)\/40 \| loss=(\d+\.\d+)$/.exec(l);
        return m ? [{ step: Number(m[2]), total: 40, loss: Number(m[3]) }] : [];
      });
    expect(printed.map((p) => p.step)).toEqual(Array.from({ length: 40 }, (_, i) => i + 1));
    expect(parsedSteps(run, torch.readLog(), /\| step \d+\/40 \|/)).toMatchObject(printed);
  }, 120_000);

  it("reads every step of the tutorial print `Epoch [e/E] Step [i/N] loss: x` with format auto", async () => {
    const { torch, config, run, monitor } = await watchedTorch({
      prefix: "trainops-torch-tutorial-",
      style: "tutorial",
      epochs: 2,
      stepsPerEpoch: 15,
      stepSleep: 0.05,
    });
    await torch.start(config);
    await torch.waitForLines(/^training finished$/, 1);
    const report = await monitor.pollOnce();
    expect(report.sample.epoch).toBe(2);
    // Every printed line is a step to the monitor's parser: its epoch, counter and loss.
    const printed = torch
      .readLog()
      .split("\n")
      .flatMap((l) => {
        const m = /^Epoch \[(\d+)\/2\] Step \[(\d+)\/15\] loss: (\d+\.\d+)$/.exec(l);
        return m ? [{ epoch: Number(m[1]), step: Number(m[2]), loss: Number(m[3]) }] : [];
      });
    expect(printed).toHaveLength(30);
    const parsed = parsedSteps(run, torch.readLog(), /^Epoch \[\d+\/2\] Step \[/);
    expect(parsed).toHaveLength(30);
    parsed.forEach((point, i) => {
      const line = printed[i] as { epoch: number; step: number; loss: number };
      expect(point).not.toBeNull();
      expect(point?.epoch).toBe(line.epoch);
      expect(point?.loss).toBeCloseTo(line.loss, 4);
      // The in-epoch counter, or the global step it stands for.
      expect([line.step, (line.epoch - 1) * 15 + line.step]).toContain(point?.step);
    });
  }, 120_000);

  it("a worker killed with SIGKILL is a worker_killed alert quoting PyTorch's own message", async () => {
    const { torch, config, run, db, transport, monitor, sink, alerting } = await watchedTorch({
      prefix: "trainops-torch-kill-",
      style: "logging",
      epochs: 1,
      // Far from the epoch's end: a loader that has already fetched its last batches from the
      // killed worker finishes without noticing, and PyTorch never prints its message.
      stepsPerEpoch: 4000,
      stepSleep: 0.1,
    });
    await torch.start(config);
    await torch.waitForLines(/step \d+\/4000 \| loss=/, 3);
    await monitor.pollOnce();

    // The pid the probe reported, a child of our trainer.
    const listed = await listRunProcesses(transport, run);
    const trainer = listed.tree.find((p) => p.role === "trainer");
    const victim = listed.tree.find((p) => p.role === "worker");
    expect(victim?.ppid).toBe(trainer?.pid);
    process.kill(victim?.pid as number, "SIGKILL");

    const message = `DataLoader worker (pid ${victim?.pid}) is killed by signal: Killed.`;
    await torch.waitForLines(new RegExp(message.replace(/[()]/g, "\\$&")), 1);
    await waitUntil(
      async () => {
        await monitor.pollOnce();
        return eventKinds(db, run.name).includes("worker_killed");
      },
      { timeoutMs: 30_000, what: "the worker_killed event" },
    );
    alerting.evaluate(run.name);
    await alerting.deliverDue();
    const alert = sink.messages.find((m) => m.title.includes("data-loader worker was killed"));
    expect(alert).toBeDefined();
    expect(JSON.stringify(alert)).toContain(message);
  }, 120_000);

  it("Ctrl-C is a KeyboardInterrupt: `interrupted`, and no crash alert", async () => {
    const { torch, config, run, db, transport, monitor, sink, alerting } = await watchedTorch({
      prefix: "trainops-torch-int-",
      style: "logging",
      epochs: 1,
      stepsPerEpoch: 400,
      stepSleep: 0.1,
    });
    await torch.start(config);
    await torch.waitForLines(/step \d+\/400 \| loss=/, 25);
    await monitor.pollOnce();
    const trainer = (await listRunProcesses(transport, run)).summary.trainer;
    process.kill(trainer?.pid as number, "SIGINT");
    await torch.waitForLines(/^KeyboardInterrupt/, 1);
    await waitUntil(async () => !(await listRunProcesses(transport, run)).summary.alive, {
      timeoutMs: 30_000,
      what: "the trainer to exit",
    });
    const report = await monitor.pollOnce();
    expect(report.sample.alive).toBe(false);
    const kinds = eventKinds(db, run.name);
    expect(kinds).toContain("interrupted");
    expect(kinds.filter((k) => (FAILURE_KINDS as readonly string[]).includes(k))).toEqual([]);
    alerting.evaluate(run.name);
    await alerting.deliverDue();
    expect(
      sink.messages.map((m) => m.title).filter((t) => /crash|failed to start/.test(t)),
    ).toEqual([]);
  }, 120_000);

  it("a NaN loss is a nan_loss alert", async () => {
    const { torch, config, run, db, monitor, sink, alerting } = await watchedTorch({
      prefix: "trainops-torch-nan-",
      style: "logging",
      epochs: 1,
      stepsPerEpoch: 30,
      stepSleep: 0.05,
      nanAtStep: 10,
    });
    await torch.start(config);
    await torch.waitForLines(/\| loss=nan$/, 1);
    await monitor.pollOnce();
    expect(eventKinds(db, run.name)).toContain("nan_loss");
    alerting.evaluate(run.name);
    await alerting.deliverDue();
    expect(JSON.stringify(sink.messages)).toContain("loss=nan");
  }, 120_000);
});
