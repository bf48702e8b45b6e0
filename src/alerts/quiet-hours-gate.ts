import type { Message } from "../message/message.ts";
import type { QuietHeldRepo } from "../store/quiet-held-repo.ts";
import { groupMessage } from "./alert-message.ts";
import type { ChannelSettings } from "./channel-settings.ts";
import { type QuietSpan, quietSpanAt } from "./quiet-hours.ts";
import { quietSummaryMessage } from "./quiet-summary.ts";
import type { AlertSink } from "./sinks/alert-sink.ts";

/** A critical notification: it goes through quiet hours (and pings). */
function isCritical(message: Message): boolean {
  return message.alerts?.length
    ? message.alerts.some((a) => a.severity === "critical")
    : message.severity === "critical";
}

/**
 * Quiet hours of each channel, applied by the sender: inside a window only critical
 * notifications go; the rest of what the channel would have shown is held in the store with the
 * window's end as its not-before time, and released after it as one summary message. Holding
 * settles the delivery in the same transaction, so a restart neither loses nor repeats it.
 */
export class QuietHoursGate {
  /**
   * Each channel's quiet span by clock minute: windows begin and end on whole minutes, so the
   * answer holds for the minute, and the zone arithmetic runs once a minute, not per delivery.
   */
  private readonly spans = new Map<string, { minute: number; span: QuietSpan | null }>();

  constructor(
    private readonly held: QuietHeldRepo,
    private readonly channels: ReadonlyMap<string, ChannelSettings>,
  ) {}

  private spanAt(sink: string, now: number): QuietSpan | null {
    const channel = this.channels.get(sink);
    if (!channel || channel.quietHours.length === 0) return null;
    const minute = Math.floor(now / 60_000);
    const known = this.spans.get(sink);
    if (known?.minute === minute) return known.span;
    const span = quietSpanAt(channel.quietHours, channel.timeZone, now);
    this.spans.set(sink, { minute, span });
    return span;
  }

  /**
   * What to send now of batch `batchId`'s `message` to `sink`: the message itself, its critical
   * part, or null when all of it was held (the delivery is then settled).
   */
  apply(sink: AlertSink, batchId: number, message: Message, now: number): Message | null {
    if (message.scheduled) return message;
    const span = this.spanAt(sink.name, now);
    const alreadyHeld = this.held.isHeld(sink.name, batchId);
    if (!span && !alreadyHeld) return message;
    const pass = (m: Message) => (sink.pass ? sink.pass(m) : m);
    const parts = this.held.batchParts(batchId);
    const shown = (parts.length ? parts : [message])
      .map(pass)
      .filter((m): m is Message => m !== null);
    const urgent = shown.filter(isCritical);
    const rest = shown.filter((m) => !isCritical(m));
    const run = message.run ?? null;
    // All of it critical (or nothing for this channel): send as prepared, charts and all.
    if (rest.length === 0) return message;
    if (!alreadyHeld && span) {
      // The summary is text: pictures and chart requests do not wait with it.
      const { charts: _charts, images: _images, ...waiting } = groupMessage(rest, run);
      this.held.hold(sink.name, batchId, waiting, span.end, now, urgent.length === 0);
    } else if (urgent.length === 0) {
      this.held.hold(sink.name, batchId, groupMessage(rest, run), now, now, true);
    }
    if (urgent.length === 0) return null;
    const { charts: _charts, ...critical } = groupMessage(urgent, run);
    return critical;
  }

  /**
   * Seals, per sink outside its quiet hours, what waited for it into one summary batch owed to
   * that sink alone. Sinks not in `present` are left to the process that has them.
   */
  release(present: readonly AlertSink[], now: number): void {
    const names = new Set(present.map((s) => s.name));
    for (const sink of this.held.sinksWaiting()) {
      if (!names.has(sink)) continue;
      if (this.spanAt(sink, now)) continue;
      const due = this.held.waiting(sink).filter((h) => h.notBefore <= now);
      if (due.length === 0) continue;
      const summary = quietSummaryMessage(due, { timeZone: this.channels.get(sink)?.timeZone });
      this.held.release(sink, due, summary, now);
    }
  }
}
