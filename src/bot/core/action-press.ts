import { ruleLabel } from "../../alerts/rule-label.ts";
import type { ActionButton } from "../../message/action-buttons.ts";
import type { Message } from "../../message/message.ts";
import type { BotCoreOptions } from "./bot-core-options.ts";
import { privateNotice } from "./command-context.ts";
import type { ButtonPress, CommandRequest, Responder } from "./command-request.ts";

/** Runs a `/train` request as the command layer does: authorisation, validation, audit. */
export type Execute = (request: CommandRequest, responder: Responder) => Promise<Message>;

/**
 * A press on a button of an alert or a verdict. Each button runs the slash command it stands
 * for through `execute`, so authorisation, confirmation and audit are the same; answers are
 * private, so the alert stays as it was for everyone else. A button offered for a state that
 * has moved on (the alert resolved, the phase judged again or rolled back) says so instead.
 */
export async function pressAction(
  options: BotCoreOptions,
  action: ActionButton,
  press: ButtonPress,
  responder: Responder,
  execute: Execute,
): Promise<Message> {
  const run = (subcommand: string, args: Record<string, string>) =>
    execute({ subcommand, args: { run: action.run, ...args }, invoker: press.invoker }, responder);
  switch (action.action) {
    case "logs":
    case "status":
      return { ...(await run(action.action, {})), ephemeral: true };
    case "mute": {
      const label = ruleLabel(action.rule);
      // A muted alert still fires: Mute again sets a longer (or shorter) mute on it.
      if (options.alerts) {
        if (!(await options.alerts.isFiring(action.run, action.rule)))
          return privateNotice(
            "Alert already resolved",
            `The ${label} alert of ${action.run} is no longer firing; nothing was muted. \`/train mute\` silences it ahead of time.`,
            "info",
          );
      }
      const reason = `muted from the alert by ${press.invoker.userName}`;
      const answer = await run("mute", { rule: action.rule, duration: action.duration, reason });
      return { ...answer, ephemeral: true };
    }
    case "stop": {
      // Offered by an alert: once it resolved (training recovered), a stop is no longer asked.
      const label = ruleLabel(action.rule);
      if (options.alerts) {
        if (!(await options.alerts.isFiring(action.run, action.rule)))
          return privateNotice(
            "Alert already resolved",
            `The ${label} alert of ${action.run} is no longer firing; nothing was stopped. \`/train stop\` stops training anyway.`,
            "info",
          );
      }
      // The preview with Confirm / Cancel goes to the presser alone.
      return { ...(await run("stop", {})), ephemeral: true };
    }
    case "next":
    case "retry":
    case "rollback": {
      const view = await options.operations.plan(action.run);
      const current = view.current;
      const phaseName = action.phase === 0 ? "The baseline" : `Phase ${action.phase}`;
      const fresh =
        current !== null &&
        current.index === action.phase &&
        current.state.startsWith(action.verdict) &&
        !(action.action === "rollback" && current.state.includes("rolled back"));
      if (!fresh) {
        const now = current ? `Now: ${current.name} (${current.state}).` : "Nothing has run yet.";
        return privateNotice(
          "This verdict is out of date",
          `${phaseName} ${action.verdict} then, but the plan has moved on; nothing changed. ${now} \`/train plan\` shows where it stands.`,
          "info",
        );
      }
      const answer = await run(action.action === "rollback" ? "rollback" : "next-phase", {});
      // The preview goes to the presser alone; the verdict stays in the channel as it was.
      return { ...answer, ephemeral: true };
    }
  }
}
