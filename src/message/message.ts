/**
 * The neutral message model. Commands, alerts and phase verdicts produce these; each front end
 * (console, Discord, Slack, webhooks) renders them within its own limits.
 */

/** Drives colour and emoji. */
export type Severity = "info" | "success" | "warning" | "critical";

export interface MessageField {
  name: string;
  value: string;
  /** Side by side with its neighbours where the platform can. */
  inline?: boolean;
}

/** A progress bar: `value` of `max`, with a label such as "Epoch 1". */
export interface ProgressBar {
  label: string;
  value: number;
  max: number;
  /** Shown after the bar, e.g. "549/4000 (13.7%)". */
  caption?: string;
}

export interface MessageTable {
  columns: string[];
  rows: string[][];
}

/** A PNG image (charts). */
export interface MessageImage {
  /** File name, e.g. `exp001-status.png`. */
  name: string;
  png: Buffer;
  /** Text for people who cannot see the image. */
  alt: string;
}

/**
 * A chart to draw when the message is delivered (phase verdicts): a fixed window of one run, so
 * every sink and every retry gets the same picture and the outbox keeps numbers, not a PNG.
 */
export interface ChartRequest {
  run: string;
  /** Milliseconds since the epoch, `from <= at < to`. */
  from: number;
  to: number;
  /** File name of the image, e.g. `exp001-phase1-passed.png`. */
  name: string;
  /** Heading drawn on the chart, e.g. "exp001: Phase 1 passed". */
  title?: string;
  /** Start of the judged span: it gets most of the width, the context before it compressed. */
  focusFrom?: number;
}

export interface MessageButton {
  /** Opaque id the front end sends back on a press, e.g. `confirm:abc123`. */
  id: string;
  label: string;
  style: "primary" | "danger" | "secondary";
}

/** Platform ids to ping; a front end allows exactly these mentions and no others. */
export interface MessageMentions {
  users: string[];
  roles: string[];
}

/**
 * The machine-readable side of an alert notification, for sinks that track incidents
 * (PagerDuty, Opsgenie, Alertmanager, the JSON webhook) rather than show text.
 */
export interface AlertNotice {
  /** `firing` for the first notification and its repeats; `resolved` when it cleared. */
  status: "firing" | "resolved";
  /** Rule name, e.g. `cuda_oom`. */
  rule: string;
  run: string;
  phase: string | null;
  /** The alert's own severity (a resolution keeps the severity of what it resolves). */
  severity: Severity;
  /** One line: "stalled at step 549 for 32 min" or "stall resolved after 40 min". */
  summary: string;
  /** Stable for the life of one alert: the incident key for trigger and resolve. */
  dedupeKey: string;
  /** When the condition began (ms since the epoch). */
  startedAt: number;
  /** When this notification was made. */
  at: number;
  /** When it cleared; only on `resolved`. */
  endedAt?: number;
  /** Host the run trains on (SSH host, or this machine's name for a local run). */
  node: string;
  /** GPU index the alert is about, when it is about one GPU. */
  gpu?: string;
  /** How often a still-firing alert is repeated (ms); 0 = never. */
  repeatIntervalMs: number;
}

export interface Message {
  title: string;
  severity: Severity;
  /** Short paragraphs, already phrased for people. */
  lines?: string[];
  fields?: MessageField[];
  progress?: ProgressBar[];
  table?: MessageTable;
  /** Preformatted text (log tails), shown as a code block. */
  code?: string;
  images?: MessageImage[];
  /** Charts still to draw; the sender turns them into `images` before a sink sees them. */
  charts?: ChartRequest[];
  buttons?: MessageButton[];
  mentions?: MessageMentions;
  /** Small print: run, time, ids. */
  footer?: string;
  /** Only the person who asked sees it (refusals, errors). */
  ephemeral?: boolean;
  /** The run the message is about, when it is about one. */
  run?: string;
  /** The alerts this message notifies of, for incident-tracking sinks. */
  alerts?: AlertNotice[];
  /**
   * A report a channel asked for on a schedule (a digest, the summary at the end of quiet
   * hours): it goes to that channel whole, past its severity filter and its quiet hours.
   */
  scheduled?: boolean;
}
