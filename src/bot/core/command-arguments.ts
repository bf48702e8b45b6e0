import * as z from "zod";
import { CHART_METRICS, type ChartMetricName } from "../../charts/chart-metrics.ts";
import { parseDuration } from "../../core/duration.ts";
import { ArgumentError } from "./argument-error.ts";
import type { SubcommandSpec } from "./command-request.ts";
import { resolveRuleName } from "./rule-names.ts";
import { LIMITS } from "./subcommand-specs.ts";

export { ArgumentError };

function integer(name: string, min: number, max: number) {
  const message = (got: string) => `${name} must be an integer from ${min} to ${max}; got '${got}'`;
  return z
    .string()
    .trim()
    .superRefine((value, ctx) => {
      const n = Number(value);
      if (!/^-?\d+$/.test(value) || n < min || n > max)
        ctx.addIssue({ code: "custom", message: message(value) });
    })
    .transform(Number);
}

function duration(name: string, example: string, maxMs: number) {
  return z
    .string()
    .trim()
    .superRefine((value, ctx) => {
      let ms: number;
      try {
        ms = parseDuration(value);
      } catch {
        ctx.addIssue({
          code: "custom",
          message: `${name} must be a duration like ${example}; got '${value}'`,
        });
        return;
      }
      if (ms <= 0 || ms > maxMs) {
        ctx.addIssue({
          code: "custom",
          message: `${name} must be more than 0 and at most ${Math.round(maxMs / 86_400_000)}d; got '${value}'`,
        });
      }
    })
    .transform((value) => parseDuration(value));
}

/** A rule by name, label or alias (`oom`), as the rule's name. */
const ruleName = z
  .string()
  .trim()
  .superRefine((value, ctx) => {
    try {
      resolveRuleName(value);
    } catch (error) {
      ctx.addIssue({ code: "custom", message: (error as Error).message });
    }
  })
  .transform((value) => resolveRuleName(value));

const schemas = {
  set: z
    .object({
      workers: integer("workers", LIMITS.workers.min, LIMITS.workers.max).optional(),
      batch: integer("batch", LIMITS.batch.min, LIMITS.batch.max).optional(),
    })
    .refine((v) => v.workers !== undefined || v.batch !== undefined, {
      message: "set needs workers or batch, e.g. `/train set workers:4` or `/train set batch:2`",
    }),
  logs: z.object({
    lines: integer("lines", LIMITS.lines.min, LIMITS.lines.max).default(LIMITS.lines.default),
  }),
  mute: z.object({
    rule: ruleName.optional(),
    duration: duration("duration", "30m, 2h or 1d", 30 * 86_400_000),
    reason: z
      .string({ error: "mute needs a reason, e.g. `/train mute 2h restarting the VM`" })
      .trim()
      .min(1, "mute needs a reason, e.g. `/train mute 2h restarting the VM`")
      .max(300, "reason must be at most 300 characters"),
  }),
  unmute: z.object({ rule: ruleName.optional() }),
  chart: z.object({
    metric: z
      .enum(CHART_METRICS, { error: `metric must be one of ${CHART_METRICS.join(", ")}` })
      .optional(),
    window: duration("window", "6h, 2d or 30m", 90 * 86_400_000).default(6 * 3_600_000),
  }),
};

/** Validated arguments of each subcommand that takes more than a run. */
export interface ParsedArguments {
  set: { workers?: number; batch?: number };
  logs: { lines: number };
  mute: { rule?: string; duration: number; reason: string };
  unmute: { rule?: string };
  chart: { metric?: ChartMetricName; window: number };
}

/**
 * Validates the raw arguments of `spec` (run excluded) and returns typed values, or throws an
 * ArgumentError with the first problem phrased for people. Unknown names are refused so a typo
 * like `worker:4` is not silently ignored.
 */
export function parseArguments<K extends keyof ParsedArguments>(
  spec: SubcommandSpec & { name: K },
  raw: Record<string, string | undefined>,
): ParsedArguments[K];
export function parseArguments(
  spec: SubcommandSpec,
  raw: Record<string, string | undefined>,
): unknown;
export function parseArguments(
  spec: SubcommandSpec,
  raw: Record<string, string | undefined>,
): unknown {
  const known = new Set(spec.options.map((o) => o.name));
  for (const [key, value] of Object.entries(raw)) {
    if (value === undefined) continue;
    if (key === "_")
      throw new ArgumentError(`'${value}' is not understood by ${spec.name}; ${usage(spec)}`);
    if (!known.has(key))
      throw new ArgumentError(`${spec.name} has no option '${key}'; ${usage(spec)}`);
  }
  const schema = schemas[spec.name as keyof typeof schemas] as z.ZodType | undefined;
  if (!schema) return {};
  const input: Record<string, string> = {};
  for (const [key, value] of Object.entries(raw)) {
    if (key !== "run" && value !== undefined && value !== "") input[key] = value;
  }
  const result = schema.safeParse(input);
  if (!result.success) {
    const issue = result.error.issues[0];
    const misplaced = issue?.path[0] === "duration" ? misplacedDuration(input) : null;
    const message = misplaced ?? issue?.message ?? "invalid arguments";
    throw new ArgumentError(`${message}; ${usage(spec)}`);
  }
  return result.data;
}

/**
 * When `mute` found no duration where it belongs but the reason holds one ("mute oom waiting
 * 2h"), the mistake is the order, not the word taken for the duration: say so.
 */
function misplacedDuration(input: Record<string, string>): string | null {
  const words = (input.reason ?? "").split(/\s+/);
  const found = words.find((w) => /^\d+(\.\d+)?(ms|s|m|h|d)$/.test(w));
  if (!found || input.duration === undefined) return null;
  return `the duration '${found}' must come before the reason, right after the alert (got '${input.duration}' where the duration goes)`;
}

/** "usage: /train set [run] [workers:<1-64>] [batch:<1-4096>]". */
export function usage(spec: SubcommandSpec): string {
  const parts = spec.options.map((o) => {
    const value =
      o.choices?.join("|") ??
      (o.min !== undefined ? `${o.min}-${o.max}` : o.name === "run" ? "" : o.name);
    const text = o.name === "run" ? "run" : `${o.name}:<${value}>`;
    return o.required ? text : `[${text}]`;
  });
  return `usage: /train ${[spec.name, ...parts].join(" ")}`;
}
