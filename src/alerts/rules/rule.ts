import * as z from "zod";
import type { RunConfig } from "../../config/schema.ts";
import { parseDuration } from "../../core/duration.ts";
import type { MessageField, Severity } from "../../message/message.ts";
import type { ErrorKind, RunSample } from "../../model/monitoring.ts";
import type { SlurmJobRecord } from "../../model/slurm-job.ts";
import type { ExpectedStop } from "../../store/alerts-repo.ts";
import type { StoredEvent } from "../../store/events-repo.ts";
import type { StoredLineMatch } from "../../store/log-matches-repo.ts";

/** A duration setting (`10m`), parsed to milliseconds; `0s` means "off" where it applies. */
export const durationSetting = z
  .string()
  .regex(/^\d+(\.\d+)?(ms|s|m|h|d)$/, "expected a duration like 30s, 10m, 2h or 1d")
  .transform(parseDuration);

/** Settings every rule takes, with the rule's own defaults. */
export function baseSettings(defaults: {
  severity: Severity;
  for?: string;
  repeatInterval?: string;
}) {
  return z.strictObject({
    enabled: z.boolean().default(true).describe("Turn the rule off with false"),
    severity: z
      .enum(["info", "success", "warning", "critical"])
      .default(defaults.severity)
      .describe("Severity of its alerts (drives colour, pings and channel filters)"),
    /** How long the condition must hold before the alert fires. */
    for: durationSetting
      .prefault(defaults.for ?? "0s")
      .describe("How long the condition must hold before the alert fires"),
    /** How often a still-firing alert is repeated; 0s never repeats. */
    repeatInterval: durationSetting
      .prefault(defaults.repeatInterval ?? "1h")
      .describe("How often a still-firing alert is repeated; 0s never repeats"),
    /** Extra ids to mention (Discord user/role ids, Slack U…/S… ids). */
    mention: z
      .array(z.string())
      .default([])
      .describe("Extra ids to mention: Discord user/role ids, Slack U…/S… ids"),
  });
}

/** The settings the lifecycle reads, whatever the rule adds. */
export interface BaseSettings {
  enabled: boolean;
  severity: Severity;
  for: number;
  repeatInterval: number;
  mention: string[];
}

/** What a rule found: phrased for people; the lifecycle adds titles, durations and mentions. */
export interface Finding {
  /** After the run name: "stalled at step 549 for 32 min", "CUDA out of memory". */
  headline: string;
  /** Facts with units, then the usual fix / next step. */
  lines: string[];
  /** The decisive log line(s), shown as code. */
  quote?: string;
  fields?: MessageField[];
  /** Overrides the rule's severity for this finding (e.g. "failed to start"). */
  severity?: Severity;
  /** When the condition began, if the rule knows better than "first evaluation that saw it". */
  since?: number;
  /** GPU index the finding is about, when it is about one GPU (a label for incident tools). */
  gpu?: string;
  /** The alert offers a "Stop training" button (an opt-in, confirmed stop: see nan_loss). */
  offerStop?: boolean;
}

/** A rule's verdict: a finding, null (all clear), or unknown (no fresh data: keep the state). */
export type Evaluation = Finding | null | "unknown";

/** The open alert a rule is re-evaluated against, if any. */
export interface OpenAlertView {
  state: "pending" | "firing";
  startedAt: number;
  firedAt: number | null;
  finding: Finding;
}

/** What rules read. Reads are lazy and cached per evaluation. */
export interface RuleContext {
  run: string;
  now: number;
  runConfig: RunConfig | undefined;
  phase: string | null;
  /** Newest sample (may be an unreachable one), or null. */
  latest(): RunSample | null;
  /** Newest reachable sample, or null. */
  latestReachable(): RunSample | null;
  /** Newest event of the given kinds, or null. */
  latestEvent(kinds: readonly ErrorKind[]): StoredEvent | null;
  /** The message of the newest failed poll, if the monitor recorded one. */
  lastPollError(): string | null;
  /** Outcomes and messages of the newest `limit` polls that ran, newest first. */
  recentPolls(limit: number): Array<{ outcome: string; message: string | null; at: number }>;
  /** Until when the operations side said the process may be down (a requested restart). */
  expectedStop(): ExpectedStop | null;
  /** The run's newest Slurm job, for runs that name one (absent where no store keeps jobs). */
  slurmJob?(): SlurmJobRecord | null;
  /** Lines of the run that matched a user's pattern since `from`: how many, and the newest. */
  lineMatches?(
    pattern: string,
    from: number,
  ): { count: number; newest: StoredLineMatch | null; oldestAt: number | null };
}

/**
 * What a rule keeps of a run's samples: small facts updated per sample ("alive since", "last
 * step advance at", a bounded series where the rule judges one), so that an evaluation reads
 * no window of samples and a run costs the same memory on its first day as on its hundredth.
 */
export interface SampleFacts<F> {
  /**
   * How far back the facts reach: the samples older than this before now no longer change
   * them, and a restarted daemon rebuilds them from this much of the stored history.
   */
  span: number;
  /**
   * Names what the facts hold: rules whose facts have the same key (or the same keeper) keep
   * them once, folded once per sample, and each is handed that one copy to read.
   */
  key?: string;
  /** The facts of a run with no sample yet. */
  init(): F;
  /** Folds the run's next sample (oldest first) into `facts`, in place. */
  add(facts: F, sample: RunSample, run: RunConfig | undefined): void;
  /** An independent copy (to fold in a newest sample that is not final yet). */
  copy(facts: F): F;
}

/** A rule as written in its module. */
export interface RuleDefinition<S extends BaseSettings, F = undefined> {
  name: string;
  /** Noun for the resolved message: "stall", "CUDA OOM". */
  label: string;
  settings: z.ZodType<S, unknown>;
  /** The facts the rule keeps per run, updated per sample (absent: it reads no samples' history). */
  facts?: (settings: S) => SampleFacts<F>;
  evaluate(ctx: RuleContext, settings: S, open: OpenAlertView | null, facts: F): Evaluation;
  /** Lines for the resolved message; absent = generic. */
  resolved?(ctx: RuleContext, settings: S): string[];
  /** One-shot alerts (errors from the log) end without a "resolved" message. */
  quietResolve?: boolean;
}

/** A rule with its settings applied, ready for the engine. */
export interface BoundRule {
  name: string;
  label: string;
  settings: BaseSettings;
  quietResolve: boolean;
  /** What it keeps per run of the samples, or null. */
  facts: SampleFacts<unknown> | null;
  /** Judges the run; `facts` are this rule's facts of the run (see {@link BoundRule.facts}). */
  evaluate(ctx: RuleContext, open: OpenAlertView | null, facts?: unknown): Evaluation;
  resolved(ctx: RuleContext): string[];
}

/** A registered rule: parses its settings into a bound rule. */
export interface Rule {
  name: string;
  /** Noun for people: "stall", "CUDA OOM". */
  label: string;
  /** The settings `alerts.rules.<name>` takes (for the config's JSON Schema). */
  settingsSchema: z.ZodType;
  /** One bound rule, or several for a rule whose settings list many (user patterns). */
  bind(raw: unknown): { ok: true; rules: BoundRule[] } | { ok: false; issues: z.core.$ZodIssue[] };
}

/** Erases the settings type so rules of every shape fit in one list. */
export function defineRule<S extends BaseSettings, F = undefined>(def: RuleDefinition<S, F>): Rule {
  return {
    name: def.name,
    label: def.label,
    settingsSchema: def.settings,
    bind(raw) {
      // Bound once per config load: zod's compiled fast path would cost more than it saves.
      const parsed = def.settings.safeParse(raw ?? {}, { jitless: true });
      if (!parsed.success) return { ok: false, issues: parsed.error.issues };
      const settings = parsed.data;
      return {
        ok: true,
        rules: [
          {
            name: def.name,
            label: def.label,
            settings,
            quietResolve: def.quietResolve ?? false,
            facts: (def.facts?.(settings) as SampleFacts<unknown> | undefined) ?? null,
            evaluate: (ctx, open, facts) => def.evaluate(ctx, settings, open, facts as F),
            resolved: (ctx) => def.resolved?.(ctx, settings) ?? [],
          },
        ],
      };
    },
  };
}
