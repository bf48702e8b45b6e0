import type { Message, Severity } from "../../message/message.ts";
import type { AlertSink, DeliveryResult } from "./alert-sink.ts";

/** Which messages one sink takes; an absent list takes everything. */
export interface SinkFilter {
  /** Alert severities to pass (a resolution counts with the severity of what it resolves). */
  severities?: readonly Severity[];
  /** Runs to pass; a message about no particular run always passes. */
  runs?: readonly string[];
}

/**
 * The part of `message` that passes `filter`, or null when nothing does. A message that
 * notifies of alerts keeps only the alerts that pass; any other message (a phase verdict, a
 * silence ending) passes on its own severity and run.
 */
export function filterMessage(message: Message, filter: SinkFilter): Message | null {
  // A digest or quiet-hours summary was made for this channel, from what it lets through.
  if (message.scheduled) return message;
  const severityOk = (s: Severity) => !filter.severities || filter.severities.includes(s);
  const runOk = (run: string | undefined) =>
    !filter.runs || run === undefined || filter.runs.includes(run);
  if (message.alerts?.length) {
    const kept = message.alerts.filter((a) => severityOk(a.severity) && runOk(a.run));
    if (kept.length === 0) return null;
    return kept.length === message.alerts.length ? message : { ...message, alerts: kept };
  }
  return severityOk(message.severity) && runOk(message.run) ? message : null;
}

/**
 * A sink that passes on only what its filter lets through. What it holds back counts as
 * delivered: the outbox owes this sink nothing for it.
 */
export class FilteredSink implements AlertSink {
  readonly name: string;
  constructor(
    private readonly inner: AlertSink,
    private readonly filter: SinkFilter,
  ) {
    this.name = inner.name;
  }

  /** The part of `message` this sink delivers, or null (see {@link filterMessage}). */
  pass(message: Message): Message | null {
    return filterMessage(message, this.filter);
  }

  deliver(message: Message, idempotencyKey: string): Promise<DeliveryResult> {
    const passed = filterMessage(message, this.filter);
    if (!passed) return Promise.resolve({ ok: true });
    return this.inner.deliver(passed, idempotencyKey);
  }
}
