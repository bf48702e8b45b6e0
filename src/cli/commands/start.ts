import { dirname, resolve } from "node:path";
import { parseDuration } from "../../core/duration.ts";
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
      const [{ loadConfig }, { createLogger }, { startApp }, { chatFrontEnds, chatPlatforms }] =
        await Promise.all([
          import("../../config/load-config.ts"),
          import("../../daemon/logger.ts"),
          import("../../runtime/app.ts"),
          import("../../runtime/chat-front-ends.ts"),
        ]);
      const config = loadConfig(options.config);
      const platforms = await chatPlatforms(config);
      const log = createLogger({
        level: config.logLevel,
        pretty: Boolean(process.stderr.isTTY),
        color: colorEnabled(process.stderr),
      });
      // A setup error or a signal can arrive before startApp returns; it is remembered and
      // acted on below. The handlers go in first: a SIGTERM during start-up is a shutdown too.
      let early: string | null = null;
      let shutdown: (reason: string) => void = (reason) => {
        early ??= reason;
        bound(reason);
      };
      // Whatever hangs (a VM, a sink, a chat platform that is down), the process ends within
      // shutdownTimeout of the signal: the store has every committed fact, the outbox keeps
      // what was not delivered, and the kernel releases the instance lock.
      let bounded = false;
      const bound = (reason: string) => {
        if (bounded) return;
        bounded = true;
        const limitMs = parseDuration(config.shutdownTimeout);
        setTimeout(() => {
          log.error(
            { reason, shutdownTimeout: config.shutdownTimeout },
            "shutdown did not finish in time; exiting anyway (undelivered alerts stay in the outbox)",
          );
          process.exit(1);
        }, limitMs).unref();
      };
      process.once("SIGTERM", () => shutdown("SIGTERM"));
      process.once("SIGINT", () => shutdown("SIGINT"));
      const app = await startApp({
        config,
        configDir: dirname(resolve(options.config)),
        log,
        frontEnds: (core) => chatFrontEnds({ config, core, log, platforms }),
        onSetupError: (error) => {
          process.stderr.write(`trainops: ${error.message}\n`);
          setExitCode(2);
          shutdown("setup error");
        },
      });
      await new Promise<void>((done) => {
        let stopping = false;
        shutdown = (reason: string) => {
          if (stopping) return;
          stopping = true;
          bound(reason);
          log.info({ reason }, "shutting down");
          app.stop().then(done, done);
        };
        if (early !== null) shutdown(early);
      });
    });
};
