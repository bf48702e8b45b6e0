import { parseDuration } from "../../core/duration.ts";
import { formatClock, formatClockSeconds, formatDuration } from "../../message/format.ts";
import type { Message } from "../../message/message.ts";
import { parseChangePreview } from "../../ops/operations/index.ts";
import {
  type Actor,
  type ChangePreview,
  type OperationInput,
  type OperationKind,
  OperationRefusedError,
  type OperationResult,
} from "../../ops/run-operations.ts";
import type { Confirmation } from "../../store/confirmations-repo.ts";
import { authorize } from "./authorization.ts";
import type { BotCoreOptions } from "./bot-core-options.ts";
import { parseArguments } from "./command-arguments.ts";
import { auditWho, type CommandContext, privateNotice } from "./command-context.ts";
import type { ButtonPress, Responder } from "./command-request.ts";
import { redactSecrets } from "./redact-secrets.ts";
import { findSpec } from "./subcommand-specs.ts";

/** Builds the preview of the operation a command confirms (nothing changes yet). */
async function preview(ctx: CommandContext, kind: OperationKind): Promise<ChangePreview> {
  const input = parseArguments(ctx.spec, ctx.request.args) as OperationInput;
  return ctx.options.operations.preview(kind, ctx.run.name, input);
}

/**
 * A mutating command's first step: validate, preview, store a confirmation that only the
 * requester can press, and show the diff with Confirm / Cancel.
 */
export async function requestConfirmation(
  ctx: CommandContext,
  kind: OperationKind,
  newId: () => string,
): Promise<Message> {
  const change = await preview(ctx, kind);
  const now = ctx.now();
  const timeoutMs = parseDuration(ctx.options.config.confirmTimeout ?? "10m");
  const id = newId();
  ctx.options.db.confirmations.create({
    id,
    run: ctx.run.name,
    command: ctx.spec.name,
    args: ctx.request.args,
    preview: change,
    ...auditWho(ctx.invoker),
    createdAt: now,
    expiresAt: now + timeoutMs,
  });
  ctx.options.db.audit.record({
    at: now,
    ...auditWho(ctx.invoker),
    run: ctx.run.name,
    command: ctx.spec.name,
    args: ctx.request.args,
    outcome: "requested",
    detail: `confirmation ${id}: ${change.title}`,
  });
  const fields = [];
  if (change.risk) fields.push({ name: "Risk", value: change.risk, inline: true });
  fields.push({ name: "Restarts training", value: change.restarts ? "yes" : "no", inline: true });
  if (change.expected?.length) fields.push({ name: "Expected", value: change.expected.join("\n") });
  return {
    title: `Confirm: ${change.title}`,
    severity: "warning",
    lines: [
      change.changes.length
        ? `${change.changes.length} change${change.changes.length > 1 ? "s" : ""} to the training config of ${change.run}:`
        : `No config change; ${change.restarts ? "training restarts" : "nothing restarts"}.`,
      `Only ${ctx.invoker.userName} can confirm. Expires in ${formatDuration(timeoutMs)} (${formatClock(now + timeoutMs, ctx.options.config.timezone)}).`,
    ],
    code: change.diff.length ? change.diff.join("\n") : undefined,
    fields,
    buttons: [
      { id: `confirm:${id}`, label: "Confirm", style: change.restarts ? "danger" : "primary" },
      { id: `cancel:${id}`, label: "Cancel", style: "secondary" },
    ],
    footer: `${change.run} · confirmation ${id}`,
  };
}

/**
 * A Confirm / Cancel press. Only the requester may press; the state moves in one UPDATE so a
 * double press (or two front ends) applies once; an expired confirmation says so.
 */
export async function handlePress(
  options: BotCoreOptions,
  press: ButtonPress,
  responder: Responder,
  now: () => number,
  track: (work: Promise<unknown>) => void,
): Promise<Message> {
  const match = /^(confirm|cancel):([A-Za-z0-9_-]{1,64})$/.exec(press.buttonId);
  if (!match)
    return privateNotice("Unknown button", `'${press.buttonId}' is not a button of this bot.`);
  const action = match[1] as "confirm" | "cancel";
  const id = match[2] as string;
  const { confirmations, audit } = options.db;
  const found = confirmations.get(id);
  if (!found)
    return privateNotice(
      "Nothing to confirm",
      `No confirmation '${id}'. Run the command again for a fresh preview.`,
    );
  const who = auditWho(press.invoker);
  const base = { ...who, run: found.run, command: found.command, args: found.args };
  if (found.platform !== press.invoker.platform || found.userId !== press.invoker.userId) {
    audit.record({
      at: now(),
      ...base,
      outcome: "refused",
      detail: `${action} ${id}: not the requester (${found.userName})`,
    });
    return privateNotice(
      "Not yours to press",
      `Only ${found.userName}, who asked for /train ${found.command}, can confirm or cancel it. Run the command yourself for your own preview.`,
    );
  }
  // Authority is checked again at the press, against the operators configured now: someone
  // removed from them since the preview (a config change, a restart) can no longer apply it.
  const spec = findSpec(found.command);
  const authority = spec
    ? authorize(options.config, press.invoker, spec)
    : { allowed: false as const, reason: `/train ${found.command} is no longer a command.` };
  if (action === "confirm" && !authority.allowed) {
    const at = now();
    confirmations.resolvePending(
      id,
      "cancelled",
      `${press.invoker.platform}:${press.invoker.userId}`,
      at,
    );
    audit.record({
      at,
      ...base,
      outcome: "refused",
      detail: `confirm ${id}: no longer allowed: ${authority.reason}`,
    });
    return privateNotice(
      "No longer allowed",
      `${authority.reason} Nothing changed; this confirmation is withdrawn.`,
    );
  }
  const at = now();
  const to = action === "confirm" ? "confirmed" : "cancelled";
  if (
    !confirmations.resolvePending(id, to, `${press.invoker.platform}:${press.invoker.userId}`, at)
  ) {
    return alreadyResolved(options, found, at);
  }
  audit.record({ at, ...base, outcome: to, detail: `confirmation ${id}` });
  let change: ChangePreview;
  try {
    change = parseChangePreview(found.preview);
  } catch (error) {
    confirmations.finish(id, "failed", (error as Error).message);
    return privateNotice("Cannot apply this", `${(error as Error).message}.`);
  }
  if (action === "cancel") {
    return {
      title: `Cancelled: ${change.title}`,
      severity: "info",
      lines: [`Cancelled by ${press.invoker.userName}; nothing changed.`],
    };
  }
  track(applyConfirmed(options, found, change, press, responder));
  return {
    title: `Applying: ${change.title}`,
    severity: "info",
    lines: [`Confirmed by ${press.invoker.userName}. Progress follows here.`],
    footer: `${change.run} · confirmation ${id}`,
  };
}

async function applyConfirmed(
  options: BotCoreOptions,
  found: Confirmation,
  change: ChangePreview,
  press: ButtonPress,
  responder: Responder,
): Promise<void> {
  const actor: Actor = {
    platform: press.invoker.platform,
    userId: press.invoker.userId,
    name: press.invoker.userName,
    channelId: press.invoker.channelId,
  };
  const progress: Promise<void>[] = [];
  let result: OperationResult;
  try {
    result = await options.operations.apply(change, actor, (line) => {
      progress.push(
        responder
          .followUp({ title: change.title, severity: "info", lines: [redactSecrets(line)] })
          .catch(() => {}),
      );
    });
  } catch (error) {
    const refused = error instanceof OperationRefusedError;
    result = {
      ok: false,
      summary: `${refused ? "Refused" : "Failed"}: ${redactSecrets((error as Error).message)}`,
      details: [],
    };
  }
  await Promise.all(progress);
  // The operation audited itself (who, arguments, outcome, duration); the confirmation only
  // records how it ended.
  options.db.confirmations.finish(found.id, result.ok ? "applied" : "failed", result.summary);
  await responder.followUp(outcomeMessage(change, found.id, result)).catch(() => {});
}

function alreadyResolved(options: BotCoreOptions, found: Confirmation, at: number): Message {
  const current = options.db.confirmations.get(found.id) ?? found;
  if (current.state === "pending") {
    // Past its deadline: record the expiry once, then say so.
    for (const expired of options.db.confirmations.expireDue(at)) {
      options.db.audit.record({
        at,
        platform: expired.platform,
        userId: expired.userId,
        userName: expired.userName,
        channelId: expired.channelId,
        run: expired.run,
        command: expired.command,
        args: expired.args,
        outcome: "expired",
        detail: `confirmation ${expired.id}`,
      });
    }
  }
  const state = options.db.confirmations.get(found.id)?.state ?? current.state;
  if (state === "expired") {
    return privateNotice(
      "Confirmation expired",
      `This confirmation expired at ${formatClock(found.expiresAt, options.config.timezone)}; nothing changed. Run /train ${found.command} again for a fresh preview.`,
    );
  }
  if (state === "cancelled")
    return privateNotice("Already cancelled", "This was cancelled; nothing changed.", "info");
  return privateNotice(
    "Already confirmed",
    `Already confirmed ${current.resolvedAt ? `at ${formatClockSeconds(current.resolvedAt, options.config.timezone)}` : ""}; it applies once${current.outcome ? `: ${current.outcome}` : " (in progress)"}.`,
    "info",
  );
}

/** The last word on a confirmed change: done, applied but already failing, or failed. */
function outcomeMessage(change: ChangePreview, id: string, result: OperationResult): Message {
  const footer = `${change.run} · confirmation ${id}`;
  if (!result.ok) {
    return {
      title: `Failed: ${change.title}`,
      severity: "critical",
      lines: [result.summary, ...result.details, "Next: `/train errors` and `/train plan`."],
      footer,
    };
  }
  if (result.warning) {
    return {
      title: `Applied, but failing: ${change.title}`,
      severity: "warning",
      lines: [
        result.summary,
        redactSecrets(result.warning),
        ...result.details,
        "Next: `/train errors`; `/train plan` shows the verdict.",
      ],
      footer,
    };
  }
  return {
    title: `Done: ${change.title}`,
    severity: "success",
    lines: [result.summary, ...result.details, "Next: `/train status` to watch it."],
    footer,
  };
}
