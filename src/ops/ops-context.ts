import type { Config, RunConfig } from "../config/schema.ts";
import type { Clock } from "../core/clock.ts";
import type { Message } from "../message/message.ts";
import { ChangeLocksRepo } from "../store/change-locks-repo.ts";
import { ConfigBackupsRepo } from "../store/config-backups-repo.ts";
import type { Db } from "../store/database.ts";
import { EventsRepo } from "../store/events-repo.ts";
import { PhasesRepo } from "../store/phases-repo.ts";
import { PollsRepo } from "../store/polls-repo.ts";
import { SamplesRepo } from "../store/samples-repo.ts";
import { SlurmJobsRepo } from "../store/slurm-jobs-repo.ts";
import type { Transport } from "../transport/transport.ts";
import { loadPlan } from "./plan-loader.ts";
import type { Plan } from "./plan-schema.ts";
import { OperationRefusedError } from "./run-operations.ts";
import { TrainingConfigEditor } from "./training-config-editor.ts";

/** Everything the operations and the phase engine need, injected. */
export interface OpsOptions {
  db: Db;
  config: Config;
  /** Folder that relative plan paths resolve against (trainops.yaml's folder). */
  baseDir?: string;
  transportFor: (run: RunConfig) => Transport;
  clock: Clock;
  /** Receives verdicts and operation outcomes; the alerts outbox dedupes by key. */
  notify?: (message: Message, dedupeKey: string) => void | Promise<void>;
  /** Tells the alerts side that training will be down on purpose until `untilMs`. */
  onExpectedStop?: (run: string, untilMs: number) => void;
  /** Tells the alerts side when that restart started the new process. */
  onTrainingStarted?: (run: string, atMs: number) => void;
  /** Waits between restart checks (tests may shorten). */
  sleep?: (ms: number) => Promise<void>;
  /** How often a restart looks at the process table and log. Default 2 s. */
  checkEveryMs?: number;
  /** A lock older than this is considered abandoned (crashed holder). Default 1 h. */
  lockTtlMs?: number;
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
  private readonly planCache = new Map<string, Plan>();

  constructor(readonly options: OpsOptions) {
    this.phases = new PhasesRepo(options.db);
    this.locks = new ChangeLocksRepo(options.db);
    this.backups = new ConfigBackupsRepo(options.db);
    this.samples = new SamplesRepo(options.db);
    this.events = new EventsRepo(options.db);
    this.polls = new PollsRepo(options.db);
    this.slurmJobs = new SlurmJobsRepo(options.db);
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

  editor(run: RunConfig): TrainingConfigEditor {
    if (!run.trainConfig) {
      throw new OperationRefusedError(
        `run ${run.name} has no trainConfig:; add the training YAML's path (relative to workdir)`,
      );
    }
    return new TrainingConfigEditor({
      transport: this.options.transportFor(run),
      workdir: run.workdir,
      trainConfig: run.trainConfig,
      clock: this.clock,
    });
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
   * Queues a notice that must not be lost (a verdict): a failure to queue it throws, so the
   * caller's transaction rolls back and the next tick tries again.
   */
  announce(message: Message, key: string): void {
    const queued = this.options.notify?.(message, key);
    if (queued instanceof Promise) queued.catch(() => {});
  }

  notify(message: Message, key: string): void {
    try {
      void Promise.resolve(this.options.notify?.(message, key)).catch(() => {});
    } catch {
      // A failing sink must not break an operation; the outbox retries on its side.
    }
  }
}
