import type { Config, RunConfig } from "../config/schema.ts";
import type { Clock } from "../core/clock.ts";
import { currentProcess, type ProcessIdentity, processAlive } from "../core/process-identity.ts";
import type { Message } from "../message/message.ts";
import type { AuditRepo } from "../store/audit-repo.ts";
import type { ChangeLocksRepo } from "../store/change-locks-repo.ts";
import type { ConfigBackupsRepo } from "../store/config-backups-repo.ts";
import type { EventsRepo } from "../store/events-repo.ts";
import type { ExpectedStopsRepo } from "../store/expected-stops-repo.ts";
import type { JournalStep, OperationJournalRepo } from "../store/operation-journal-repo.ts";
import type { OpsStore } from "../store/ops-store.ts";
import type { PhasesRepo } from "../store/phases-repo.ts";
import type { PollsRepo } from "../store/polls-repo.ts";
import type { SamplesRepo } from "../store/samples-repo.ts";
import type { SlurmJobsRepo } from "../store/slurm-jobs-repo.ts";
import type { RunRemote } from "../transport/run-remote.ts";
import type { TrainingConfigFile } from "../transport/training-config-file.ts";
import { OperationRefusedError } from "./operation-refused-error.ts";
import { loadPlan } from "./plan-loader.ts";
import type { Plan } from "./plan-schema.ts";

/** Everything the operations and the phase engine need, injected. */
export interface OpsOptions {
  /** The repositories operations read and write (see createOpsStore). */
  store: OpsStore;
  config: Config;
  /** Folder that relative plan paths resolve against (trainops.yaml's folder). */
  baseDir?: string;
  /** The run's remote side (paths, log reads, training config, processes), one per run. */
  remoteFor: (run: RunConfig) => RunRemote;
  clock: Clock;
  /** Waits between restart checks (tests may shorten). */
  sleep?: (ms: number) => Promise<void>;
  /** How often a restart looks at the process table and log. Default 2 s. */
  checkEveryMs?: number;
  /**
   * A lock not renewed for this long is abandoned (its holder died or hung on another host).
   * Default 2 min; the holder renews it every quarter of that.
   */
  lockTtlMs?: number;
  /** This process, as the change lock records its holder (default: the real one). */
  self?: ProcessIdentity;
  /** Whether a lock's holder still runs (default: /proc on this host, null elsewhere). */
  isAlive?: (holder: ProcessIdentity) => boolean | null;
  /** Plans by run name, instead of reading `plan:` files (tests). */
  plans?: Record<string, Plan>;
}

/** The default keys when a run has no plan file. */
const DEFAULT_KEYS = { workers: "training.workers", batch: "training.train_batch_size" };

/** Shared state of one operations/engine instance. */
export class OpsContext {
  readonly phases: PhasesRepo;
  readonly locks: ChangeLocksRepo;
  readonly backups: ConfigBackupsRepo;
  readonly samples: SamplesRepo;
  readonly events: EventsRepo;
  readonly polls: PollsRepo;
  readonly slurmJobs: SlurmJobsRepo;
  readonly audit: AuditRepo;
  readonly expectedStops: ExpectedStopsRepo;
  readonly journal: OperationJournalRepo;
  readonly self: ProcessIdentity;
  private readonly planCache = new Map<string, Plan>();
  /** The journal entry of the change each run is under in this process (one at a time). */
  private readonly journalled = new Map<string, number>();

  constructor(readonly options: OpsOptions) {
    const store = options.store;
    this.phases = store.phases;
    this.locks = store.locks;
    this.backups = store.backups;
    this.samples = store.samples;
    this.events = store.events;
    this.polls = store.polls;
    this.slurmJobs = store.slurmJobs;
    this.audit = store.audit;
    this.expectedStops = store.expectedStops;
    this.journal = store.journal;
    this.self = options.self ?? currentProcess();
  }

  /** Runs `fn` in one store transaction: the state and the facts it implies land together. */
  transaction<T>(fn: () => T): T {
    return this.options.store.transaction(fn);
  }

  /** From now on, the run's change writes its steps to journal entry `id` (null: none). */
  journalAs(run: string, id: number | null): void {
    if (id === null) this.journalled.delete(run);
    else this.journalled.set(run, id);
  }

  /** The journal entry of the change under way on `run` in this process, if any. */
  journalId(run: string): number | null {
    return this.journalled.get(run) ?? null;
  }

  /** Records that the run's change reached `step` (nothing when no change is journalled). */
  journalStep(
    run: string,
    step: JournalStep,
    facts: { attemptId?: number; configBefore?: string; configAfter?: string } = {},
  ): void {
    const id = this.journalled.get(run);
    if (id !== undefined) this.journal.step(id, step, this.clock.now(), facts);
  }

  /** Whether a lock holder still runs (null: cannot tell from here). */
  holderAlive(holder: ProcessIdentity): boolean | null {
    return (this.options.isAlive ?? processAlive)(holder);
  }

  get clock(): Clock {
    return this.options.clock;
  }

  /** The run's configuration; refuses unknown names with the known ones. */
  run(name: string): RunConfig {
    const run = this.options.config.runs.find((r) => r.name === name);
    if (!run) {
      const known = this.options.config.runs.map((r) => r.name).join(", ");
      throw new OperationRefusedError(`no run named '${name}'; configured runs: ${known}`);
    }
    return run;
  }

  /** The run's plan, or null when it has none. */
  plan(run: RunConfig): Plan | null {
    const injected = this.options.plans?.[run.name];
    if (injected) return injected;
    if (!run.plan) return null;
    let plan = this.planCache.get(run.plan);
    if (!plan) {
      plan = loadPlan(run.plan, this.options.baseDir ?? process.cwd());
      this.planCache.set(run.plan, plan);
    }
    return plan;
  }

  /** The plan, refusing when the run has none. */
  requirePlan(run: RunConfig): Plan {
    const plan = this.plan(run);
    if (!plan) {
      throw new OperationRefusedError(
        `run ${run.name} has no phase plan; add plan: configs/plans/safe-optimization.yaml to it`,
      );
    }
    return plan;
  }

  keys(run: RunConfig): { workers: string; batch: string } {
    return this.plan(run)?.keys ?? DEFAULT_KEYS;
  }

  /** The run's remote side. */
  remote(run: RunConfig): RunRemote {
    return this.options.remoteFor(run);
  }

  /** The run's training config on the VM; refuses when the run has none. */
  editor(run: RunConfig): TrainingConfigFile {
    const file = this.remote(run).trainingConfig;
    if (!file) {
      throw new OperationRefusedError(
        `run ${run.name} has no trainConfig:; add the training YAML's path (relative to workdir)`,
      );
    }
    return file;
  }

  /**
   * Refuses while the run's state is unknown: no poll yet, the last poll failed, or the VM did
   * not answer. Editing a config blind could restart a job that is fine or miss one that died.
   */
  assertKnownState(run: string): void {
    const last = this.polls.recent(run, 1)[0];
    const sample = this.samples.latest(run);
    if (!last && !sample) {
      throw new OperationRefusedError(
        `${run}'s state is unknown: no poll recorded yet; start the daemon or run trainops poll --once --run ${run}, then retry`,
      );
    }
    if (last && last.outcome !== "ok") {
      throw new OperationRefusedError(
        `${run}'s state is unknown: the last poll was ${last.outcome} (${new Date(last.startedAt).toISOString()}${last.message ? `: ${last.message}` : ""}); retry after a poll succeeds`,
      );
    }
    if (sample && !sample.reachable) {
      throw new OperationRefusedError(
        `${run}'s state is unknown: the VM did not answer the last poll (${new Date(sample.at).toISOString()}); retry after a poll succeeds`,
      );
    }
  }

  /**
   * Queues a notice for chat in the alert outbox, once per `key`. Inside a transaction a failure
   * to queue throws, so the state it announces is not recorded without it either.
   */
  notify(run: string, message: Message, key: string): void {
    this.options.store.notices.enqueue(message, key, run, this.clock.now());
  }
}
