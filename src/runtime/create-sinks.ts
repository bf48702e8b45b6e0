import type { AlertSink } from "../alerts/sinks/alert-sink.ts";
import { AlertmanagerSink } from "../alerts/sinks/alertmanager-sink.ts";
import { ConsoleSink, type TextStream } from "../alerts/sinks/console-sink.ts";
import type { FetchLike } from "../alerts/sinks/http-delivery.ts";
import { JsonWebhookSink } from "../alerts/sinks/json-webhook-sink.ts";
import { NtfySink } from "../alerts/sinks/ntfy-sink.ts";
import { OpsgenieSink } from "../alerts/sinks/opsgenie-sink.ts";
import { PagerDutySink } from "../alerts/sinks/pagerduty-sink.ts";
import { FilteredSink, type SinkFilter } from "../alerts/sinks/sink-filter.ts";
import { TelegramSink } from "../alerts/sinks/telegram-sink.ts";
import type { Config } from "../config/schema.ts";
import { parseDuration } from "../core/duration.ts";
import { DiscordWebhookSink } from "../platforms/discord/discord-webhook-sink.ts";
import { EmailSink } from "../platforms/email/email-sink.ts";
import { SlackWebhookSink } from "../platforms/slack/slack-webhook-sink.ts";

type WebhookConfig = Config["alerts"]["webhooks"][number];

/**
 * The sinks `alerts` config asks for: the console (when `alerts.console`), one per entry of
 * `alerts.webhooks`, named `<kind>-webhook:N` by position so delivery records stay attached
 * to the same entry across restarts, and `email` for `alerts.email`. A channel with
 * `severities` or `runs` gets only those alerts.
 */
export function createConfiguredSinks(
  config: Pick<Config, "alerts">,
  seams: { stream?: TextStream; fetch?: FetchLike } = {},
): AlertSink[] {
  const sinks: AlertSink[] = [];
  if (config.alerts.console) sinks.push(new ConsoleSink(seams.stream ?? process.stdout));
  config.alerts.webhooks.forEach((hook, i) => {
    sinks.push(filtered(webhookSink(hook, `${hook.kind}-webhook:${i}`, seams.fetch), hook));
  });
  const email = config.alerts.email;
  if (email) {
    const sink = new EmailSink({
      host: email.host,
      port: email.port,
      secure: email.secure ?? email.port === 465,
      requireTls: email.requireTls,
      ...(email.user ? { user: email.user } : {}),
      ...(email.password ? { password: email.password } : {}),
      from: email.from,
      to: email.to,
      timeoutMs: parseDuration(email.timeout),
    });
    sinks.push(filtered(sink, email));
  }
  return sinks;
}

function filtered(sink: AlertSink, filter: SinkFilter): AlertSink {
  return filter.severities || filter.runs ? new FilteredSink(sink, filter) : sink;
}

function webhookSink(hook: WebhookConfig, name: string, fetch: FetchLike | undefined): AlertSink {
  const seams = fetch ? { fetch } : {};
  switch (hook.kind) {
    case "discord":
      return new DiscordWebhookSink(name, hook.url, fetch);
    case "slack":
      return new SlackWebhookSink(name, hook.url, fetch);
    case "json":
      return new JsonWebhookSink(
        name,
        { url: hook.url, ...(hook.secret ? { secret: hook.secret } : {}) },
        seams,
      );
    case "ntfy":
      return new NtfySink(
        name,
        { url: hook.url, ...(hook.token ? { token: hook.token } : {}) },
        seams,
      );
    case "telegram":
      return new TelegramSink(
        name,
        { url: hook.url, token: hook.token, chatId: hook.chatId },
        seams,
      );
    case "pagerduty":
      return new PagerDutySink(name, { url: hook.url, routingKey: hook.routingKey }, seams);
    case "opsgenie":
      return new OpsgenieSink(name, { url: hook.url, apiKey: hook.apiKey }, seams);
    case "alertmanager":
      return new AlertmanagerSink(
        name,
        { url: hook.url, ...(hook.token ? { token: hook.token } : {}) },
        seams,
      );
    default: {
      const never: never = hook;
      throw new Error(`unknown webhook kind ${(never as { kind: string }).kind}`);
    }
  }
}
