import * as z from "zod";
import { ConfigError } from "../../config/config-error.ts";
import type { Config } from "../../config/schema.ts";
import { formatDuration } from "../../core/duration.ts";
import { formatClock } from "../../message/format.ts";
import type { LineMatch, LinePattern } from "../../model/line-pattern.ts";
import type { BoundRule, Rule, RuleContext } from "./rule.ts";
import { durationSetting } from "./rule.ts";

/** Rule name of every pattern's alerts is `pattern:<name>`; `mute pattern` mutes them all. */
export const PATTERN_RULE = "pattern";

/** Longest headline a template may render (chat titles are short). */
const MAX_HEADLINE = 200;

const NAME = /^[a-z][a-z0-9_]{0,47}$/;

/** One user pattern: a regex on log lines with its own alert. */
const patternSchema = z
  .strictObject({
    name: z
      .string()
      .regex(NAME, "use lower-case letters, digits and _ (e.g. checkpoint_failed)")
      .describe("The pattern's name, unique; its alerts are muted as pattern:<name>"),
    regex: z
      .string()
      .min(1, "give a regular expression (JavaScript syntax)")
      .describe("JavaScript regular expression tested against each log line"),
    ignoreCase: z.boolean().default(false).describe("Match regardless of case; default false"),
    label: z
      .string()
      .min(1)
      .max(60)
      .optional()
      .describe('What people call it, e.g. "checkpoint failure"; default: the name in words'),
    message: z
      .string()
      .min(1)
      .max(MAX_HEADLINE)
      .optional()
      .describe(
        "Alert headline; {1}, {2}… or {name} insert the regex's groups, {line} the whole line, {count} the matches in the window",
      ),
    severity: z
      .enum(["info", "success", "warning", "critical"])
      .default("warning")
      .describe("Severity of its alerts; default warning"),
    count: z
      .number()
      .int()
      .min(1)
      .default(1)
      .describe("Matching lines within `window` that fire; default 1"),
    window: durationSetting
      .prefault("10m")
      .describe("How far back matching lines count; the alert ends when fewer remain; default 10m"),
    for: durationSetting.prefault("0s").describe("How long the count must hold before it fires"),
    repeatInterval: durationSetting
      .prefault("0s")
      .describe("How often a still-firing alert is repeated; 0s (default) never repeats"),
    mention: z.array(z.string()).default([]).describe("Extra ids to mention"),
    runs: z
      .array(z.string())
      .optional()
      .describe("Only the log lines of these runs; default: every run"),
  })
  .superRefine((p, ctx) => {
    let regex: RegExp;
    try {
      regex = new RegExp(p.regex, p.ignoreCase ? "i" : "");
    } catch (error) {
      const why = (error as Error).message.replace(/^Invalid regular expression: /, "");
      ctx.addIssue({
        code: "custom",
        path: ["regex"],
        message: `not a valid regular expression (${why}); escape special characters such as ( [ { . * + ? with a backslash, e.g. "loss=\\\\(nan\\\\)"`,
      });
      return;
    }
    if (regex.test("")) {
      ctx.addIssue({
        code: "custom",
        path: ["regex"],
        message: "matches an empty line, so it would match every line; make it name what to find",
      });
    }
    const groups = groupsOf(regex);
    for (const key of placeholders(p.message ?? "")) {
      if (key === "line" || key === "count" || groups.has(key)) continue;
      ctx.addIssue({
        code: "custom",
        path: ["message"],
        message: `{${key}} is not a group of the regex; use ${[...groups].map((g) => `{${g}}`).join(", ") || "no group (the regex has none)"}, {line} or {count}`,
      });
    }
  });

/** A parsed user pattern. */
export type PatternSettings = z.infer<typeof patternSchema>;

/** `alerts.rules.pattern`: the list of patterns. */
const settingsSchema = z
  .strictObject({
    enabled: z.boolean().default(true).describe("Turn every pattern off with false"),
    patterns: z
      .array(patternSchema)
      .default([])
      .describe("Regexes on log lines, each its own alert"),
  })
  .superRefine((s, ctx) => {
    const seen = new Set<string>();
    s.patterns.forEach((p, i) => {
      if (seen.has(p.name))
        ctx.addIssue({
          code: "custom",
          path: ["patterns", i, "name"],
          message: `'${p.name}' is used by another pattern; give each its own name`,
        });
      seen.add(p.name);
    });
  });

/**
 * User patterns: a regex on log lines, each with its own name, severity and message. The
 * monitor tests every log line it reads against them once (see LogIngestor) and stores the
 * lines that match; each pattern is a rule of its own (`pattern:<name>`) that fires when
 * `count` lines matched within `window`, and ends quietly when fewer remain.
 */
export const patternRule: Rule = {
  name: PATTERN_RULE,
  label: "log pattern",
  settingsSchema,
  bind(raw) {
    const parsed = settingsSchema.safeParse(raw ?? {});
    if (!parsed.success) return { ok: false, issues: parsed.error.issues };
    return {
      ok: true,
      rules: parsed.data.patterns.map((p) => boundPattern(p, parsed.data.enabled)),
    };
  },
};

/**
 * The compiled patterns whose lines `run` must be matched against, from the config. Throws a
 * ConfigError naming the key, as alerting does, for settings that do not parse.
 */
export function linePatternsFor(config: Pick<Config, "alerts">, run: string): LinePattern[] {
  const parsed = settingsSchema.safeParse(config.alerts.rules[PATTERN_RULE] ?? {});
  if (!parsed.success) {
    const problems = parsed.error.issues.map(
      (i) => `alerts.rules.pattern.${i.path.map(String).join(".")}: ${i.message}`,
    );
    throw new ConfigError(`invalid alert rule settings:\n  ${problems.join("\n  ")}`, problems);
  }
  if (!parsed.data.enabled) return [];
  return parsed.data.patterns
    .filter((p) => !p.runs || p.runs.includes(run))
    .map((p) => ({ name: p.name, regex: new RegExp(p.regex, p.ignoreCase ? "i" : "") }));
}

function boundPattern(p: PatternSettings, enabled: boolean): BoundRule {
  const label = p.label ?? p.name.replace(/_/g, " ");
  return {
    name: `${PATTERN_RULE}:${p.name}`,
    label,
    settings: {
      enabled,
      severity: p.severity,
      for: p.for,
      repeatInterval: p.repeatInterval,
      mention: p.mention,
    },
    quietResolve: true,
    facts: null,
    evaluate(ctx: RuleContext) {
      if (p.runs && !p.runs.includes(ctx.run)) return null;
      const found = ctx.lineMatches?.(p.name, ctx.now - p.window);
      if (!found?.newest || found.count < p.count) return null;
      const newest = found.newest;
      const times =
        found.count === 1
          ? `at ${formatClock(newest.at)}`
          : `${found.count} times in the last ${formatDuration(p.window)}`;
      return {
        headline: render(p.message ?? label, newest, found.count),
        lines: [
          `A log line matched ${label} ${times}${p.count > 1 ? ` (alert at ${p.count})` : ""}; the newest is quoted below.`,
        ],
        quote: newest.line,
        since: p.count > 1 ? (found.oldestAt ?? newest.at) : newest.at,
      };
    },
    resolved: () => [`No line matched ${label} in the last ${formatDuration(p.window)}.`],
  };
}

/** The message with `{1}`, `{name}`, `{line}` and `{count}` filled in from a match. */
function render(template: string, match: LineMatch, count: number): string {
  const text = template.replace(/\{([A-Za-z0-9_]+)\}/g, (whole, key: string) => {
    if (key === "line") return match.line;
    if (key === "count") return String(count);
    if (/^\d+$/.test(key)) return match.groups[Number(key)] ?? "";
    return match.named[key] ?? whole;
  });
  const flat = text.replace(/\s+/g, " ").trim();
  return flat.length > MAX_HEADLINE ? `${flat.slice(0, MAX_HEADLINE - 1)}…` : flat;
}

/** `{…}` placeholders of a template. */
function placeholders(template: string): string[] {
  return [...template.matchAll(/\{([A-Za-z0-9_]+)\}/g)].map((m) => m[1] as string);
}

/** Group references a template may use: `0`…`n` and the named groups. */
function groupsOf(regex: RegExp): Set<string> {
  // An alternative that matches the empty string makes exec report every group.
  const probe = new RegExp(`${regex.source}|`, regex.flags).exec("") as RegExpExecArray;
  const out = new Set<string>();
  for (let i = 0; i < probe.length; i++) out.add(String(i));
  for (const name of Object.keys(probe.groups ?? {})) out.add(name);
  return out;
}
