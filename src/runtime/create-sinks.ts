import type { AlertSink } from "../alerts/sinks/alert-sink.ts";
import { ConsoleSink, type TextStream } from "../alerts/sinks/console-sink.ts";
import type { FetchLike } from "../alerts/sinks/http-delivery.ts";
import type { Config } from "../config/schema.ts";
import { DiscordWebhookSink } from "../platforms/discord/discord-webhook-sink.ts";
import { SlackWebhookSink } from "../platforms/slack/slack-webhook-sink.ts";

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
