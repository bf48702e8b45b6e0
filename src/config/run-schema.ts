import * as z from "zod";
import { duration } from "./schema-primitives.js";

/** The `runs:` entries of `trainops.yaml`: one training job, where it runs and how it is read. */

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
    connectTimeout: duration
      .default("10s")
      .describe(
        "Give up connecting when the VM has not answered after this long; a handshake it has begun may take twice as long again (a loaded VM)",
      ),
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
    followWakes: z
      .enum(["errors", "all"])
      .default("errors")
      .describe(
        "Which streamed bytes make the log be read at once: 'errors' (text that may be an error; progress waits for the next poll) or 'all'",
      ),
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

/** One run (a training job on one VM). */
export type RunConfig = z.infer<typeof runSchema>;
/** The `slurm:` block of a run. */
export type SlurmRunConfig = z.infer<typeof slurmSchema>;
/** SSH settings of a remote run. */
export type SshTarget = z.infer<typeof sshTarget>;
