import type { AlertNotice, Message, Severity } from "../../message/message.ts";
import type { AlertSink, DeliveryResult } from "./alert-sink.ts";
import { clip } from "./http-delivery.ts";
import { type HttpSinkSeams, inOrder, joinUrl, postJsonWith } from "./json-post.ts";

const PRIORITY: Record<Severity, "P1" | "P2" | "P3" | "P4" | "P5"> = {
  critical: "P1",
  warning: "P3",
  info: "P5",
  success: "P5",
};

/** Settings of an Opsgenie API integration. */
export interface OpsgenieSettings {
  /** Alert API base, `https://api.opsgenie.com` (or `https://api.eu.opsgenie.com`). */
  url: string;
  /** The integration's API key (a secret), sent as `Authorization: GenieKey …`. */
  apiKey: string;
}

/** The Opsgenie alias of an alert (≤ 512 characters): create and close meet on it. */
export function opsgenieAlias(alert: AlertNotice): string {
  return clip(`trainops/${alert.dedupeKey}`, 512);
}

/**
 * Creates Opsgenie alerts and closes them by alias. Opsgenie deduplicates open alerts with the
 * same alias, so a repeat or a retried create adds to the count instead of a second alert.
 */
export class OpsgenieSink implements AlertSink {
  constructor(
    readonly name: string,
    private readonly settings: OpsgenieSettings,
    private readonly seams: HttpSinkSeams = {},
  ) {}

  deliver(message: Message, idempotencyKey: string): Promise<DeliveryResult> {
    const headers = { authorization: `GenieKey ${this.settings.apiKey}` };
    return inOrder(
      (message.alerts ?? []).map((alert) => () => {
        const alias = opsgenieAlias(alert);
        if (alert.status === "resolved") {
          const url = joinUrl(
            this.settings.url,
            `v2/alerts/${encodeURIComponent(alias)}/close?identifierType=alias`,
          );
          return postJsonWith(
            this.seams,
            url,
            headers,
            { source: "trainops", note: alert.summary },
            idempotencyKey,
          );
        }
        const body = {
          message: clip(`${alert.run}: ${alert.summary}`, 130),
          alias,
          description: clip([message.title, ...(message.lines ?? [])].join("\n"), 15_000),
          priority: PRIORITY[alert.severity],
          source: "trainops",
          entity: alert.run,
          tags: ["trainops", alert.rule, alert.severity],
          details: {
            run: alert.run,
            rule: alert.rule,
            node: alert.node,
            ...(alert.phase ? { phase: alert.phase } : {}),
            ...(alert.gpu !== undefined ? { gpu: alert.gpu } : {}),
          },
        };
        return postJsonWith(
          this.seams,
          joinUrl(this.settings.url, "v2/alerts"),
          headers,
          body,
          idempotencyKey,
        );
      }),
    );
  }
}
