import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { AuditRepo } from "../../src/store/audit-repo.ts";
import { ChangeLocksRepo } from "../../src/store/change-locks-repo.ts";
import { type Db, openDatabase } from "../../src/store/database.ts";
import { OperationJournalRepo } from "../../src/store/operation-journal-repo.ts";
import { PollsRepo } from "../../src/store/polls-repo.ts";
import { runTrainops, spawnTrainops, type TrainopsProcess } from "../harness/cli.ts";
import {
  configuredWorkers,
  endDaemonTest,
  recoveryNotices,
  startDaemonFixture,
  TEST_RESTART,
} from "../harness/daemon-fixture.ts";
import type { SimulatedRun } from "../harness/simulated-run.ts";
import { waitUntil } from "../harness/wait.ts";
import type { WebhookServer } from "../harness/webhook-server.ts";

const RUN = "exp001";
/** The order a change journals its steps in. */
const STEPS = ["locked", "config-written", "stop-sent", "started", "confirmed"] as const;
type Step = (typeof STEPS)[number];

let sim: SimulatedRun<null>;
let webhook: WebhookServer;
let configPath: string;
let daemon: TrainopsProcess | null = null;
let db: Db;
let journal: OperationJournalRepo;

beforeAll(async () => {
  let storePath: string;
  ({ sim, webhook, configPath, storePath } = await startDaemonFixture({
    prefix: "trainops-interrupted-",
    ssh: "local",
    vm: { timeScale: 100, startupSeconds: 1 },
    run: (run) => run.restartableRunEntry({ restart: TEST_RESTART }),
    groupWindow: "1s",
    waitForSteps: true,
  }));
  db = openDatabase(storePath);
  journal = new OperationJournalRepo(db);
}, 90_000);

afterAll(() => endDaemonTest({ daemon, db, sim, webhook }));

async function startDaemon(): Promise<void> {
  daemon = spawnTrainops(["start", "--config", configPath]);
  const polls = new PollsRepo(db);
  const since = Date.now();
  await waitUntil(
    () => polls.recent(RUN, 5).filter((p) => p.outcome === "ok" && p.startedAt > since).length > 0,
    { timeoutMs: 60_000, what: "a poll by the daemon" },
  );
}

/**
 * Starts `trainops set workers=N --yes` and sends it `signal` as soon as its journal shows
 * `step` (or a later one); returns the step it had reached.
 */
async function interruptSet(
  workers: number,
  step: Step,
  signal: NodeJS.Signals,
  options: { afterNewProcess?: boolean } = {},
): Promise<Step> {
  const before = journal.list(RUN, 1)[0]?.id ?? 0;
  const pidBefore = sim.vm.trainerPid();
  const cli = spawnTrainops(["set", `workers=${workers}`, "--yes", "--config", configPath]);
  let reached: Step | null = null;
  await waitUntil(
    () => {
      const entry = journal.list(RUN, 1)[0];
      if (!entry || entry.id <= before) return false;
      if (STEPS.indexOf(entry.step) < STEPS.indexOf(step)) return false;
      reached = entry.step;
      return true;
    },
    { timeoutMs: 60_000, intervalMs: 5, what: `the change to reach ${step}` },
  );
  if (options.afterNewProcess) {
    await waitUntil(() => ![null, pidBefore].includes(sim.vm.trainerPid()), {
      timeoutMs: 30_000,
      intervalMs: 20,
      what: "the new training process",
    });
  }
  cli.child.kill(signal);
  await cli.exited;
  return reached as unknown as Step;
}

/** Training runs, with the old or the new config, the lock is free and nothing is unfinished. */
async function expectRecovered(oldWorkers: number, newWorkers: number, count: number) {
  await waitUntil(
    () =>
      recoveryNotices(db, RUN).length === count &&
      journal.unfinished(RUN).length === 0 &&
      new ChangeLocksRepo(db).get(RUN) === null,
    { timeoutMs: 120_000, what: "the interrupted change to be recovered" },
  );
  expect(sim.vm.isRunning()).toBe(true);
  const notice = recoveryNotices(db, RUN).at(-1) as string;
  const workers = configuredWorkers(sim);
  if (/the change is kept/.test(notice)) expect(workers).toBe(newWorkers);
  else expect(workers).toBe(oldWorkers);
  return notice;
}

describe("a change interrupted at its steps", () => {
  it("is rolled back or forward by the running daemon, told once in chat", async () => {
    await startDaemon();
    const cases: Array<[Step, NodeJS.Signals, number, boolean]> = [
      ["config-written", "SIGKILL", 2, false],
      ["stop-sent", "SIGINT", 3, false],
      ["started", "SIGKILL", 4, false],
      // The new process runs but its steps are not confirmed yet: the change is kept.
      ["started", "SIGINT", 5, true],
    ];
    let count = 0;
    for (const [step, signal, workers, afterNewProcess] of cases) {
      const old = configuredWorkers(sim);
      const reached = await interruptSet(workers, step, signal, { afterNewProcess });
      count += 1;
      const notice = await expectRecovered(old, workers, count);
      expect(notice, `${signal} at ${reached}`).toMatch(/root|\(cli\)'s 'Set workers/);
      if (afterNewProcess) {
        expect(notice).toContain("Training runs with the new config: the change is kept.");
      } else if (reached === "started" || reached === "confirmed") {
        // Killed as the start was issued: the new job may or may not have been started.
        expect(notice).toMatch(
          /Training runs with the new config: the change is kept\.|previous config is restored and training restarted/,
        );
      } else if (reached === "config-written") {
        expect(notice).toMatch(/training kept running with it, untouched\.|training restarted/);
      } else {
        expect(notice).toMatch(/previous config is restored and training restarted/);
      }
    }
    // Each recovery reached chat once, through the daemon's outbox.
    await waitUntil(
      () =>
        webhook.received.filter((r) => JSON.stringify(r.body).includes("interrupted change"))
          .length >= count,
      { timeoutMs: 30_000, what: "the recovery notices in chat" },
    );
    const delivered = webhook.received.filter((r) =>
      JSON.stringify(r.body).includes("interrupted change"),
    );
    expect(delivered).toHaveLength(count);
    daemon?.child.kill("SIGTERM");
    expect(await daemon?.exited).toBe(0);
    daemon = null;
  }, 400_000);

  it("without a daemon, the next change takes the dead holder's lock over and recovers first", async () => {
    const old = configuredWorkers(sim);
    const before = recoveryNotices(db, RUN).length;
    await interruptSet(old === 6 ? 7 : 6, "stop-sent", "SIGKILL");
    const held = new ChangeLocksRepo(db).get(RUN);
    expect(held?.holderName).toMatch(/\(cli\)$/);

    const next = await runTrainops(["restart", "--yes", "--config", configPath], {
      timeoutMs: 180_000,
    });
    expect(next.stderr).toBe("");
    expect(next.code).toBe(0);
    expect(recoveryNotices(db, RUN)).toHaveLength(before + 1);
    expect(recoveryNotices(db, RUN).at(-1)).toMatch(
      /previous config is restored and training restarted/,
    );
    expect(configuredWorkers(sim)).toBe(old);
    expect(sim.vm.isRunning()).toBe(true);
    expect(new ChangeLocksRepo(db).get(RUN)).toBeNull();
    const takeover = new AuditRepo(db).list({ run: RUN, outcomes: ["taken-over"] })[0];
    expect(takeover?.detail).toMatch(/taken over: its holder is gone/);
  }, 300_000);
});
