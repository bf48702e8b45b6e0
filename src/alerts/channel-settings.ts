import type { DigestConfig, QuietWindow } from "../config/channel-schedule-schema.ts";
import type { Config } from "../config/schema.ts";

/** One alert channel's schedule settings, resolved against the global ones. */
export interface ChannelSettings {
  /** The channel's sink name, as deliveries record it (`discord-bot`, `slack-webhook:0`, `email`). */
  sink: string;
  /** For people: "Discord alert channel", "alerts.webhooks[1] (slack)". */
  label: string;
  /** Zone of the channel's quiet hours (its `timezone`, else the global one). */
  timeZone: string;
  quietHours: readonly QuietWindow[];
  digest: DigestConfig | null;
  /** Zone of the digest schedule: `digest.timezone`, the channel's, else the global one. */
  digestTimeZone: string;
  /** Runs the digest covers: `digest.runs`, else the channel's `runs` filter, else all. */
  digestRuns: readonly string[];
}

interface ChannelBlock {
  digest?: DigestConfig | undefined;
  quietHours?: QuietWindow[] | undefined;
  timezone?: string | undefined;
  runs?: string[] | undefined;
}

/**
 * The schedule settings of every configured alert channel, by sink name: the Discord and Slack
 * bots' alert channels, each `alerts.webhooks` entry (named by position, as its sink is) and
 * `alerts.email`. Channels without a digest or quiet hours are listed too (with empty settings).
 */
export function channelSettings(
  config: Pick<Config, "alerts" | "discord" | "slack" | "runs"> & { timezone?: string },
): Map<string, ChannelSettings> {
  const global = config.timezone ?? "UTC";
  const allRuns = config.runs.map((r) => r.name);
  const settings = new Map<string, ChannelSettings>();
  const add = (sink: string, label: string, block: ChannelBlock, runs?: string[]) => {
    const timeZone = block.timezone ?? global;
    settings.set(sink, {
      sink,
      label,
      timeZone,
      quietHours: block.quietHours ?? [],
      digest: block.digest ?? null,
      digestTimeZone: block.digest?.timezone ?? timeZone,
      digestRuns: block.digest?.runs ?? runs ?? allRuns,
    });
  };
  if (config.discord) add("discord-bot", "Discord alert channel", config.discord);
  if (config.slack) add("slack-bot", "Slack alert channel", config.slack);
  config.alerts.webhooks.forEach((hook, i) => {
    add(`${hook.kind}-webhook:${i}`, `alerts.webhooks[${i}] (${hook.kind})`, hook, hook.runs);
  });
  if (config.alerts.email)
    add("email", "alerts.email", config.alerts.email, config.alerts.email.runs);
  return settings;
}
