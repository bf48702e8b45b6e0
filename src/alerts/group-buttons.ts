import { parseActionButton } from "../message/action-buttons.ts";
import type { Message, MessageButton } from "../message/message.ts";
import { ruleLabel } from "./rule-label.ts";

/** Discord shows at most 25 buttons on a message (5 rows of 5); Slack 25 in an actions block. */
const MAX_BUTTONS = 25;

type Kind = "verdict" | "stop" | "mute" | "read" | "other";

function kindOf(button: MessageButton): Kind {
  const action = parseActionButton(button.id);
  if (!action) return "other";
  switch (action.action) {
    case "next":
    case "retry":
    case "rollback":
      return "verdict";
    case "stop":
      return "stop";
    case "mute":
      return "mute";
    case "logs":
    case "status":
      return "read";
  }
}

/**
 * The buttons of several notifications sent as one message, so that each stays pressable from
 * it (a failed verdict's Roll back and the OOM alert's Mute alike): the newest verdict's
 * buttons (an older verdict in the same message is already out of date), then every alert's
 * Stop training (once) and Mute, most severe first, then Logs and Status, each once. When mutes of more than one alert
 * share the message, each Mute names its alert, so two "Mute 1 h" never stand side by side.
 *
 * `chronological`: the members in the order they were queued; `bySeverity`: most severe first.
 */
export function groupButtons(
  chronological: readonly Message[],
  bySeverity: readonly Message[],
): MessageButton[] {
  const newestVerdict = chronological
    .findLast((m) => m.buttons?.some((b) => kindOf(b) === "verdict"))
    ?.buttons?.filter((b) => kindOf(b) === "verdict");
  const rest = bySeverity.flatMap((m) => m.buttons ?? []).filter((b) => kindOf(b) !== "verdict");
  const mutedRules = new Set(
    rest.flatMap((b) => {
      const action = parseActionButton(b.id);
      return action?.action === "mute" ? [action.rule] : [];
    }),
  );
  const seen = new Set<string>();
  const acting: MessageButton[] = [];
  const reading: MessageButton[] = [];
  for (const button of [...(newestVerdict ?? []), ...rest]) {
    if (seen.has(button.id)) continue;
    seen.add(button.id);
    // Every Stop training stops the same run: the most severe alert's is offered.
    if (kindOf(button) === "stop") {
      if (acting.some((b) => kindOf(b) === "stop")) continue;
    }
    const action = parseActionButton(button.id);
    if (action?.action === "logs" || action?.action === "status") reading.push(button);
    else if (action?.action === "mute" && mutedRules.size > 1) {
      const label = ruleLabel(action.rule);
      acting.push({
        ...button,
        label: `Mute ${label} ${action.duration === "1h" ? "1 h" : "8 h"}`,
      });
    } else acting.push(button);
  }
  return [...acting.slice(0, MAX_BUTTONS - reading.length), ...reading];
}
