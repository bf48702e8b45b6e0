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
}
