import type { Config } from "../config/schema.ts";
import type { Clock } from "../core/clock.ts";
import type { Message, Severity } from "../message/message.ts";
import type { AlertOutboxRepo, OutboxKind } from "../store/alert-outbox-repo.ts";
import type { AlertRecord, AlertsRepo } from "../store/alerts-repo.ts";
import type { LogMatchesRepo } from "../store/log-matches-repo.ts";
import type { PollsRepo } from "../store/polls-repo.ts";
import type { SamplesRepo } from "../store/samples-repo.ts";
import type { SilenceRecord, SilencesRepo } from "../store/silences-repo.ts";
import type { SlurmJobsRepo } from "../store/slurm-jobs-repo.ts";
import {
  type AlertFacts,
  firingMessage,
  repeatMessage,
  resolvedMessage,
  silenceEndedMessage,
} from "./alert-message.ts";
import { mentionsFor } from "./mentions.ts";
import { createRuleContext } from "./rule-context.ts";
import { RuleFactsBook } from "./rule-facts-book.ts";
import type { BoundRule, Finding, RuleContext } from "./rules/rule.ts";
import { runNode } from "./run-node.ts";
import {
  isSilenced,
  type SilenceRequest,
  silenceRecordFor,
  silenceTarget,
} from "./silence-policy.ts";

// The silence request, its error and its target label are part of the engine's face: callers
// of `silence()` catch SilenceError from here.
export { SilenceError, type SilenceRequest, silenceTarget } from "./silence-policy.ts";

/** The pino-compatible subset of a logger the alerts area writes to. */
export interface AlertLogger {
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
  error(obj: object, msg: string): void;
}

/** A firing alert as the chat layer shows it in `/train status`. */
export interface FiringAlert {
  rule: string;
  run: string;
  phase: string | null;
  severity: Severity;
  headline: string;
  since: number;
  firedAt: number;
  silenced: boolean;
}

/** What one evaluation changed. */
export interface EvaluationReport {
  run: string;
  fired: string[];
  resolved: string[];
  notifications: number;
}

/** The stores, rules and seams an {@link AlertEngine} works with. */
export interface AlertEngineOptions {
  alerts: AlertsRepo;
  outbox: AlertOutboxRepo;
  silences: SilencesRepo;
  samples: SamplesRepo;
  polls: PollsRepo;
  config: Config;
  clock: Clock;
  rules: readonly BoundRule[];
  phaseOf: (run: string) => string | null;
  /** Slurm jobs of runs that name one (the scheduler's rules read them). */
  slurmJobs?: SlurmJobsRepo;
  /** Log lines that matched the user's patterns (the pattern rules read them). */
  logMatches?: LogMatchesRepo;
  log: AlertLogger;
  /** Called after notifications were queued, so the sender can go at once. */
  onQueued?: () => void;
}

/**
 * Runs the rules for a run and moves each alert through pending → firing → repeat → resolved,
 * writing every notification to the outbox in the same transaction as the state change.
 */
export class AlertEngine {
  private readonly book: RuleFactsBook;

  constructor(private readonly o: AlertEngineOptions) {
    this.book = new RuleFactsBook({
      ...o,
      onError: (rule, run, err) => o.log.error({ run, rule, err }, "alert rule's facts failed"),
    });
  }

  /** Evaluates every enabled rule for `run` at `now` (default: the clock). */
  evaluate(run: string, now = this.o.clock.now()): EvaluationReport {
    const report: EvaluationReport = { run, fired: [], resolved: [], notifications: 0 };
    report.notifications += this.expireSilences(now);
    const ctx = createRuleContext(this.o, run, now);
    const facts = this.book.factsAt(run, now);
    for (const [i, rule] of this.o.rules.entries()) {
      if (!rule.settings.enabled) continue;
      try {
        report.notifications += this.step(rule, ctx, facts[i], report);
      } catch (error) {
        this.o.log.error({ run, rule: rule.name, err: error }, "alert rule failed");
      }
    }
    if (report.notifications > 0) this.o.onQueued?.();
    return report;
  }

  private step(
    rule: BoundRule,
    ctx: RuleContext,
    facts: unknown,
    report: EvaluationReport,
  ): number {
    const { run, now, phase } = ctx;
    const key = `${rule.name}|${run}|${phase ?? "-"}`;
    const opens = this.o.alerts.open(run, rule.name);
    const stale = opens.filter((a) => a.dedupeKey !== key);
    const current = opens.find((a) => a.dedupeKey === key) ?? null;
    const evaluation = rule.evaluate(
      ctx,
      current && current.state !== "resolved"
        ? {
            state: current.state,
            startedAt: current.startedAt,
            firedAt: current.firedAt,
            finding: current.finding as Finding,
          }
        : null,
      facts,
    );
    let queued = 0;
    this.o.alerts.transaction(() => {
      // A phase change starts a new dedupe key: the old phase's alerts end without a message.
      for (const old of stale)
        this.o.alerts.update({ ...old, state: "resolved", resolvedAt: now, updatedAt: now });
      if (evaluation === "unknown") return;
      const silenced = this.isSilenced(run, rule.name, now);
      if (evaluation === null) {
        if (!current) return;
        const announce =
          current.state === "firing" &&
          current.lastNotifiedAt !== null &&
          !rule.quietResolve &&
          !silenced;
        this.o.alerts.update({ ...current, state: "resolved", resolvedAt: now, updatedAt: now });
        if (current.state === "firing") report.resolved.push(rule.name);
        if (announce) {
          const facts = this.facts(current, rule);
          this.queue(
            current,
            "resolved",
            resolvedMessage(facts, rule.label, rule.resolved(ctx), now),
            now,
          );
          queued++;
        }
        return;
      }
      const severity = evaluation.severity ?? rule.settings.severity;
      let alert: AlertRecord =
        current ??
        this.o.alerts.insert({
          dedupeKey: key,
          rule: rule.name,
          run,
          phase,
          state: "pending",
          severity,
          startedAt: Math.min(evaluation.since ?? now, now),
          firedAt: null,
          lastNotifiedAt: null,
          resolvedAt: null,
          headline: evaluation.headline,
          finding: evaluation,
          updatedAt: now,
        });
      alert = {
        ...alert,
        severity,
        headline: evaluation.headline,
        finding: evaluation,
        updatedAt: now,
      };
      if (alert.state === "pending" && now - alert.startedAt >= rule.settings.for) {
        alert.state = "firing";
        alert.firedAt = now;
        report.fired.push(rule.name);
      }
      if (alert.state === "firing" && !silenced) {
        const facts = this.facts(alert, rule);
        if (alert.lastNotifiedAt === null) {
          this.queue(alert, "firing", firingMessage(facts, evaluation, now), now);
          alert.lastNotifiedAt = now;
          queued++;
        } else if (
          rule.settings.repeatInterval > 0 &&
          now - alert.lastNotifiedAt >= rule.settings.repeatInterval
        ) {
          this.queue(alert, "repeat", repeatMessage(facts, evaluation, now), now);
          alert.lastNotifiedAt = now;
          queued++;
        }
      }
      this.o.alerts.update(alert);
    });
    return queued;
  }

  private facts(alert: AlertRecord, rule: BoundRule): AlertFacts {
    const gpu = (alert.finding as Finding | null)?.gpu;
    return {
      dedupeKey: alert.dedupeKey,
      node: runNode(this.o.config, alert.run),
      ...(gpu !== undefined ? { gpu } : {}),
      repeatIntervalMs: rule.settings.repeatInterval,
      run: alert.run,
      rule: alert.rule,
      label: rule.label,
      phase: alert.phase,
      severity: alert.severity,
      since: alert.startedAt,
      mentions: mentionsFor(this.o.config, alert.severity, rule.settings.mention),
      timeZone: this.o.config.timezone,
    };
  }

  private queue(alert: AlertRecord, kind: OutboxKind, message: Message, now: number): void {
    this.o.outbox.add({ createdAt: now, run: alert.run, alertId: alert.id, kind, message });
  }

  /** Mutes a run, a rule, or a rule of a run for a while. */
  silence(request: SilenceRequest): SilenceRecord {
    return this.o.silences.insert(silenceRecordFor(request, this.o, this.o.clock.now()));
  }

  /** Lifts a silence early; announces it. Returns the silence, or null if none was active. */
  unsilence(id: number): SilenceRecord | null {
    const now = this.o.clock.now();
    const silence = this.o.silences.get(id);
    if (!silence || silence.endedAt !== null) return null;
    this.o.alerts.transaction(() => {
      if (!this.o.silences.end(id, now, "lifted")) return;
      this.queueSilenceEnd(silence, "lifted", now);
    });
    this.o.onQueued?.();
    return this.o.silences.get(id);
  }

  /** Ends silences whose time is up, each announced once. Returns how many. */
  expireSilences(now = this.o.clock.now()): number {
    let ended = 0;
    for (const silence of this.o.silences.active()) {
      if (silence.endsAt > now) continue;
      this.o.alerts.transaction(() => {
        if (!this.o.silences.end(silence.id, now, "expired")) return;
        this.queueSilenceEnd(silence, "expired", now);
        ended++;
      });
    }
    if (ended > 0) this.o.onQueued?.();
    return ended;
  }

  private queueSilenceEnd(silence: SilenceRecord, how: "expired" | "lifted", now: number): void {
    this.o.outbox.add({
      createdAt: now,
      run: silence.run,
      alertId: null,
      kind: how === "expired" ? "silence_expired" : "silence_lifted",
      message: silenceEndedMessage(silenceTarget(silence), silence.reason, how, now),
    });
  }

  /** Active silences that apply to `run` (or all, without a run). */
  listSilences(run?: string): SilenceRecord[] {
    const now = this.o.clock.now();
    return this.o.silences
      .active()
      .filter((s) => s.endsAt > now && (run === undefined || s.run === null || s.run === run));
  }

  /** Firing alerts of a run, most severe first. */
  listFiring(run: string): FiringAlert[] {
    const now = this.o.clock.now();
    const rank: Record<Severity, number> = { critical: 0, warning: 1, info: 2, success: 3 };
    return this.o.alerts
      .open(run)
      .filter((a) => a.state === "firing")
      .map((a) => ({
        rule: a.rule,
        run: a.run,
        phase: a.phase,
        severity: a.severity,
        headline: a.headline,
        since: a.startedAt,
        firedAt: a.firedAt ?? a.startedAt,
        silenced: this.isSilenced(run, a.rule, now),
      }))
      .sort((a, b) => rank[a.severity] - rank[b.severity]);
  }

  private isSilenced(run: string, rule: string, now: number): boolean {
    return isSilenced(this.o.silences.active(), run, rule, now);
  }
}
