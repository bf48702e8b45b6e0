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
    port: z.number().int().min(1).max(65535).optional().describe("SSH port (default 22)"),
    user: z.string().min(1).optional().describe("Login user (default: your local user)"),
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
    connectTimeout: duration.default("10s").describe("Give up connecting after this long"),
    execTimeout: duration
      .default("30s")
      .describe("Give up on one remote command (a probe) after this long"),
    keepaliveInterval: duration
      .default("15s")
      .describe("SSH keepalive interval; a dead link is noticed after 3 missed keepalives"),
  })
  .strict();

const stepsSchema = z
  .object({
    format: z.string().default("auto").describe("auto, a preset name, or 'regex'"),
    regex: z
      .string()
      .optional()
      .describe("With format: regex. Named groups: step, total, epoch, loss, stepTime"),
    perEpoch: z.number().int().positive().optional().describe("Steps in one epoch"),
    epochs: z
      .number()
      .int()
      .positive()
      .optional()
      .describe("Epochs in the whole training; with perEpoch gives the total steps and the ETA"),
  })
  .strict();

const limitsSchema = z
  .object({
    gpuMemoryGiB: z
      .number()
      .positive()
      .optional()
      .describe(
        "VRAM per GPU in GiB that memory alerts measure against (default: the GPU's total)",
      ),
    hostMemoryGiB: z
      .number()
      .positive()
      .optional()
      .describe("Host RAM in GiB that memory alerts measure against (default: the host's total)"),
  })
  .strict();

/** What the run's machine costs, for "cost so far" and "cost to finish". */
const costSchema = z
  .object({
    perHour: z.number().positive().describe("Price of the VM (or GPU) per hour, e.g. 32.77"),
    currency: z
      .string()
      .regex(/^[A-Z]{3}$/, "a three-letter currency code such as USD or EUR")
      .default("USD")
      .describe("Currency of perHour, an ISO 4217 code; default USD"),
  })
  .strict();

const restartSchema = z
  .object({
    interruptTimeout: duration
      .default("60s")
      .describe("After SIGINT, wait this long for the process to exit before SIGTERM"),
    terminateTimeout: duration
      .default("30s")
      .describe("After SIGTERM, wait this long before SIGKILL"),
    confirmTimeout: duration.default("10m").describe("How long to wait for new step lines"),
    tmuxSession: z.string().optional().describe("Start training in this tmux session"),
    systemdUnit: z
      .string()
      .optional()
      .describe("Restart training with this systemd unit instead of `start`"),
  })
  .strict();

const slurmSchema = z
  .object({
    job: z
      .string()
      .min(1)
      .optional()
      .describe("Job name (sbatch --job-name); the newest job of that name is followed"),
    jobId: z
      .union([
        z.number().int().positive(),
        z.string().regex(/^\d+(_\d+)?$/, "a job id like 123 or 123_4"),
      ])
      .optional()
      .describe("Job id to follow; later resubmits by trainops are followed by their new id"),
    submit: z
      .string()
      .min(1)
      .optional()
      .describe(
        "Batch script a restart resubmits (relative to workdir); default: the job's Command",
      ),
    partition: z
      .string()
      .min(1)
      .optional()
      .describe("Only jobs in this partition; a resubmit goes there too"),
    user: z.string().min(1).optional().describe("Only jobs of this user (squeue --user)"),
    conf: z
      .string()
      .min(1)
      .optional()
      .describe("slurm.conf on the login node (SLURM_CONF), when not the cluster's default"),
    requeue: z
      .boolean()
      .default(false)
      .describe("Restart with scontrol requeue instead of scancel + sbatch (the script resumes)"),
    srunTimeout: duration.default("20s").describe("Bound on the per-node nvidia-smi step"),
  })
  .strict()
  .refine((v) => v.job !== undefined || v.jobId !== undefined, {
    message: "name the job: slurm: { job: NAME } or slurm: { jobId: 123 }",
  });

export const runSchema = z
  .object({
    name: z
      .string()
      .regex(/^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$/, "letters, digits, '_', '.', '-' (max 63)")
      .describe("The run's name in chat, metrics and the store, e.g. exp001"),
    ssh: z
      .union([z.literal("local"), sshTarget])
      .describe("How to reach the VM: 'local' (this machine) or an SSH target"),
    workdir: z.string().min(1).describe("Directory of the training on the VM (absolute)"),
    log: z
      .string()
      .min(1)
      .optional()
      .describe("Training log, relative to workdir; with slurm: the job's StdOut by default"),
    trainConfig: z.string().min(1).optional().describe("Training YAML, relative to workdir"),
    process: z.string().min(1).default("train.py").describe("Matches the training command line"),
    workerProcess: z.string().min(1).default("pt_data_worker").describe("Data-loader worker comm"),
    steps: stepsSchema.default({ format: "auto" }).describe("How steps are read from the log"),
    limits: limitsSchema.default({}).describe("Memory limits the alerts measure against"),
    cost: costSchema
      .optional()
      .describe(
        "Machine price for cost so far and to finish, e.g. { perHour: 32.77, currency: USD }",
      ),
    plan: z
      .string()
      .optional()
      .describe("Phase plan file, e.g. configs/plans/safe-optimization.yaml"),
    start: z.string().optional().describe("Shell command that starts training, run in workdir"),
    restart: restartSchema
      .default({
        interruptTimeout: "60s",
        terminateTimeout: "30s",
        confirmTimeout: "10m",
      })
      .describe("How a restart stops, starts and confirms the training"),
    follow: z.boolean().default(true).describe("Stream new log lines between polls"),
    backfillBytes: z
      .number()
      .int()
      .min(0)
      .default(256 * 1024)
      .describe("On first attach, read only this many bytes of the log's tail"),
    maxReadBytes: z
      .number()
      .int()
      .min(4096)
      .default(4 * 1024 * 1024)
      .describe("Log bytes read per poll at most (bytes); the rest next poll"),
    nvidiaSmi: z
      .string()
      .default("nvidia-smi")
      .describe('nvidia-smi command on the VM; "" for a VM without GPUs (a CPU job)'),
    autoAdvance: z
      .boolean()
      .default(false)
      .describe("Start the next phase when one passes, without asking"),
    autoRollback: z.boolean().default(true).describe("Roll back a failed phase without asking"),
    slurm: slurmSchema
      .optional()
      .describe(
        "A Slurm job: ssh points at the login node; state, GPUs and restarts go through Slurm",
      ),
  })
  .strict()
  .superRefine(
    (run, ctx) => {
      // Only a Slurm job may leave the log out (its StdOut is the log).
      if (run.log === undefined && run.slurm === undefined) {
        ctx.addIssue({ code: "invalid_type", expected: "string", input: undefined, path: ["log"] });
      }
    },
    { when: (payload) => typeof payload.value === "object" && payload.value !== null },
  );

const operatorsDiscord = z
  .object({
    users: z.array(z.string()).default([]).describe("Discord user ids allowed to change runs"),
    roles: z.array(z.string()).default([]).describe("Discord role ids allowed to change runs"),
  })
  .strict();

const discordSchema = z
  .object({
    token: z
      .string()
      .optional()
      .describe(
        "Bot token (a secret: write it as $DISCORD_TOKEN substitution); the bot starts when it is set",
      ),
    applicationId: z
      .string()
      .regex(/^\d{5,25}$/, "a numeric Discord id (snowflake)")
      .optional()
      .describe("The application's id, for registering /train"),
    guildId: z
      .string()
      .regex(/^\d{5,25}$/, "a numeric Discord id (snowflake)")
      .optional()
      .describe("Register /train in this server only (instant), instead of globally"),
    alertChannel: z
      .string()
      .regex(/^\d{5,25}$/, "a numeric Discord channel id")
      .optional()
      .describe("Channel id the bot posts alerts in"),
    allowedChannels: z
      .array(z.string())
      .optional()
      .describe("Channel ids where /train answers (default: everywhere)"),
    operators: operatorsDiscord
      .default({ users: [], roles: [] })
      .describe("Who may run mutating commands"),
    apiUrl: z.string().url().default("https://discord.com/api").describe("Discord REST API base"),
    mentions: z
      .record(z.string(), z.array(z.string()))
      .optional()
      .describe("User/role ids to mention per alert severity, e.g. critical: ['123…']"),
  })
  .strict();

const slackSchema = z
  .object({
    botToken: z
      .string()
      .optional()
      .describe(
        "Bot token xoxb-… (a secret: write it as $SLACK_BOT_TOKEN substitution); the bot starts when set",
      ),
    appToken: z.string().optional().describe("App-level token xapp-… for Socket Mode (a secret)"),
    signingSecret: z.string().optional().describe("Signing secret for HTTP mode (a secret)"),
    mode: z
      .enum(["socket", "http"])
      .default("socket")
      .describe("socket: no public URL needed; http: Slack calls this host on port"),
    port: z.number().int().min(1).max(65535).default(3000).describe("HTTP mode's port"),
    alertChannel: z.string().optional().describe("Channel id the bot posts alerts in"),
    allowedChannels: z
      .array(z.string())
      .optional()
      .describe("Channel ids where /train answers (default: everywhere)"),
    operators: z
      .object({
        users: z
          .array(z.string())
          .default([])
          .describe("Slack user ids (U…) allowed to change runs"),
        userGroups: z
          .array(z.string())
          .default([])
          .describe("Slack user-group ids (S…) allowed to change runs"),
      })
      .strict()
      .default({ users: [], userGroups: [] })
      .describe("Who may run mutating commands"),
    apiUrl: z.string().url().default("https://slack.com/api/").describe("Slack Web API base"),
    mentions: z
      .record(z.string(), z.array(z.string()))
      .optional()
      .describe("User/group ids to mention per alert severity"),
  })
  .strict();

const severity = z.enum(["info", "success", "warning", "critical"]);

/** Keys every alert channel takes: which alerts it gets. */
const channelFilter = {
  severities: z
    .array(severity)
    .optional()
    .describe(
      "Only alerts of these severities (a resolution counts with the severity it resolves); default: all",
    ),
  runs: z.array(z.string()).optional().describe("Only alerts of these runs; default: all runs"),
};

const secret = (what: string) =>
  z.string().min(1).describe(`${what} (a secret: write \${VAR} and set it in the environment)`);

const webhookSchema = z.discriminatedUnion("kind", [
  z
    .object({
      kind: z.literal("discord").describe("Discord incoming webhook"),
      url: z.string().url().describe("Discord webhook URL (a secret)"),
      ...channelFilter,
    })
    .strict(),
  z
    .object({
      kind: z.literal("slack").describe("Slack incoming webhook"),
      url: z.string().url().describe("Slack incoming-webhook URL (a secret)"),
      ...channelFilter,
    })
    .strict(),
  z
    .object({
      kind: z.literal("json").describe("Generic JSON webhook (versioned payload, HMAC signature)"),
      url: z
        .string()
        .url()
        .describe("Receiver URL; gets the versioned JSON payload (docs/json-webhook.md)"),
      secret: secret("HMAC-SHA256 key; requests carry x-trainops-signature").optional(),
      ...channelFilter,
    })
    .strict(),
  z
    .object({
      kind: z.literal("ntfy").describe("ntfy topic"),
      url: z.string().url().describe("Topic URL, e.g. https://ntfy.sh/my-training-alerts"),
      token: secret("Access token of a protected topic (tk_…)").optional(),
      ...channelFilter,
    })
    .strict(),
  z
    .object({
      kind: z.literal("telegram").describe("Telegram bot (Bot API sendMessage)"),
      url: z.string().url().default("https://api.telegram.org").describe("Bot API base URL"),
      token: secret("Bot token from @BotFather"),
      chatId: z
        .union([z.string().min(1), z.number().int()])
        .transform(String)
        .describe("Chat id (negative for groups) or @channelusername"),
      ...channelFilter,
    })
    .strict(),
  z
    .object({
      kind: z.literal("pagerduty").describe("PagerDuty Events API v2"),
      url: z
        .string()
        .url()
        .default("https://events.pagerduty.com")
        .describe("Events API v2 base URL (https://events.eu.pagerduty.com in the EU)"),
      routingKey: secret("Integration (routing) key of an Events API v2 integration"),
      ...channelFilter,
    })
    .strict(),
  z
    .object({
      kind: z.literal("opsgenie").describe("Opsgenie Alert API"),
      url: z
        .string()
        .url()
        .default("https://api.opsgenie.com")
        .describe("Alert API base URL (https://api.eu.opsgenie.com in the EU)"),
      apiKey: secret("API key of an Opsgenie API integration"),
      ...channelFilter,
    })
    .strict(),
  z
    .object({
      kind: z.literal("alertmanager").describe("Prometheus Alertmanager API v2"),
      url: z
        .string()
        .url()
        .describe("Alertmanager base URL, e.g. http://alertmanager:9093 (posts to /api/v2/alerts)"),
      token: secret("Bearer token for an Alertmanager behind an authenticating proxy").optional(),
      ...channelFilter,
    })
    .strict(),
]);

const emailSchema = z
  .object({
    host: z.string().min(1).describe("SMTP server host"),
    port: z
      .number()
      .int()
      .min(1)
      .max(65535)
      .default(587)
      .describe("SMTP port: 587 (submission, STARTTLS), 465 (TLS) or 25; default 587"),
    secure: z
      .boolean()
      .optional()
      .describe("TLS from the first byte; default true on port 465, else STARTTLS when offered"),
    requireTls: z
      .boolean()
      .default(false)
      .describe("Refuse to send unless the server offers STARTTLS; default false"),
    user: z.string().min(1).optional().describe("SMTP login"),
    password: secret("SMTP password").optional(),
    from: z.string().min(3).describe('Sender, e.g. "trainops <trainops@example.com>"'),
    to: z.array(z.string().min(3)).min(1).describe("Recipients"),
    timeout: duration.default("10s").describe("SMTP connection and answer timeout; default 10s"),
    ...channelFilter,
  })
  .strict();

const alertsSchema = z
  .object({
    webhooks: z
      .array(webhookSchema)
      .default([])
      .describe(
        "Alert channels: discord, slack, json, ntfy, telegram, pagerduty, opsgenie, alertmanager",
      ),
    email: emailSchema.optional().describe("Alerts by e-mail over SMTP"),
    console: z
      .boolean()
      .default(true)
      .describe("Print alerts on stdout and in the console front end"),
    groupWindow: duration.default("5s").describe("Alerts within this window go as one message"),
    rules: z
      .record(z.string(), z.record(z.string(), z.unknown()))
      .default({})
      .describe("Per-rule settings keyed by rule name; see the README"),
  })
  .strict();

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
        "How long every poll's sample (and step point and poll record) is kept as is; older samples are rolled up per minute and per hour for charts, until `retention`",
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
/** One run (a training job on one VM). */
export type RunConfig = z.infer<typeof runSchema>;
/** The `slurm:` block of a run. */
export type SlurmRunConfig = z.infer<typeof slurmSchema>;
/** SSH settings of a remote run. */
export type SshTarget = z.infer<typeof sshTarget>;
export type DiscordConfig = z.infer<typeof discordSchema>;
export type SlackConfig = z.infer<typeof slackSchema>;
