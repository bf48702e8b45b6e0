// biome-ignore-all lint/suspicious/noTemplateCurlyInString: these lines are YAML holding ${VAR} references.
import { stringify } from "yaml";
import type { InitOptions, InitSsh } from "./init-options.ts";

/** Where `trainops init` puts the plan, relative to the config file; the config points there. */
export const STARTER_PLAN_PATH = "configs/plans/safe-optimization.yaml";

/** `text` with a trailing comment, comments aligned so the file reads as a table. */
function note(text: string, comment: string): string {
  return `${text.padEnd(37)} # ${comment}`;
}

/** A YAML scalar for `value`, quoted only where YAML needs it. */
function scalar(value: string | number): string {
  return stringify(value, { lineWidth: 0 }).trimEnd();
}

/**
 * The text of a starter `trainops.yaml` for one run: what the user named is set, everything
 * else is a commented line with its default, so the file doubles as the reference a newcomer
 * edits next. The result passes `loadConfig` as written.
 */
export function renderStarterConfig(options: InitOptions): string {
  const lines = [
    "# trainops configuration, written by `trainops init`.",
    "# Check it:        trainops check --config <this file>",
    "# Run the daemon:  trainops start --config <this file>",
    "# Every key is described in configs/trainops.example.yaml of the trainops repository;",
    "# secrets go in environment variables, written here as ${VAR}.",
    "",
    "# SQLite store, relative to this file.",
    "store: ./data/trainops.db",
    "# Poll every 30 seconds (node-cron with seconds): one SSH round trip per poll.",
    'poll: "*/30 * * * * *"',
    "",
    "runs:",
    `  - name: ${scalar(options.run)}`,
    ...sshLines(options.ssh),
    `    workdir: ${scalar(options.workdir)}`,
    note(`    log: ${scalar(options.log)}`, "relative to workdir"),
    options.trainConfig
      ? note(
          `    trainConfig: ${scalar(options.trainConfig)}`,
          "relative to workdir; phases edit it",
        )
      : note(
          "    # trainConfig: configs/train.yaml",
          "training YAML, relative to workdir (for phases)",
        ),
    note("    process: train.py", "matches the training process's command line"),
    note("    workerProcess: pt_data_worker", "data-loader worker process name"),
    "    steps:",
    note("      format: auto", "or a preset name, or regex with a regex: key"),
    note("      # perEpoch: 4000", "steps per epoch and epochs: the ETA of the whole run"),
    "      # epochs: 32",
    "    # limits: { gpuMemoryGiB: 80, hostMemoryGiB: 100 }  # judged by phases and memory alerts",
    note(`    plan: ${STARTER_PLAN_PATH}`, "relative to this file"),
    note("    # start: bash scripts/train.sh", "how training is (re)started, run in workdir"),
    options.nvidiaSmi
      ? `    nvidiaSmi: ${scalar(options.nvidiaSmi)}`
      : note("    # nvidiaSmi: nvidia-smi", "command on the VM"),
    "",
    "alerts:",
    "  console: true",
    "  # webhooks:",
    "  #   - kind: discord",
    "  #     url: ${DISCORD_WEBHOOK_URL}",
    "",
    "# Chat front ends start when their tokens are set:",
    "# discord:",
    "#   token: ${DISCORD_TOKEN}",
    '#   applicationId: "123456789012345678"',
    '#   guildId: "123456789012345678"',
    '#   alertChannel: "123456789012345678"',
    '#   operators: { users: ["123456789012345678"] }',
    "# slack:",
    "#   botToken: ${SLACK_BOT_TOKEN}",
    "#   appToken: ${SLACK_APP_TOKEN}",
    "#   alertChannel: C0123456789",
    "#   operators: { users: [U0123456789] }",
    "",
    "# /healthz and /metrics for Prometheus, on loopback (host: 0.0.0.0 inside Docker).",
    "http:",
    "  port: 9464",
    "  host: 127.0.0.1",
    "",
  ];
  return lines.join("\n");
}

function sshLines(ssh: "local" | InitSsh): string[] {
  if (ssh === "local") return [note("    ssh: local", "this machine, no SSH")];
  // A flag the user gave is set; one they left out stays a comment that says where the value
  // comes from instead, because ~/.ssh/config may well know it.
  const set = (key: string, value: string | number | undefined, example: string, from: string) =>
    value === undefined
      ? note(`      # ${key}: ${example}`, from)
      : `      ${key}: ${scalar(value)}`;
  return [
    "    ssh:",
    `      host: ${scalar(ssh.host)}`,
    set("port", ssh.port, "22", "else ~/.ssh/config's Port, else 22"),
    set("user", ssh.user, "me", "else ~/.ssh/config's User, else your login"),
    set("privateKey", ssh.privateKey, "~/.ssh/id_ed25519", "else IdentityFile, then ~/.ssh/id_*"),
    "      # passphrase: ${SSH_KEY_PASSPHRASE}",
    ssh.hostKey
      ? `      hostKey: ${scalar(ssh.hostKey)}`
      : set("knownHosts", ssh.knownHosts, "~/.ssh/known_hosts", "the host key is always verified"),
    ...(ssh.hostKey ? [] : [note('      # hostKey: "SHA256:…"', "instead of knownHosts")]),
    ...(ssh.sshConfig ? [`      sshConfig: ${scalar(ssh.sshConfig)}`] : []),
  ];
}
