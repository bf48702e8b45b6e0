import { formatClock } from "../message/format.ts";
import type { AlertNotice, Message, Severity } from "../message/message.ts";
import type { HeldNotice } from "../store/quiet-held-repo.ts";

const RANK: Record<Severity, number> = { success: 0, info: 1, warning: 2, critical: 3 };

/** Most lines the summary lists before "and N more". */
const MAX_LINES = 15;

/**
 * What quiet hours held back, as one message at the window's end: one line per alert (its first
 * notification, marked when it resolved in the meantime) and per other notice (verdicts,
 * silences ending). Alerts still firing keep their mentions; resolved ones ping nobody.
 */
export function quietSummaryMessage(
  held: readonly HeldNotice[],
  options: { timeZone?: string | undefined } = {},
): Message {
  const { timeZone } = options;
  const clock = (ms: number) => formatClock(ms, timeZone);
  type Entry = { at: number; text: string; severity: Severity; key: string | null };
  const entries: Entry[] = [];
  const byKey = new Map<string, Entry & { resolvedAt: number | null; firing: boolean }>();
  const notices: AlertNotice[] = [];
  const users = new Set<string>();
  const roles = new Set<string>();
  for (const item of held) {
    const message = item.message;
    const alerts = message.alerts ?? [];
    notices.push(...alerts);
    if (alerts.length === 0) {
      entries.push({
        at: item.heldAt,
        text: `${message.title} (${clock(item.heldAt)})`,
        severity: message.severity,
        key: null,
      });
      continue;
    }
    for (const alert of alerts) {
      const known = byKey.get(alert.dedupeKey);
      if (alert.status === "resolved") {
        if (known) {
          known.resolvedAt = alert.at;
          known.firing = false;
        } else {
          entries.push({
            at: alert.at,
            text: `${alert.run}: ${alert.summary} (${clock(alert.at)})`,
            severity: "success",
            key: null,
          });
        }
        continue;
      }
      if (known) continue; // a repeat of an alert already listed
      const entry = {
        at: alert.at,
        text: `${alert.run}: ${alert.summary} (since ${clock(alert.startedAt)})`,
        severity: alert.severity,
        key: alert.dedupeKey,
        resolvedAt: null,
        firing: true,
      };
      byKey.set(alert.dedupeKey, entry);
      entries.push(entry);
      for (const u of message.mentions?.users ?? []) users.add(u);
      for (const r of message.mentions?.roles ?? []) roles.add(r);
    }
  }
  const lines = entries
    .sort((a, b) => a.at - b.at)
    .map((entry) => {
      const state = entry.key ? byKey.get(entry.key) : undefined;
      const resolved =
        state && !state.firing && state.resolvedAt !== null
          ? ` — resolved meanwhile (${clock(state.resolvedAt)})`
          : "";
      return `• ${entry.text}${resolved}`;
    });
  const stillFiring = [...byKey.values()].filter((e) => e.firing);
  const worst = stillFiring.reduce<Severity>(
    (w, e) => (RANK[e.severity] > RANK[w] ? e.severity : w),
    "info",
  );
  const shown = lines.slice(0, MAX_LINES);
  if (lines.length > shown.length) shown.push(`… and ${lines.length - shown.length} more`);
  const from = held[0]?.heldAt;
  const resolvedCount = byKey.size - stillFiring.length;
  const counts = [
    `${entries.length} held`,
    ...(resolvedCount ? [`${resolvedCount} resolved meanwhile`] : []),
    ...(stillFiring.length ? [`${stillFiring.length} still firing`] : []),
  ].join(", ");
  return {
    title: `Quiet hours over: ${counts}`,
    severity: worst,
    lines: [
      ...shown,
      stillFiring.length
        ? "Next: `/train status <run>` for what is still firing."
        : "Nothing held is still firing.",
    ],
    ...(stillFiring.length && users.size + roles.size
      ? { mentions: { users: [...users], roles: [...roles] } }
      : {}),
    ...(notices.length ? { alerts: notices } : {}),
    footer: from !== undefined ? `held since ${clock(from)}` : "held during quiet hours",
    scheduled: true,
  };
}
