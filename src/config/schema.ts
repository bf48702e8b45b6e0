import cron from "node-cron";
import * as z from "zod";
import { alertsSchema } from "./alerts-schema.js";
import { discordSchema, slackSchema } from "./chat-schema.js";
import { runSchema } from "./run-schema.js";
import { duration } from "./schema-primitives.js";

/**
 * The one schema for `trainops.yaml`. Every key the product reads is declared here or in the
 * schema files it composes (runs, alerts, chat), with its default, so
 * `configs/trainops.schema.json` (generated from it) is the whole reference.
 */

export type { DiscordConfig, SlackConfig } from "./chat-schema.js";
export type { RunConfig, SlurmRunConfig, SshTarget } from "./run-schema.js";
export { runSchema } from "./run-schema.js";

export const configSchema = z
  .object({
    store: z
      .string()
      .default("./data/trainops.db")
      .describe("SQLite file for samples, alerts and the audit trail"),
    poll: z
      .string()
      .refine(
        (v) => /^\d+(\.\d+)?(ms|s|m|h|d)$/.test(v.trim()) || cron.validate(v),
        'expected a duration such as 30s or a node-cron expression such as "*/30 * * * * *"',
      )
      .default("*/30 * * * * *")
      .describe(
        'How often each run is polled: a duration (30s, 1m: every so long from start) or a node-cron expression with seconds ("*/30 * * * * *"); default every 30 s',
      ),
    retention: duration.default("90d").describe("How long samples are kept"),
    rawSamples: duration
      .default("7d")
      .describe(
        "How long samples are kept as is (see `sampleEvery`); older samples are rolled up per minute and per hour for charts, until `retention`",
      ),
    sampleEvery: duration
      .default("30s")
      .describe(
        "At most one sample per run per this long is stored for history and charts (a poll's failure and a change of reachable or alive are stored each); status and alerts always read the newest poll's. 0s stores every poll's",
      ),
    runs: z
      .array(runSchema)
      .min(1, "add at least one run under runs:")
      .describe("The training runs to monitor, one per job"),
    alerts: alertsSchema
      .default({ webhooks: [], console: true, groupWindow: "5s", rules: {} })
      .describe("Where alerts go and how each rule behaves"),
    discord: discordSchema.optional().describe("Discord bot: /train commands and alerts"),
    slack: slackSchema.optional().describe("Slack bot: /train commands and alerts"),
    http: z
      .object({
        port: z
          .number()
          .int()
          .min(0)
          .max(65535)
          .default(9464)
          .describe("Port of /healthz and /metrics (0: any free port)"),
        host: z
          .string()
          .default("127.0.0.1")
          .describe("Address to listen on; 0.0.0.0 to let Prometheus on another host scrape"),
      })
      .strict()
      .default({ port: 9464, host: "127.0.0.1" })
      .describe("The /healthz and /metrics endpoint"),
    confirmTimeout: duration
      .default("10m")
      .describe("How long a Confirm button of a mutating command stays valid"),
    timezone: z
      .string()
      .refine((zone) => {
        try {
          new Intl.DateTimeFormat("en-US", { timeZone: zone });
          return true;
        } catch {
          return false;
        }
      }, "expected an IANA time zone such as UTC, Europe/Berlin or America/New_York")
      .default("UTC")
      .describe("Time zone of the clock times in messages (an IANA name), default UTC"),
    logLevel: z
      .enum(["trace", "debug", "info", "warn", "error", "fatal"])
      .default("info")
      .describe("Log level of the daemon (logs go to stderr)"),
    shutdownTimeout: duration
      .default("10s")
      .describe("After SIGTERM/SIGINT the daemon exits within this long, whatever still hangs"),
  })
  .strict();

/** The validated configuration, with every default filled in. */
export type Config = z.infer<typeof configSchema>;
