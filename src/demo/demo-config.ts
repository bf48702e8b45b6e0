import { join } from "node:path";
import { stringify } from "yaml";
import type { Config } from "../config/schema.ts";
import type { SimulatedVm } from "../simulator/simulated-vm.ts";

/** What the demo's config depends on. */
export interface DemoConfigInput {
  dir: string;
  vm: SimulatedVm;
  repoRoot: string;
  poll: string;
  httpPort: number;
  timeScale: number;
}

/**
 * The demo's `trainops.yaml`: one run on this machine (`ssh: local`) pointing at the simulated
 * VM, the demo plan, and the chat sections when their tokens are in the environment (written as
 * `${VAR}` references, so the file holds no secret).
 */
export function demoConfigYaml(input: DemoConfigInput): string {
  const { dir, vm, repoRoot } = input;
  const options = input;
  const config = {
    store: join(dir, "trainops.db"),
    poll: options.poll,
    // Phases are judged from stored samples: the demo's polls come every few seconds, and keeping
    // one sample per 30 s (the default) would hold each verdict back by up to half a minute.
    sampleEvery: "0s",
    runs: [
      {
        name: "exp001",
        ssh: "local",
        workdir: vm.workdir,
        log: vm.log,
        trainConfig: vm.trainConfig,
        // The demo VM's own trainer, even when another demo or a real job runs on this machine.
        process: join(vm.workdir, "train.py"),
        workerProcess: "pt_data_worker",
        nvidiaSmi: vm.nvidiaSmiPath,
        start: vm.startCommand,
        plan: join(repoRoot, "configs/plans/demo.yaml"),
        steps: { format: "auto", perEpoch: 4000, epochs: 32 },
        limits: { gpuMemoryGiB: 80, hostMemoryGiB: 100 },
        restart: { interruptTimeout: "10s", terminateTimeout: "5s", confirmTimeout: "2m" },
        backfillBytes: 65536,
      },
    ],
    alerts: {
      console: true,
      groupWindow: "1s",
      rules: {
        // The NaN alert offers Stop training (confirmed, operators only).
        nan_loss: { stop: true },
        // A line of the job's own that no built-in rule knows, turned into an alert.
        pattern: {
          patterns: [
            {
              name: "checkpoint_failed",
              regex: "failed to save checkpoint (?<file>\\S+): (.+)$",
              label: "checkpoint failure",
              severity: "critical",
              message: "checkpoint {file} not saved: {2}",
            },
          ],
        },
      },
    },
    http: { port: options.httpPort },
    confirmTimeout: "10m",
    discord: process.env.DISCORD_TOKEN ? discordFromEnv() : undefined,
    slack: process.env.SLACK_BOT_TOKEN ? slackFromEnv() : undefined,
  } satisfies Partial<Record<keyof Config, unknown>>;
  return `# Written by \`trainops demo\`: a simulated run on this machine, time x${options.timeScale}.\n${stringify(JSON.parse(JSON.stringify(config)))}`;
}

/** A `${NAME}` reference the config loader substitutes, so the written file holds no secret. */
function envRef(name: string): string {
  return `$${"{"}${name}}`;
}

function discordFromEnv() {
  return {
    token: envRef("DISCORD_TOKEN"),
    ...(process.env.DISCORD_APPLICATION_ID
      ? { applicationId: process.env.DISCORD_APPLICATION_ID }
      : {}),
    ...(process.env.DISCORD_GUILD_ID ? { guildId: process.env.DISCORD_GUILD_ID } : {}),
    ...(process.env.DISCORD_ALERT_CHANNEL
      ? { alertChannel: process.env.DISCORD_ALERT_CHANNEL }
      : {}),
  };
}

function slackFromEnv() {
  return {
    botToken: envRef("SLACK_BOT_TOKEN"),
    appToken: envRef("SLACK_APP_TOKEN:-"),
    ...(process.env.SLACK_ALERT_CHANNEL ? { alertChannel: process.env.SLACK_ALERT_CHANNEL } : {}),
  };
}
