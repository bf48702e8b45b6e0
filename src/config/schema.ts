import cron from "node-cron";
import { z } from "zod";

/**
 * The one schema for `trainops.yaml`. Every key the product reads is declared here, with its
 * default, so `configs/trainops.schema.json` (generated from it) is the whole reference.
 */

const duration = z
  .string()
  .regex(/^\d+(\.\d+)?(ms|s|m|h|d)$/, "a duration like 30s, 10m, 2h or 1d");

const sshTarget = z
  .object({
    host: z.string().min(1).describe("Host name, IP address or ~/.ssh/config alias"),
    port: z.number().int().min(1).max(65535).optional(),
    user: z.string().min(1).optional(),
    privateKey: z.string().min(1).optional().describe("Path to the private key file"),
    passphrase: z
      .string()
      .optional()
      .describe(
        "Passphrase of the private key; keep it out of the file with environment substitution",
      ),
    knownHosts: z.string().min(1).optional().describe("Path to a known_hosts file"),
    hostKey: z
      .string()
      .regex(/^SHA256:[A-Za-z0-9+/]{43}=?$/, "a fingerprint like SHA256:abc… (ssh-keygen -lf)")
      .optional()
      .describe("Expected host key fingerprint, instead of knownHosts"),
    sshConfig: z.string().optional().describe("Path to an OpenSSH client config (host aliases)"),
    connectTimeout: duration.default("10s"),
    execTimeout: duration.default("30s"),
    keepaliveInterval: duration.default("15s"),
  })
  .strict();

const stepsSchema = z
  .object({
    format: z.string().default("auto").describe("auto, a preset name, or 'regex'"),
    regex: z
      .string()
      .optional()
      .describe("With format: regex. Named groups: step, total, epoch, loss, stepTime"),
    perEpoch: z.number().int().positive().optional(),
    epochs: z.number().int().positive().optional(),
  })
  .strict();

const limitsSchema = z
  .object({
    gpuMemoryGiB: z.number().positive().optional(),
    hostMemoryGiB: z.number().positive().optional(),
  })
  .strict();

const restartSchema = z
  .object({
    interruptTimeout: duration.default("60s"),
    terminateTimeout: duration.default("30s"),
    confirmTimeout: duration.default("10m").describe("How long to wait for new step lines"),
    tmuxSession: z.string().optional(),
    systemdUnit: z.string().optional(),
  })
  .strict();

export const runSchema = z
  .object({
    name: z
      .string()
      .regex(/^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$/, "letters, digits, '_', '.', '-' (max 63)"),
    ssh: z.union([z.literal("local"), sshTarget]),
    workdir: z.string().min(1),
    log: z.string().min(1).describe("Training log, relative to workdir"),
    trainConfig: z.string().min(1).optional().describe("Training YAML, relative to workdir"),
    process: z.string().min(1).default("train.py").describe("Matches the training command line"),
    workerProcess: z.string().min(1).default("pt_data_worker").describe("Data-loader worker comm"),
    steps: stepsSchema.default({ format: "auto" }),
    limits: limitsSchema.default({}),
    plan: z
      .string()
      .optional()
      .describe("Phase plan file, e.g. configs/plans/safe-optimization.yaml"),
    start: z.string().optional().describe("Shell command that starts training, run in workdir"),
    restart: restartSchema.default({
      interruptTimeout: "60s",
      terminateTimeout: "30s",
      confirmTimeout: "10m",
    }),
    follow: z.boolean().default(true).describe("Stream new log lines between polls"),
    backfillBytes: z
      .number()
      .int()
      .min(0)
      .default(256 * 1024),
    maxReadBytes: z
      .number()
      .int()
      .min(4096)
      .default(4 * 1024 * 1024),
    nvidiaSmi: z.string().default("nvidia-smi").describe("nvidia-smi command on the VM"),
    autoAdvance: z.boolean().default(false),
    autoRollback: z.boolean().default(true),
  })
  .strict();

const operatorsDiscord = z
  .object({
    users: z.array(z.string()).default([]),
    roles: z.array(z.string()).default([]),
  })
  .strict();

const discordSchema = z
  .object({
    token: z.string().optional(),
    applicationId: z
      .string()
      .regex(/^\d{5,25}$/, "a numeric Discord id (snowflake)")
      .optional(),
    guildId: z
      .string()
      .regex(/^\d{5,25}$/, "a numeric Discord id (snowflake)")
      .optional(),
    alertChannel: z
      .string()
      .regex(/^\d{5,25}$/, "a numeric Discord channel id")
      .optional(),
    allowedChannels: z.array(z.string()).optional(),
    operators: operatorsDiscord.default({ users: [], roles: [] }),
    apiUrl: z.string().url().default("https://discord.com/api"),
    mentions: z.record(z.string(), z.array(z.string())).optional(),
  })
  .strict();

const slackSchema = z
  .object({
    botToken: z.string().optional(),
    appToken: z.string().optional(),
    signingSecret: z.string().optional(),
    mode: z.enum(["socket", "http"]).default("socket"),
    port: z.number().int().min(1).max(65535).default(3000),
    alertChannel: z.string().optional(),
    allowedChannels: z.array(z.string()).optional(),
    operators: z
      .object({
        users: z.array(z.string()).default([]),
        userGroups: z.array(z.string()).default([]),
      })
      .strict()
      .default({ users: [], userGroups: [] }),
    apiUrl: z.string().url().default("https://slack.com/api/"),
    mentions: z.record(z.string(), z.array(z.string())).optional(),
  })
  .strict();

const webhookSchema = z
  .object({
    kind: z.enum(["discord", "slack"]),
    url: z.string().url(),
  })
  .strict();

const alertsSchema = z
  .object({
    webhooks: z.array(webhookSchema).default([]),
    console: z.boolean().default(true),
    groupWindow: duration.default("5s").describe("Alerts within this window go as one message"),
    rules: z
      .record(z.string(), z.record(z.string(), z.unknown()))
      .default({})
      .describe("Per-rule settings keyed by rule name; see the README"),
  })
  .strict();

export const configSchema = z
  .object({
    store: z.string().default("./data/trainops.db"),
    poll: z
      .string()
      .refine(
        (v) => cron.validate(v),
        'expected a node-cron expression such as "*/30 * * * * *" (every 30 s)',
      )
      .default("*/30 * * * * *")
      .describe("node-cron expression, with seconds"),
    retention: duration.default("90d").describe("How long samples are kept"),
    runs: z.array(runSchema).min(1, "add at least one run under runs:"),
    alerts: alertsSchema.default({ webhooks: [], console: true, groupWindow: "5s", rules: {} }),
    discord: discordSchema.optional(),
    slack: slackSchema.optional(),
    http: z
      .object({
        port: z.number().int().min(0).max(65535).default(9464),
        host: z.string().default("127.0.0.1"),
      })
      .strict()
      .default({ port: 9464, host: "127.0.0.1" }),
    confirmTimeout: duration.default("10m"),
    logLevel: z.enum(["trace", "debug", "info", "warn", "error", "fatal"]).default("info"),
    shutdownTimeout: duration
      .default("10s")
      .describe("After SIGTERM/SIGINT the daemon exits within this long, whatever still hangs"),
  })
  .strict();

/** The validated configuration, with every default filled in. */
export type Config = z.infer<typeof configSchema>;
/** One run (a training job on one VM). */
export type RunConfig = z.infer<typeof runSchema>;
/** SSH settings of a remote run. */
export type SshTarget = z.infer<typeof sshTarget>;
export type DiscordConfig = z.infer<typeof discordSchema>;
export type SlackConfig = z.infer<typeof slackSchema>;
