import { formatDuration } from "../core/duration.ts";
import { alertButtons } from "../message/action-buttons.ts";
import { formatClock } from "../message/format.ts";
import type { AlertNotice, Message, MessageMentions, Severity } from "../message/message.ts";
import { groupButtons } from "./group-buttons.ts";
import type { Finding } from "./rules/rule.ts";

const SEVERITY_RANK: Record<Severity, number> = { success: 0, info: 1, warning: 2, critical: 3 };

/** Facts about an alert that every message about it shows. */
export interface AlertFacts {
  run: string;
  rule: string;
  /** The rule for people: "CUDA OOM", "stall". */
  label?: string;
  phase: string | null;
  severity: Severity;
  /** When the condition began. */
  since: number;
  mentions: MessageMentions;
  /** Zone of clock times (the config's `timezone`); UTC when absent. */
  timeZone?: string;
  /** Incident key: stable for the life of the alert. */
  dedupeKey: string;
  /** Host the run trains on. */
  node: string;
  /** GPU index, when the finding is about one GPU. */
  gpu?: string;
  /** The rule's repeat interval (ms); 0 = never repeats. */
  repeatIntervalMs: number;
}

function notice(
  facts: AlertFacts,
  status: AlertNotice["status"],
  summary: string,
  at: number,
): AlertNotice {
  return {
    status,
    rule: facts.rule,
    run: facts.run,
    phase: facts.phase,
    severity: facts.severity,
    summary,
    dedupeKey: facts.dedupeKey,
    startedAt: facts.since,
    at,
    ...(status === "resolved" ? { endedAt: at } : {}),
    node: facts.node,
    ...(facts.gpu !== undefined ? { gpu: facts.gpu } : {}),
    repeatIntervalMs: facts.repeatIntervalMs,
  };
}

function footer(facts: AlertFacts, extra?: string): string {
  const parts = [facts.run, `${facts.label ?? facts.rule.replace(/_/g, " ")} alert`];
  if (facts.phase) parts.push(`phase ${facts.phase}`);
  parts.push(`since ${formatClock(facts.since, facts.timeZone)}`);
  if (extra) parts.push(extra);
  return parts.join(" · ");
}

function hasMentions(m: MessageMentions): boolean {
  return m.users.length + m.roles.length > 0;
}

/** First notification of a firing alert (made at `at`). */
export function firingMessage(facts: AlertFacts, finding: Finding, at = facts.since): Message {
  return {
    title: `${facts.run}: ${finding.headline}`,
    severity: facts.severity,
    lines: finding.lines,
    ...(finding.fields ? { fields: finding.fields } : {}),
    ...(finding.quote ? { code: finding.quote } : {}),
    ...(hasMentions(facts.mentions) ? { mentions: facts.mentions } : {}),
    buttons: alertButtons(facts.run, facts.rule, { stop: finding.offerStop === true }),
    footer: footer(facts),
    run: facts.run,
    alerts: [notice(facts, "firing", finding.headline, at)],
  };
}

/** A repeat of a still-firing alert: "exp001: still stalled at step 549 for 45 min". */
export function repeatMessage(facts: AlertFacts, finding: Finding, now: number): Message {
  const base = firingMessage(facts, finding, now);
  return {
    ...base,
    title: `${facts.run}: still ${finding.headline}`,
    footer: footer(facts, `open for ${formatDuration(now - facts.since)}`),
  };
}

/** The alert cleared: how long it lasted and what is true now. */
export function resolvedMessage(
  facts: AlertFacts,
  label: string,
  lines: string[],
  now: number,
): Message {
  return {
    title: `${facts.run}: ${label} resolved after ${formatDuration(now - facts.since)}`,
    severity: "success",
    lines,
    footer: footer(facts, `resolved ${formatClock(now, facts.timeZone)}`),
    run: facts.run,
    alerts: [
      notice(
        facts,
        "resolved",
        `${label} resolved after ${formatDuration(now - facts.since)}`,
        now,
      ),
    ],
  };
}

/** A silence ran out or was lifted: alerts it held back may now be sent. */
export function silenceEndedMessage(
  target: string,
  reason: string,
  how: "expired" | "lifted",
  now: number,
): Message {
  return {
    title: `Silence on ${target} ${how}`,
    severity: "info",
    lines: [
      `It was set because: ${reason}.`,
      "Alerts for it are sent again; anything still firing follows.",
    ],
    footer: `${how} ${formatClock(now)}`,
  };
}

/**
 * Several notifications about one run (or none) as one message: the most severe first, each as
 * its title and first line, decisive log lines together in the code block, every mention kept.
 */
export function groupMessage(messages: Message[], run: string | null): Message {
  if (messages.length === 1) {
    const only = messages[0] as Message;
    return run !== null ? { ...only, run } : only;
  }
  const sorted = [...messages].sort(
    (a, b) => SEVERITY_RANK[b.severity] - SEVERITY_RANK[a.severity],
  );
  const top = sorted[0] as Message;
  const prefix = run ? `${run}: ` : "";
  const bare = (title: string) =>
    prefix && title.startsWith(prefix) ? title.slice(prefix.length) : title;
  const users = new Set<string>();
  const roles = new Set<string>();
  for (const m of messages) {
    for (const u of m.mentions?.users ?? []) users.add(u);
    for (const r of m.mentions?.roles ?? []) roles.add(r);
  }
  const lines = sorted.map((m) => {
    const first = m.lines?.[0];
    return `• ${m.title}${first ? ` — ${first}` : ""}`;
  });
  const nexts = sorted
    .flatMap((m) => m.lines ?? [])
    .filter((l) => l.startsWith("Next:") || l.startsWith("Usual fix:"));
  const codes = sorted.filter((m) => m.code).map((m) => m.code as string);
  const charts = sorted.flatMap((m) => m.charts ?? []);
  const buttons = groupButtons(messages, sorted);
  const alerts = sorted.flatMap((m) => m.alerts ?? []);
  return {
    title: `${prefix}${messages.length} alerts (${bare(top.title)} and more)`,
    severity: top.severity,
    lines: [...lines, ...new Set(nexts)],
    ...(codes.length ? { code: codes.join("\n\n") } : {}),
    ...(charts.length ? { charts } : {}),
    ...(buttons.length ? { buttons } : {}),
    ...(users.size + roles.size ? { mentions: { users: [...users], roles: [...roles] } } : {}),
    ...(run !== null ? { run } : {}),
    ...(alerts.length ? { alerts } : {}),
    // One run's group names the run once (its members' footers say it as `exp001` or `run exp001`).
    footer:
      run ?? [...new Set(sorted.map((m) => m.footer?.split(" · ")[0]).filter(Boolean))].join(", "),
  };
}
