import type { AlertNotice, Message, Severity } from "../../message/message.ts";
import type { AlertSink, DeliveryResult } from "./alert-sink.ts";
import { clip } from "./http-delivery.ts";
import { type HttpSinkSeams, inOrder, joinUrl, postJsonWith } from "./json-post.ts";

/** PagerDuty's event severities. */
const SEVERITY: Record<Severity, "critical" | "error" | "warning" | "info"> = {
  critical: "critical",
  warning: "warning",
  info: "info",
  success: "info",
};

/** Settings of a PagerDuty Events API v2 integration. */
export interface PagerDutySettings {
  /** Events API base, `https://events.pagerduty.com` (or the EU one). */
  url: string;
  /** The integration's routing key (a secret). */
  routingKey: string;
}

/** The trainops incident key of an alert, as PagerDuty's `dedup_key` (≤ 255 characters). */
export function incidentKey(alert: AlertNotice): string {
  return clip(`trainops/${alert.dedupeKey}`, 255);
}

/** The Events API v2 body for one alert notice: a trigger, or a resolve with the same key. */
export function pagerDutyEvent(alert: AlertNotice, routingKey: string): Record<string, unknown> {
  const dedup_key = incidentKey(alert);
  if (alert.status === "resolved") {
    return { routing_key: routingKey, event_action: "resolve", dedup_key };
  }
  return {
    routing_key: routingKey,
    event_action: "trigger",
    dedup_key,
    payload: {
      summary: clip(`${alert.run}: ${alert.summary}`, 1024),
      source: alert.node,
      severity: SEVERITY[alert.severity],
      timestamp: new Date(alert.startedAt).toISOString(),
      component: alert.run,
      group: alert.phase ?? undefined,
      class: alert.rule,
      custom_details: {
        run: alert.run,
        rule: alert.rule,
        phase: alert.phase,
        ...(alert.gpu !== undefined ? { gpu: alert.gpu } : {}),
      },
    },
  };
}

/**
 * Opens and resolves PagerDuty incidents through the Events API v2: each alert notice is one
 * event keyed by the alert, so repeats and retries land on the same incident. Messages that
 * are not about alerts (phase verdicts) are not incidents and are not sent.
 */
export class PagerDutySink implements AlertSink {
  constructor(
    readonly name: string,
    private readonly settings: PagerDutySettings,
    private readonly seams: HttpSinkSeams = {},
  ) {}

  deliver(message: Message, idempotencyKey: string): Promise<DeliveryResult> {
    const url = joinUrl(this.settings.url, "v2/enqueue");
    return inOrder(
      (message.alerts ?? []).map(
        (alert) => () =>
          postJsonWith(
            this.seams,
            url,
            {},
            pagerDutyEvent(alert, this.settings.routingKey),
            idempotencyKey,
          ),
      ),
    );
  }
}
