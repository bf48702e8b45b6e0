import { ruleLabel } from "../../alerts/rule-label.ts";
import { formatDateTime, formatDuration } from "../../message/format.ts";
import type { Message } from "../../message/message.ts";
import { parseArguments } from "./command-arguments.ts";
import { auditWho, type CommandContext, privateNotice } from "./command-context.ts";
import { ruleWord } from "./rule-names.ts";

/** `/train mute`: silences the run's alerts (or one rule) for a while, with a reason. */
export async function muteCommand(ctx: CommandContext): Promise<Message> {
  const args = parseArguments(ctx.spec as typeof ctx.spec & { name: "mute" }, ctx.request.args);
  const alerts = ctx.options.alerts;
  if (!alerts)
    return privateNotice(
      "Alerts not connected",
      "This bot runs without the alerting engine; nothing to mute.",
    );
  const silence = await alerts.silence({
    run: ctx.run.name,
    ...(args.rule ? { rule: args.rule } : {}),
    durationMs: args.duration,
    reason: args.reason,
    createdBy: ctx.invoker.userName,
  });
  record(ctx, `silence ${silence.id} until ${new Date(silence.until).toISOString()}`);
  return {
    title: `Muted ${ruleWords(args.rule)} of ${ctx.run.name} for ${formatDuration(args.duration)}`,
    severity: "info",
    lines: [
      `Until ${formatDateTime(silence.until, ctx.options.config.timezone)}. Reason: ${args.reason}.`,
      `It ends by itself; \`/train unmute${args.rule ? ` rule:${ruleWord(args.rule)}` : ""}\` ends it now.`,
    ],
  };
}

/** `/train unmute`. */
export async function unmuteCommand(ctx: CommandContext): Promise<Message> {
  const args = parseArguments(ctx.spec as typeof ctx.spec & { name: "unmute" }, ctx.request.args);
  const alerts = ctx.options.alerts;
  if (!alerts)
    return privateNotice(
      "Alerts not connected",
      "This bot runs without the alerting engine; nothing to unmute.",
    );
  const ended = await alerts.unsilence({
    run: ctx.run.name,
    ...(args.rule ? { rule: args.rule } : {}),
    by: ctx.invoker.userName,
  });
  record(ctx, `${ended} silence(s) ended`);
  return {
    title: ended
      ? `Unmuted ${ruleWords(args.rule)} of ${ctx.run.name}`
      : `Nothing muted on ${ctx.run.name}`,
    severity: "info",
    lines: [
      ended
        ? `${ended} silence${ended > 1 ? "s" : ""} ended; alerts flow again.`
        : "No active silence matched.",
    ],
  };
}

/** "CUDA OOM alerts", or "all alerts". */
function ruleWords(rule: string | undefined): string {
  if (rule === undefined) return "all alerts";
  return `${ruleLabel(rule)} alerts`;
}

function record(ctx: CommandContext, detail: string): void {
  ctx.options.db.audit.record({
    at: ctx.now(),
    ...auditWho(ctx.invoker),
    run: ctx.run.name,
    command: ctx.spec.name,
    args: ctx.request.args,
    outcome: "done",
    detail,
  });
}
