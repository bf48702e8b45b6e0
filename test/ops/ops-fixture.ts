import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type Config, configSchema } from "../../src/config/schema.ts";
import { systemClock } from "../../src/core/clock.ts";
import type { Message } from "../../src/message/message.ts";
import type { RunSample } from "../../src/model/monitoring.ts";
import { createRunOperations, type Operations } from "../../src/ops/create-operations.ts";
import { type Db, openDatabase } from "../../src/store/database.ts";
import { EventsRepo } from "../../src/store/events-repo.ts";
import { ExpectedStopsRepo } from "../../src/store/expected-stops-repo.ts";
import { NoticesRepo } from "../../src/store/notices-repo.ts";
import { createOpsStore } from "../../src/store/ops-store.ts";
import { PollsRepo } from "../../src/store/polls-repo.ts";
import { SamplesRepo } from "../../src/store/samples-repo.ts";
import { LocalTransport } from "../../src/transport/local-transport.ts";
import { remotesOver } from "../../src/transport/run-remote.ts";
import { gpuSample, runSample } from "../harness/sample-factory.ts";

export const TRAINING_YAML = `# Experiment 001, full data.
training:
  workers: 1            # data-loader processes
  train_batch_size: 1   # patches per step

  epochs: 32
model:
  name: "unet3d"  # keep quoted
`;

const GIB = 1024 ** 3;

/**
 * What the fake start writes, in one write, when the YAML asks for batch 8: a first step, then
 * CUDA OOM, as a config that barely fits fails on its first steps.
 */
const OOM_ON_FIRST_STEP = [
  "Train step 1/4000 loss=0.5",
  "Traceback (most recent call last):",
  '  File "train.py", line 9, in <module>',
  "torch.OutOfMemoryError: CUDA out of memory. Tried to allocate 4.00 GiB",
  "",
].join("\\n");

/** A real SQLite store, a workdir with a commented YAML and a fake trainer that logs steps. */
export interface OpsFixture {
  dir: string;
  db: Db;
  config: Config;
  ops: Operations;
  /** The notices the operations queued for chat (read from the store's outbox), oldest first. */
  readonly notes: Array<{ message: Message; key: string }>;
  /** The expected stop the last restart recorded for the alert rules, or null. */
  expectedStop(): { notedAt: number; until: number; startedAt: number | null } | null;
  samples: SamplesRepo;
  events: EventsRepo;
  polls: PollsRepo;
  /** While on, queueing a notice fails in SQLite itself (as on a full disk). */
  failNotices(on: boolean): void;
  /** Inserts one successful poll and its sample. */
  sample(partial: Partial<SampleSpec> & { step: number; at: number }): void;
  cleanup(): Promise<void>;
}

export interface SampleSpec {
  step: number;
  at: number;
  stepTime: number;
  vramGiB: number;
  ramGiB: number;
  util: number;
  reachable: boolean;
}

/**
 * `start` runs the fake trainer unless the YAML asks for 8 workers, where it fails at once
 * like a broken environment would, or for batch 8 (or once a `broken-gpu` file exists), where it
 * logs one step and then CUDA OOM.
 */
export function createOpsFixture(
  runOverrides: Record<string, unknown> = {},
  configOverrides: Record<string, unknown> = {},
): OpsFixture {
  const dir = mkdtempSync(join(tmpdir(), "trainops-ops-"));
  writeFileSync(join(dir, "exp.yaml"), TRAINING_YAML);
  writeFileSync(join(dir, "train.log"), "");
  writeFileSync(
    join(dir, "trainer.sh"),
    [
      "#!/bin/sh",
      // Stopping, it logs a last step and what PyTorch prints when its workers go first: lines
      // of the old process that must neither confirm a restart nor count against the new one.
      `trap 'echo "Train step $i/4000 loss=0.5" >> "$1"; echo "RuntimeError: DataLoader worker (pid(s) 4242) exited unexpectedly" >> "$1"; exit 130' INT`,
      "i=0",
      'while :; do i=$((i+1)); echo "Train step $i/4000 loss=0.5" >> "$1"; sleep 0.02; done',
      "",
    ].join("\n"),
  );
  const dbPath = join(dir, "store.db");
  const config = configSchema.parse({
    store: dbPath,
    runs: [
      {
        name: "exp",
        ssh: "local",
        workdir: dir,
        log: "train.log",
        trainConfig: "exp.yaml",
        process: `${dir}/trainer.sh`,
        start: `if grep -q 'workers: 8' exp.yaml; then echo 'RuntimeError: bad environment'; exit 1; fi; if grep -q 'train_batch_size: 8' exp.yaml || [ -e broken-gpu ]; then printf '${OOM_ON_FIRST_STEP}' >> train.log; exit 1; fi; exec sh ${dir}/trainer.sh ${dir}/train.log`,
        steps: { perEpoch: 4000, epochs: 32 },
        restart: { interruptTimeout: "3s", terminateTimeout: "3s", confirmTimeout: "6s" },
        plan: "configs/plans/safe-optimization.yaml",
        ...runOverrides,
      },
    ],
    ...configOverrides,
  });
  const db = openDatabase(dbPath);
  const transport = new LocalTransport();
  const ops = createRunOperations({
    store: createOpsStore(db),
    config,
    remoteFor: remotesOver(() => transport, systemClock),
    clock: systemClock,
    checkEveryMs: 100,
  });
  const notices = new NoticesRepo(db);
  const expectedStops = new ExpectedStopsRepo(db);
  const samples = new SamplesRepo(db);
  const events = new EventsRepo(db);
  const polls = new PollsRepo(db);
  const fixture: OpsFixture = {
    dir,
    db,
    config,
    ops,
    get notes() {
      return notices.list().map(({ message, key }) => ({ message, key }));
    },
    expectedStop: () => expectedStops.get("exp"),
    failNotices(on) {
      db.exec(
        on
          ? "CREATE TEMP TRIGGER fail_notice BEFORE INSERT ON notices BEGIN SELECT RAISE(ABORT, 'disk I/O error'); END"
          : "DROP TRIGGER IF EXISTS temp.fail_notice",
      );
    },
    samples,
    events,
    polls,
    sample(spec) {
      const s: SampleSpec = {
        stepTime: 18.1,
        vramGiB: 77,
        ramGiB: 7,
        util: 40,
        reachable: true,
        ...spec,
      };
      polls.insert({
        run: "exp",
        startedAt: s.at,
        durationMs: 5,
        outcome: s.reachable ? "ok" : "unreachable",
        message: s.reachable ? null : "connect ECONNREFUSED",
      });
      samples.insert(makeSample(s));
    },
    async cleanup() {
      await transport.run(`pkill -f -- ${JSON.stringify(`${dir}/trainer.sh`)}; exit 0`);
      db.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
  return fixture;
}

function makeSample(s: SampleSpec): RunSample {
  return runSample({
    run: "exp",
    at: s.at,
    reachable: s.reachable,
    alive: s.reachable ? true : null,
    step: s.reachable ? s.step : null,
    totalSteps: 4000,
    loss: 0.5,
    stepTimeSeconds: s.reachable ? s.stepTime : null,
    stepsPerHour: 3600 / s.stepTime,
    gpus: s.reachable
      ? [gpuSample({ memoryUsedMiB: s.vramGiB * 1024, utilizationPercent: s.util, powerW: 300 })]
      : [],
    hostMemory: s.reachable ? { usedBytes: 40 * GIB, totalBytes: 200 * GIB } : null,
    workers: s.reachable ? { count: 1, rssBytes: s.ramGiB * GIB } : null,
    trainerRssBytes: s.reachable ? 0 : null,
    diskFreeBytes: null,
  });
}

/** Inserts `count` samples one step apart starting after `from`. */
export function feed(
  fx: OpsFixture,
  from: { step: number; at: number },
  count: number,
  spec: Partial<SampleSpec> = {},
): { step: number; at: number } {
  let { step, at } = from;
  for (let i = 0; i < count; i++) {
    step += 1;
    at += 10;
    fx.sample({ ...spec, step, at });
  }
  return { step, at };
}
