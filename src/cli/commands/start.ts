import { dirname, resolve } from "node:path";
import { loadConfig } from "../../config/load-config.ts";
import { createLogger } from "../../daemon/logger.ts";
import { startApp } from "../../runtime/app.ts";
import { chatFrontEnds } from "../../runtime/chat-front-ends.ts";
import { colorEnabled } from "../color.ts";
import { CONFIG_OPTION_HELP, defaultConfigPath } from "../config-path.ts";
import type { RegisterCommand } from "./command.ts";

/**
 * `trainops start [--config FILE]`: the daemon. Runs until SIGTERM or SIGINT, then shuts down
 * cleanly (polls and sends in flight finish or stay in the outbox; the store closes).
 */
export const registerStart: RegisterCommand = (program, setExitCode) => {
  program
    .command("start")
    .description("Run the daemon: polls, alerts, phase engine, chat front ends, /metrics")
    .option("-c, --config <file>", CONFIG_OPTION_HELP, defaultConfigPath())
    .action(async (options: { config: string }) => {
      const config = loadConfig(options.config);
      const log = createLogger({
        level: config.logLevel,
        pretty: Boolean(process.stderr.isTTY),
        color: colorEnabled(process.stderr),
      });
      // A setup error can arrive before startApp returns; it is remembered and acted on below.
      let early: string | null = null;
      let shutdown: (reason: string) => void = (reason) => {
        early = reason;
      };
      const app = await startApp({
        config,
        configDir: dirname(resolve(options.config)),
        log,
        frontEnds: (core) => chatFrontEnds({ config, core, log }),
        onSetupError: (error) => {
          process.stderr.write(`trainops: ${error.message}\n`);
          setExitCode(2);
          shutdown("setup error");
        },
      });
      await new Promise<void>((done) => {
        shutdown = (reason: string) => {
          log.info({ reason }, "shutting down");
          app.stop().then(done, done);
        };
        if (early !== null) shutdown(early);
        process.once("SIGTERM", () => shutdown("SIGTERM"));
        process.once("SIGINT", () => shutdown("SIGINT"));
      });
    });
};
