import { readFileSync } from "node:fs";
import { createLogger } from "../../daemon/logger.ts";
import { runDemo } from "../../demo/demo-runner.ts";
import { DemoScriptError, parseDemoScript } from "../../demo/demo-script.ts";
import { colorEnabled } from "../color.ts";
import type { RegisterCommand } from "./command.ts";

/**
 * `trainops demo [--script FILE]`: the zero-config demo (no tokens, no VM). Interactive by
 * default; `--script` runs a scripted session for tests and exits non-zero if a step fails.
 */
export const registerDemo: RegisterCommand = (program, setExitCode) => {
  program
    .command("demo")
    .description("Run the zero-config demo: a simulated training run driven from the console")
    .option("--script <file>", "run the commands and waits in FILE instead of reading a terminal")
    .option("--dir <dir>", "folder for the simulated VM, store and charts", "./data/demo")
    .option("--time-scale <n>", "simulated seconds per real second", "20")
    .option("--poll <cron>", "poll schedule", "*/2 * * * * *")
    .option("--metrics-port <port>", "port of /metrics and /healthz (0: any free)", "0")
    .action(
      async (options: {
        script?: string;
        dir: string;
        timeScale: string;
        poll: string;
        metricsPort: string;
      }) => {
        const timeScale = Number(options.timeScale);
        if (!Number.isFinite(timeScale) || timeScale < 1 || timeScale > 10_000) {
          process.stderr.write(
            `trainops demo: --time-scale must be a number from 1 to 10000; got '${options.timeScale}'\n`,
          );
          setExitCode(2);
          return;
        }
        let steps = null;
        if (options.script) {
          try {
            steps = parseDemoScript(readFileSync(options.script, "utf8"));
          } catch (error) {
            const message =
              error instanceof DemoScriptError
                ? error.message
                : `cannot read ${options.script}: ${(error as Error).message}`;
            process.stderr.write(`trainops demo: ${message}\n`);
            setExitCode(2);
            return;
          }
        }
        const log = createLogger({
          level: "warn",
          pretty: Boolean(process.stderr.isTTY),
          color: colorEnabled(process.stderr),
        });
        try {
          await runDemo({
            dir: options.dir,
            timeScale,
            poll: options.poll,
            steps,
            input: process.stdin,
            output: process.stdout,
            log,
            httpPort: Number(options.metricsPort),
          });
        } catch (error) {
          process.stderr.write(`trainops demo: ${(error as Error).message}\n`);
          setExitCode(1);
        }
      },
    );
};
