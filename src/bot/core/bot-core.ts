import { randomBytes } from "node:crypto";
import { chartFor } from "../../charts/chart-for.ts";
import { CHART_METRICS } from "../../charts/chart-metrics.ts";
import { systemClock } from "../../core/clock.ts";
import { parseActionButton } from "../../message/action-buttons.ts";
import type { ChartRequest, Message, MessageImage } from "../../message/message.ts";
import { OperationRefusedError } from "../../ops/operation-refused-error.ts";
import { pressAction } from "./action-press.ts";
import { ArgumentError } from "./argument-error.ts";
import { authorize } from "./authorization.ts";
import type { BotCoreOptions } from "./bot-core-options.ts";
import { usage } from "./command-arguments.ts";
import {
  auditWho,
  type CommandContext,
  type CommandHandler,
  privateNotice,
} from "./command-context.ts";
import type {
  BotCore,
  ButtonPress,
  CommandRequest,
  Responder,
  SubcommandSpec,
} from "./command-request.ts";
import { handlePress, requestConfirmation } from "./confirm-flow.ts";
import { digestCommand } from "./digest-command.ts";
import { muteCommand, unmuteCommand } from "./mute-commands.ts";
import {
  chartCommand,
  errorsCommand,
  helpMessage,
  logsCommand,
  planCommand,
  statusCommand,
} from "./read-commands.ts";
import { redactArgs, redactSecrets } from "./redact-secrets.ts";
import { confirmedOperation, findSpec, SUBCOMMAND_SPECS } from "./subcommand-specs.ts";

/** The command layer as the front ends and the daemon see it. */
export interface BotCoreService extends BotCore {
  /** Resolves when background work (applies after Confirm) has finished. */
  idle(): Promise<void>;
  /** Marks overdue confirmations expired and audits them; returns how many. */
  expireConfirmations(): number;
  /**
   * Draws a requested chart (a verdict's) with the run's limits and phase boundaries; null for
   * an unknown run, with charts off, or when drawing failed.
   */
  drawChart(request: ChartRequest): Promise<MessageImage | null>;
}

/** What each command that does not confirm an operation runs, by name. */
const HANDLERS: Partial<Record<string, CommandHandler>> = {
  status: statusCommand,
  plan: planCommand,
  logs: logsCommand,
  errors: errorsCommand,
  chart: chartCommand,
  mute: muteCommand,
  unmute: unmuteCommand,
};

/**
 * Creates the platform-neutral `/train` command layer: argument validation, authorisation,
 * confirmation with Confirm / Cancel stored in SQLite, the audit trail, and the messages.
 */
export function createBotCore(options: BotCoreOptions): BotCoreService {
  const clock = options.clock ?? systemClock;
  const now = () => clock.now();
  const newId = options.newId ?? (() => randomBytes(6).toString("hex"));
  const inFlight = new Set<Promise<unknown>>();
  const track = (work: Promise<unknown>) => {
    const settled = work.catch(() => {}).finally(() => inFlight.delete(settled));
    inFlight.add(settled);
  };
  const runNames = () => options.config.runs.map((r) => r.name);

  async function execute(raw: CommandRequest, responder: Responder): Promise<Message> {
    // A token pasted into a reason or a value goes no further than this line: not into the
    // audit trail, a confirmation, a silence or a reply.
    const request = { ...raw, args: redactArgs(raw.args) };
    const spec = findSpec(request.subcommand.trim().toLowerCase());
    if (!spec) {
      return privateNotice(
        "Unknown command",
        `'/train ${request.subcommand}' is not a command. Try: ${SUBCOMMAND_SPECS.map((s) => s.name).join(", ")} (\`/train help\`).`,
      );
    }
    const verdict = authorize(options.config, request.invoker, spec);
    const audit = (outcome: "refused" | "invalid" | "failed", detail: string, run: string | null) =>
      options.db.audit.record({
        at: now(),
        ...auditWho(request.invoker),
        run,
        command: spec.name,
        args: request.args,
        outcome,
        detail,
      });
    if (!verdict.allowed) {
      audit("refused", verdict.reason, request.args.run ?? null);
      return privateNotice("Not allowed", verdict.reason);
    }
    if (spec.name === "help") return helpMessage(runNames());
    // Every run unless one is named: no "which run?" for a report about all of them.
    if (spec.name === "digest") return digestCommand(options, request.args.run, now());
    let run: ReturnType<typeof resolveRun>;
    try {
      run = resolveRun(options, spec, request.args.run);
    } catch (error) {
      if (spec.mutating) audit("invalid", (error as Error).message, request.args.run ?? null);
      return privateNotice("Which run?", (error as Error).message);
    }
    const context: CommandContext = {
      options,
      spec,
      request,
      invoker: request.invoker,
      run,
      responder,
      now,
      track,
    };
    try {
      const operation = confirmedOperation(spec);
      if (operation) return await requestConfirmation(context, operation, newId);
      const handler = HANDLERS[spec.name];
      if (!handler) throw new Error(`no handler for ${spec.name}`);
      return await handler(context);
    } catch (error) {
      return failure(error, spec, (outcome, detail) => {
        if (spec.mutating) audit(outcome, detail, run.name);
      });
    }
  }

  return {
    subcommands: SUBCOMMAND_SPECS,
    execute,
    press(press: ButtonPress, responder: Responder): Promise<Message> {
      const action = parseActionButton(press.buttonId);
      if (action) return pressAction(options, action, press, responder, execute);
      return handlePress(options, press, responder, now, track);
    },
    autocomplete(option: string, typed: string): string[] {
      if (option !== "run") return [];
      const needle = typed.trim().toLowerCase();
      const names = runNames();
      const starts = names.filter((n) => n.toLowerCase().startsWith(needle));
      const contains = names.filter((n) => !starts.includes(n) && n.toLowerCase().includes(needle));
      // Discord shows at most 25 choices.
      return [...starts, ...contains].slice(0, 25);
    },
    async drawChart(request: ChartRequest): Promise<MessageImage | null> {
      const run = options.config.runs.find((r) => r.name === request.run);
      if (!run) return null;
      const { from, to, name, title, focusFrom } = request;
      return chartFor(
        options,
        run,
        from,
        to,
        undefined,
        name,
        title,
        focusFrom !== undefined ? { focusFrom } : {},
      );
    },
    async idle(): Promise<void> {
      while (inFlight.size) await Promise.all([...inFlight]);
    },
    expireConfirmations(): number {
      const expired = options.db.confirmations.expireDue(now());
      for (const c of expired) {
        options.db.audit.record({
          at: now(),
          platform: c.platform,
          userId: c.userId,
          userName: c.userName,
          channelId: c.channelId,
          run: c.run,
          command: c.command,
          args: c.args,
          outcome: "expired",
          detail: `confirmation ${c.id}`,
        });
      }
      return expired.length;
    },
  };
}

function resolveRun(options: BotCoreOptions, spec: SubcommandSpec, name: string | undefined) {
  const runs = options.config.runs;
  const list = runs.map((r) => r.name).join(", ");
  if (name === undefined || name === "") {
    if (runs.length === 1) return runs[0] as (typeof runs)[number];
    throw new ArgumentError(`Name the run: \`/train ${spec.name} <run>\`. Runs: ${list}.`);
  }
  const run = runs.find((r) => r.name === name);
  if (!run && spec.name === "chart")
    // `/train chart foo`: the word may be meant as a metric as easily as a run.
    throw new ArgumentError(
      `'${name}' is neither a run nor a chart metric. Metrics: ${CHART_METRICS.join(", ")}; runs: ${list}. ${usage(spec)}.`,
    );
  if (!run) throw new ArgumentError(`No run named '${name}'. Runs: ${list}.`);
  return run;
}

function failure(
  error: unknown,
  spec: SubcommandSpec,
  audit: (outcome: "refused" | "invalid" | "failed", detail: string) => void,
): Message {
  const message = redactSecrets((error as Error).message ?? String(error));
  if (error instanceof ArgumentError) {
    audit("invalid", message);
    return privateNotice(`Cannot run /train ${spec.name}`, message);
  }
  if (error instanceof OperationRefusedError) {
    audit("refused", message);
    return privateNotice(`/train ${spec.name} refused`, message);
  }
  audit("failed", message);
  return privateNotice(
    `/train ${spec.name} failed`,
    `${message}. Check \`trainops check\` and the bot's log.`,
    "critical",
  );
}
