import { relative } from "node:path";
import type { InitFlags } from "../init/init-options.ts";
import type { writeStarterFiles } from "../init/write-starter.ts";
import type { RegisterCommand } from "./command.ts";

/**
 * `trainops init`: writes a commented starter trainops.yaml for one run and the safe
 * optimization plan next to it, then runs `trainops check` on it. Exits 2 on bad flags, 1 when
 * the file exists (without --force) or a check failed.
 */
export const registerInit: RegisterCommand = (program, setExitCode) => {
  program
    .command("init")
    .description("Write a starter trainops.yaml and plan for a VM, then check it")
    .option("--host <host>", "the VM: host name, IP address or ~/.ssh/config alias")
    .option("--user <user>", "SSH login on the VM (default: ~/.ssh/config, then your login)")
    .option("--port <port>", "SSH port (default: ~/.ssh/config, then 22)")
    .option("--key <path>", "private key file (default: ~/.ssh/config, then ~/.ssh/id_*)")
    .option("--known-hosts <path>", "known_hosts file holding the VM's host key")
    .option("--host-key <fingerprint>", "the VM's host key as SHA256:…, instead of known_hosts")
    .option("--ssh-config <path>", "OpenSSH client config for host aliases (default ~/.ssh/config)")
    .option("--local", "the run is on this machine (no SSH)")
    .option("--workdir <dir>", "the training repository's folder on the VM (absolute)")
    .option("--log <path>", "training log, relative to --workdir")
    .option("--train-config <path>", "training YAML, relative to --workdir (phases edit it)")
    .option("--run <name>", "run name (default: the workdir's folder name)")
    .option("--nvidia-smi <path>", "nvidia-smi command on the VM (default nvidia-smi)")
    .option("-o, --out <file>", "config file to write", "trainops.yaml")
    .option("--force", "replace an existing config file")
    .option("--no-check", "do not run `trainops check` on the written file")
    .action(async (flags: InitFlags) => {
      const [
        { InitUsageError, validateInitFlags },
        { runCheckProcess },
        { StarterExistsError, writeStarterFiles },
      ] = await Promise.all([
        import("../init/init-options.ts"),
        import("../init/run-check-process.ts"),
        import("../init/write-starter.ts"),
      ]);
      let written: ReturnType<typeof writeStarterFiles>;
      let check: boolean;
      try {
        const options = validateInitFlags(flags);
        check = options.check;
        written = writeStarterFiles(options);
      } catch (error) {
        if (error instanceof InitUsageError) {
          process.stderr.write(`${error.problems.map((p) => `trainops init: ${p}`).join("\n")}\n`);
          setExitCode(2);
          return;
        }
        if (error instanceof StarterExistsError) {
          process.stderr.write(`trainops init: ${error.message}\n`);
          setExitCode(1);
          return;
        }
        throw error;
      }
      const shown = displayPath(written.configPath);
      const out = [`wrote ${shown}`];
      out.push(
        written.planCopied
          ? `wrote ${displayPath(written.planPath)} (the phase plan; edit it to taste)`
          : `kept ${displayPath(written.planPath)} (already there)`,
      );
      process.stdout.write(`${out.join("\n")}\n`);
      if (!check) {
        process.stdout.write(`next: trainops check --config ${shown}\n`);
        return;
      }
      process.stdout.write(`\nchecking: trainops check --config ${shown}\n`);
      const code = await runCheckProcess(written.configPath);
      if (code === 0) {
        process.stdout.write(
          [
            "",
            "All checks passed. Next:",
            `  trainops poll --once --config ${shown}    # one poll: progress, GPUs, memory`,
            `  trainops start --config ${shown}          # the daemon: polls, alerts, /metrics`,
            "  Chat: set DISCORD_TOKEN or SLACK_BOT_TOKEN and uncomment discord: or slack: in the file.",
            "",
          ].join("\n"),
        );
        return;
      }
      process.stdout.write(
        `\nSome checks failed: fix the FAIL lines above in ${shown}, then run trainops check --config ${shown}\n`,
      );
      setExitCode(code === 2 ? 2 : 1);
    });
};

/** The path as the user would type it: relative to the working directory when inside it. */
function displayPath(path: string): string {
  const rel = relative(process.cwd(), path);
  return rel && !rel.startsWith("..") ? rel : path;
}
