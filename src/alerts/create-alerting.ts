import type { Config } from "../config/schema.ts";
import type { Clock } from "../core/clock.ts";
import { parseDuration } from "../core/duration.ts";
import type { Severity } from "../message/message.ts";
import { AlertOutboxRepo } from "../store/alert-outbox-repo.ts";
import { AlertsRepo } from "../store/alerts-repo.ts";
import type { Db } from "../store/database.ts";
import { DigestFactsRepo } from "../store/digest-facts-repo.ts";
import { DigestPeriodsRepo } from "../store/digest-periods-repo.ts";
import { LogMatchesRepo } from "../store/log-matches-repo.ts";
import { PhasesRepo } from "../store/phases-repo.ts";
import { PollsRepo } from "../store/polls-repo.ts";
import { QuietHeldRepo } from "../store/quiet-held-repo.ts";
import { SamplesRepo } from "../store/samples-repo.ts";
import type { SilenceRecord } from "../store/silences-repo.ts";
import { SilencesRepo } from "../store/silences-repo.ts";
import { SlurmJobsRepo } from "../store/slurm-jobs-repo.ts";
import {
  AlertEngine,
  type AlertLogger,
  type EvaluationReport,
  type FiringAlert,
  type SilenceRequest,
} from "./alert-engine.ts";
import { channelSettings } from "./channel-settings.ts";
import { buildDigest, type DigestReport } from "./digest/digest-report.ts";
import { nextDigestTime } from "./digest/digest-schedule.ts";
import { DigestScheduler } from "./digest/digest-scheduler.ts";
import { QuietHoursGate } from "./quiet-hours-gate.ts";
import { bindRules } from "./rule-settings.ts";
import type { Rule } from "./rules/rule.ts";
import { type RetryPolicy, Sender, type SenderOptions } from "./sender.ts";
import type { AlertSink } from "./sinks/alert-sink.ts";

export interface CreateAlertingOptions {
  db: Db;
  config: Config;
  clock: Clock;
  /** Where alerts go (runtime builds the console and `alerts.webhooks` sinks from the config). */
  sinks: AlertSink[];
  /** The run's current phase (part of the dedupe key), or null. */
  phaseOf?: (run: string) => string | null;
  log?: AlertLogger;
  /** Delivery back-off; default 1 s doubling to 5 min. */
  retry?: RetryPolicy;
  /** Sender loop's idle tick; default 250 ms. */
  tickMs?: number;
  /** Rule list; default every registered rule. */
  rules?: readonly Rule[];
  /** Finishes messages before delivery (draws verdict charts); see {@link SenderOptions}. */
  prepare?: SenderOptions["prepare"];
}

/** The alerts area as the daemon, `poll --once` and the chat layer use it. */
export interface Alerting {
  /** Runs the rules for a run; queued notifications wake the sender loop. */
  evaluate(run: string, now?: number): EvaluationReport;
  /** Expires silences, seals due batches and tries every due delivery once. */
  deliverDue(): Promise<number>;
  senderLoop: { start(): void; stop(): Promise<void> };
  silence(request: SilenceRequest): SilenceRecord;
  unsilence(id: number): SilenceRecord | null;
  listFiring(run: string): FiringAlert[];
  listSilences(run?: string): SilenceRecord[];
  /** Forgets delivered messages and resolved alerts older than `before` (retention). */
  prune(before: number): { batches: number; alerts: number };
  /** Deliveries and notifications still owed; 0 when all caught up. */
  backlog(): number;
  /** Deliveries still owed per sink in use (0 for a sink that is caught up). */
  backlogBySink(): Map<string, number>;
  /** The sinks in use (names are recorded per delivery). */
  readonly sinks: readonly AlertSink[];
  /** The enabled rules with their configured severity. */
  readonly rules: ReadonlyArray<{ name: string; severity: Severity }>;
  /**
   * The digest of `runs` (default all) from `from` (default: the newest digest any channel was
   * sent, else 24 h before `to`) to `to` (default now), as `trainops digest` and `/train digest`
   * show it.
   */
  digest(options?: { runs?: readonly string[]; from?: number; to?: number }): DigestReport;
  /** Each channel with a digest, by label, and when its next one is due after `now`. */
  digestSchedule(
    now?: number,
  ): Array<{ channel: string; label: string; next: number | null; timeZone: string }>;
}

const quiet: AlertLogger = { info: () => {}, warn: () => {}, error: () => {} };

/**
 * Wires rules (settings from `alerts.rules`, validated: a ConfigError names the bad key), the
 * engine, the outbox and the sender over one database. Throws ConfigError on bad rule settings.
 */
export function createAlerting(options: CreateAlertingOptions): Alerting {
  const { db, config, clock } = options;
  const log = options.log ?? quiet;
  const rules = bindRules(config, options.rules);
  const outbox = new AlertOutboxRepo(db);
  const alertsRepo = new AlertsRepo(db);
  const matches = new LogMatchesRepo(db);
  const sinks = options.sinks;
  const channels = channelSettings(config);
  const periods = new DigestPeriodsRepo(db, outbox);
  const held = new QuietHeldRepo(db, outbox);
  const digestSources = {
    facts: new DigestFactsRepo(db),
    phases: new PhasesRepo(db),
    samples: new SamplesRepo(db),
  };
  const digests = new DigestScheduler({
    channels,
    periods,
    sources: digestSources,
    runs: config.runs,
    sinks,
    log,
  });
  const queueDigests = () => {
    try {
      digests.queueDue(clock.now());
    } catch (error) {
      log.error({ err: error }, "digest not queued");
    }
  };
  const sender = new Sender({
    outbox,
    sinks,
    clock,
    quietHours: new QuietHoursGate(held, channels),
    groupWindowMs: parseDuration(config.alerts.groupWindow),
    log,
    ...(options.retry ? { retry: options.retry } : {}),
    ...(options.tickMs !== undefined ? { tickMs: options.tickMs } : {}),
    ...(options.prepare ? { prepare: options.prepare } : {}),
  });
  const engine = new AlertEngine({
    alerts: alertsRepo,
    outbox,
    silences: new SilencesRepo(db),
    samples: new SamplesRepo(db),
    polls: new PollsRepo(db),
    slurmJobs: new SlurmJobsRepo(db),
    logMatches: matches,
    config,
    clock,
    rules,
    phaseOf: options.phaseOf ?? (() => null),
    log,
    onQueued: () => sender.kick(),
  });
  return {
    evaluate: (run, now) => engine.evaluate(run, now),
    deliverDue: () => {
      engine.expireSilences();
      queueDigests();
      return sender.deliverDue();
    },
    senderLoop: {
      start: () =>
        sender.start(() => {
          engine.expireSilences();
          queueDigests();
        }),
      stop: () => sender.stop(),
    },
    silence: (request) => engine.silence(request),
    unsilence: (id) => engine.unsilence(id),
    listFiring: (run) => engine.listFiring(run),
    listSilences: (run) => engine.listSilences(run),
    prune: (before) => {
      const batches = outbox.prune(before);
      matches.prune(before);
      held.prune(before);
      periods.prune(before);
      return { batches, alerts: alertsRepo.pruneResolved(before) };
    },
    backlog: () => outbox.backlog(),
    backlogBySink: () => {
      const pending = outbox.pendingBySink();
      return new Map(sinks.map((s) => [s.name, pending.get(s.name) ?? 0]));
    },
    sinks,
    digest: (options = {}) => {
      const to = options.to ?? clock.now();
      const from = options.from ?? periods.latestSent() ?? to - 24 * 3_600_000;
      const names = options.runs;
      const runs = names ? config.runs.filter((r) => names.includes(r.name)) : config.runs;
      return buildDigest(digestSources, runs, Math.min(from, to), to);
    },
    digestSchedule: (now = clock.now()) =>
      [...channels.values()].flatMap((c) =>
        c.digest
          ? [
              {
                channel: c.sink,
                label: c.label,
                next: nextDigestTime(c.digest, c.digestTimeZone, now),
                timeZone: c.digestTimeZone,
              },
            ]
          : [],
      ),
    rules: rules
      .filter((r) => r.settings.enabled)
      .map((r) => ({ name: r.name, severity: r.settings.severity })),
  };
}
