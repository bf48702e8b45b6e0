import type { Message, Severity } from "../../message/message.ts";
import type { AlertSink, DeliveryResult } from "./alert-sink.ts";
import { clip } from "./http-delivery.ts";
import { type HttpSinkSeams, postJsonWith } from "./json-post.ts";
import { plainBody } from "./plain-body.ts";

/** ntfy priorities (1 min … 5 max): critical alerts ring through Do Not Disturb. */
const PRIORITY: Record<Severity, number> = { critical: 5, warning: 4, info: 3, success: 2 };
/** ntfy tags that render as emoji before the title. */
const TAG: Record<Severity, string> = {
  critical: "rotating_light",
  warning: "warning",
  info: "information_source",
  success: "white_check_mark",
};

/** Settings of an ntfy topic. */
export interface NtfySettings {
  /** The topic URL, e.g. `https://ntfy.sh/my-training-alerts`. */
  url: string;
  /** Access token (`tk_…`) for a protected topic. */
  token?: string;
}

/**
 * Publishes to an ntfy topic with ntfy's JSON publishing (a POST to the server's root naming
 * the topic), so titles and bodies may hold any Unicode; priority follows the severity.
 */
export class NtfySink implements AlertSink {
  private readonly server: string;
  private readonly topic: string;

  constructor(
    readonly name: string,
    private readonly settings: NtfySettings,
    private readonly seams: HttpSinkSeams = {},
  ) {
    const url = new URL(settings.url);
    const segments = url.pathname.split("/").filter(Boolean);
    const topic = segments.pop();
    if (!topic) throw new Error("ntfy url must end with the topic, e.g. https://ntfy.sh/my-topic");
    this.topic = topic;
    url.pathname = `/${segments.join("/")}`;
    url.search = "";
    this.server = url.toString();
  }

  deliver(message: Message, idempotencyKey: string): Promise<DeliveryResult> {
    const headers: Record<string, string> = this.settings.token
      ? { authorization: `Bearer ${this.settings.token}` }
      : {};
    const body = {
      topic: this.topic,
      title: clip(message.title, 250),
      message: plainBody(message) || message.title,
      priority: PRIORITY[message.severity],
      tags: [TAG[message.severity], ...(message.run ? [message.run] : [])],
    };
    return postJsonWith(this.seams, this.server, headers, body, idempotencyKey);
  }
}
