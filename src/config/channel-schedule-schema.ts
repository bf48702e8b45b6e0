import cron from "node-cron";
import * as z from "zod";
import { parseClockTime } from "../core/zoned-time.ts";

/**
 * What each alert channel (the Discord and Slack bots' alert channels, every `alerts.webhooks`
 * entry, `alerts.email`) takes beside its filter: a scheduled digest and quiet hours, in the
 * channel's time zone.
 */

/** An IANA time zone name, checked against the runtime's zone data. */
export const timeZoneName = z.string().refine(
  (zone) => {
    try {
      new Intl.DateTimeFormat("en-US", { timeZone: zone });
      return true;
    } catch {
      return false;
    }
  },
  {
    error: (issue) =>
      `'${String(issue.input)}' is not a time zone; expected an IANA name such as UTC, Europe/Berlin or America/New_York`,
  },
);

/** A 24-hour clock time `HH:MM`. */
export const clockTime = z.string().refine((text) => parseClockTime(text) !== null, {
  message: 'expected a 24-hour clock time "HH:MM", e.g. "09:00" or "22:30"',
});

/** Day names, as `days:` lists take them. */
export const WEEKDAYS = ["sun", "mon", "tue", "wed", "thu", "fri", "sat"] as const;

const weekday = z.enum(WEEKDAYS);

/** A five-field cron expression: minute hour day-of-month month day-of-week. */
const cronExpression = z.string().superRefine((text, ctx) => {
  const fields = text.trim().split(/\s+/);
  if (fields.length !== 5) {
    ctx.addIssue({
      code: "custom",
      message: `expected five cron fields "minute hour day-of-month month day-of-week", e.g. "0 9 * * 1-5"; got ${fields.length}`,
    });
    return;
  }
  const check = cron.validateDetailed(text.trim());
  if (!check.valid) {
    ctx.addIssue({
      code: "custom",
      message: `not a cron expression: ${check.errors.map((e) => e.message).join("; ")} (e.g. "0 9 * * 1-5")`,
    });
  }
});

export const digestSchema = z
  .object({
    at: clockTime
      .optional()
      .describe('Send it daily at this local time, e.g. "09:00" (or give `cron`)'),
    days: z
      .array(weekday)
      .min(1)
      .optional()
      .describe("With `at`: only on these days (sun, mon, … sat); default every day"),
    cron: cronExpression
      .optional()
      .describe('Or a cron expression in the channel\'s zone, e.g. "0 9 * * 1-5" (weekdays 09:00)'),
    timezone: timeZoneName
      .optional()
      .describe("Zone of `at`/`cron`; default the channel's `timezone`, else the global one"),
    runs: z
      .array(z.string())
      .optional()
      .describe("Runs in the digest; default the channel's `runs`, else every run"),
  })
  .strict()
  .superRefine((digest, ctx) => {
    if ((digest.at === undefined) === (digest.cron === undefined)) {
      ctx.addIssue({
        code: "custom",
        message: 'set exactly one of `at` (e.g. at: "09:00") or `cron` (e.g. cron: "0 9 * * 1-5")',
      });
    }
    if (digest.days && digest.cron !== undefined) {
      ctx.addIssue({
        code: "custom",
        path: ["days"],
        message: "`days` goes with `at`; with `cron`, put the days in the expression",
      });
    }
  });

export const quietWindowSchema = z
  .object({
    from: clockTime.describe('Start of the window, local time, e.g. "22:00"'),
    to: clockTime.describe('End of the window, e.g. "07:00" (next morning when before `from`)'),
    days: z
      .array(weekday)
      .min(1)
      .optional()
      .describe("Only windows that start on these days (sun … sat); default every day"),
  })
  .strict()
  .refine((window) => parseClockTime(window.from) !== parseClockTime(window.to), {
    message: "`from` and `to` are the same time: the window would be empty",
  });

/** Keys every alert channel takes for its schedule. */
export const channelSchedule = {
  digest: digestSchema
    .optional()
    .describe(
      "A digest of every run (progress, speed, ETA, phases, alerts, cost) sent on a schedule",
    ),
  quietHours: z
    .array(quietWindowSchema)
    .optional()
    .describe(
      "Recurring windows in which only critical alerts are sent; the rest go as one message at the window's end",
    ),
  timezone: timeZoneName
    .optional()
    .describe("Zone of this channel's digest and quiet hours; default the global `timezone`"),
};

/** A channel's `digest:` block. */
export type DigestConfig = z.infer<typeof digestSchema>;
/** One window of a channel's `quietHours:`. */
export type QuietWindow = z.infer<typeof quietWindowSchema>;
