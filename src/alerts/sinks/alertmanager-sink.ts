import type { AlertNotice, Message } from "../../message/message.ts";
import type { AlertSink, DeliveryResult } from "./alert-sink.ts";
import { type HttpSinkSeams, joinUrl, postJsonWith } from "./json-post.ts";

/** How long a firing alert stays firing in Alertmanager when its rule never repeats. */
const NO_REPEAT_HOLD_MS = 24 * 60 * 60_000;

/** Settings of an Alertmanager to post to. */
export interface AlertmanagerSettings {
  /** Alertmanager's base URL, e.g. `http://alertmanager:9093`. */
  url: string;
  /** Bearer token, for an Alertmanager behind an authenticating proxy. */
  token?: string;
}

/** One alert in Alertmanager's `POST /api/v2/alerts` body. */
export interface PostableAlert {
  labels: Record<string, string>;
  annotations: Record<string, string>;
  startsAt: string;
  endsAt: string;
}

/**
 * The Alertmanager alert for one notice. Labels: `alertname` (the rule), `run`, `severity`,
 * `node`, `gpu` (when about one GPU) and `phase`. A firing alert ends two repeat intervals
 * from now, so it stays firing while trainops keeps repeating it and lapses on its own if
 * trainops goes away; a resolved one ends when it cleared.
 */
export function postableAlert(alert: AlertNotice, message: Message): PostableAlert {
  const labels: Record<string, string> = {
    alertname: alert.rule,
    run: alert.run,
    severity: alert.severity,
    node: alert.node,
  };
  if (alert.gpu !== undefined) labels.gpu = alert.gpu;
  if (alert.phase) labels.phase = alert.phase;
  const hold = alert.repeatIntervalMs > 0 ? 2 * alert.repeatIntervalMs : NO_REPEAT_HOLD_MS;
  const endsAt = alert.status === "resolved" ? (alert.endedAt ?? alert.at) : alert.at + hold;
  return {
    labels,
    annotations: {
      summary: `${alert.run}: ${alert.summary}`,
      description: (message.lines ?? []).join("\n"),
    },
    startsAt: new Date(alert.startedAt).toISOString(),
    endsAt: new Date(endsAt).toISOString(),
  };
}

/**
 * Posts alerts to Alertmanager's API v2 (`<url>/api/v2/alerts`), all notices of a message in
 * one request, so a team routes trainops' alerts with the receivers and silences it already
 * has. Posting the same alert again updates it: retries are harmless.
 */
export class AlertmanagerSink implements AlertSink {
  constructor(
    readonly name: string,
    private readonly settings: AlertmanagerSettings,
    private readonly seams: HttpSinkSeams = {},
  ) {}

  deliver(message: Message, idempotencyKey: string): Promise<DeliveryResult> {
    const alerts = (message.alerts ?? []).map((a) => postableAlert(a, message));
    if (alerts.length === 0) return Promise.resolve({ ok: true });
    const headers: Record<string, string> = this.settings.token
      ? { authorization: `Bearer ${this.settings.token}` }
      : {};
    return postJsonWith(
      this.seams,
      joinUrl(this.settings.url, "api/v2/alerts"),
      headers,
      alerts,
      idempotencyKey,
    );
  }
}
