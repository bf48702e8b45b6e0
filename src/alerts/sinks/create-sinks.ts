import type { Config } from "../../config/schema.ts";
import type { AlertSink } from "./alert-sink.ts";
import { ConsoleSink, type TextStream } from "./console-sink.ts";
import { DiscordWebhookSink } from "./discord-webhook-sink.ts";
import type { FetchLike } from "./http-delivery.ts";
import { SlackWebhookSink } from "./slack-webhook-sink.ts";

/**
 * The sinks `alerts` config asks for: the console (when `alerts.console`) and one per entry of
 * `alerts.webhooks`, named `discord-webhook:N` / `slack-webhook:N` by position so delivery
 * records stay attached to the same URL across restarts.
 */
export function createConfiguredSinks(
  config: Pick<Config, "alerts">,
  seams: { stream?: TextStream; fetch?: FetchLike } = {},
): AlertSink[] {
  const sinks: AlertSink[] = [];
  if (config.alerts.console) sinks.push(new ConsoleSink(seams.stream ?? process.stdout));
  config.alerts.webhooks.forEach((hook, i) => {
    sinks.push(
      hook.kind === "discord"
        ? new DiscordWebhookSink(`discord-webhook:${i}`, hook.url, seams.fetch)
        : new SlackWebhookSink(`slack-webhook:${i}`, hook.url, seams.fetch),
    );
  });
  return sinks;
}
