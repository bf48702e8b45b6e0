import type { MessageButton } from "./message.ts";

/**
 * The buttons an alert or a verdict carries, and how a press names what it acts on. The id
 * says the action and the state it was offered for (the alert's rule, the phase and its
 * verdict), so a press on an old message can be told apart from one on the current state.
 */
export type ActionButton =
  | { action: "mute"; run: string; rule: string; duration: "1h" | "8h" }
  | { action: "logs" | "status"; run: string }
  /** Stop training, offered by an alert (its rule) whose config asks for it. */
  | { action: "stop"; run: string; rule: string }
  | {
      action: "rollback" | "retry" | "next";
      run: string;
      /** The phase the verdict was about. */
      phase: number;
      verdict: "passed" | "failed" | "inconclusive";
    };

const SEP = "|";

/** Encodes an action as a button id (at most 100 characters: Discord's custom_id limit). */
export function actionButtonId(button: ActionButton): string {
  switch (button.action) {
    case "mute":
      return ["act", "mute", button.run, button.rule, button.duration].join(SEP);
    case "logs":
    case "status":
      return ["act", button.action, button.run].join(SEP);
    case "stop":
      return ["act", "stop", button.run, button.rule].join(SEP);
    case "rollback":
    case "retry":
    case "next":
      return ["act", button.action, button.run, String(button.phase), button.verdict].join(SEP);
  }
}

/** Decodes a button id made by {@link actionButtonId}; null for any other id. */
export function parseActionButton(id: string): ActionButton | null {
  const [head, action, run, a, b, ...rest] = id.split(SEP);
  if (head !== "act" || !run || rest.length) return null;
  if (action === "mute" && a && (b === "1h" || b === "8h"))
    return { action, run, rule: a, duration: b };
  if ((action === "logs" || action === "status") && a === undefined) return { action, run };
  if (action === "stop" && a && b === undefined) return { action, run, rule: a };
  if (
    (action === "rollback" || action === "retry" || action === "next") &&
    a !== undefined &&
    /^\d+$/.test(a) &&
    (b === "passed" || b === "failed" || b === "inconclusive")
  )
    return { action, run, phase: Number(a), verdict: b };
  return null;
}

const keep = (id: string) => id.length <= 100;

/** Mute 1 h / 8 h, Logs, Status: what a firing alert offers; Stop training first when asked. */
export function alertButtons(
  run: string,
  rule: string,
  options: { stop?: boolean } = {},
): MessageButton[] {
  return [
    ...(options.stop
      ? [
          {
            id: actionButtonId({ action: "stop", run, rule }),
            label: "Stop training",
            style: "danger" as const,
          },
        ]
      : []),
    {
      id: actionButtonId({ action: "mute", run, rule, duration: "1h" }),
      label: "Mute 1 h",
      style: "secondary" as const,
    },
    {
      id: actionButtonId({ action: "mute", run, rule, duration: "8h" }),
      label: "Mute 8 h",
      style: "secondary" as const,
    },
    { id: actionButtonId({ action: "logs", run }), label: "Logs", style: "secondary" as const },
    { id: actionButtonId({ action: "status", run }), label: "Status", style: "secondary" as const },
  ].filter((b) => keep(b.id));
}

/**
 * A verdict's buttons: Next phase after a pass; Roll back and Retry after a failure or an
 * inconclusive phase; then Logs and Status.
 */
export function verdictButtons(
  run: string,
  phase: number,
  verdict: "passed" | "failed" | "inconclusive",
  options: { hasNext: boolean; rolledBack: boolean },
): MessageButton[] {
  const out: MessageButton[] = [];
  if (verdict === "passed" && options.hasNext)
    out.push({
      id: actionButtonId({ action: "next", run, phase, verdict }),
      label: "Next phase",
      style: "primary",
    });
  if (verdict !== "passed") {
    if (!options.rolledBack)
      out.push({
        id: actionButtonId({ action: "rollback", run, phase, verdict }),
        label: "Roll back",
        style: "danger",
      });
    out.push({
      id: actionButtonId({ action: "retry", run, phase, verdict }),
      label: "Retry",
      style: "primary",
    });
  }
  out.push(
    { id: actionButtonId({ action: "logs", run }), label: "Logs", style: "secondary" },
    { id: actionButtonId({ action: "status", run }), label: "Status", style: "secondary" },
  );
  return out.filter((b) => keep(b.id));
}
