import { dirname, resolve } from "node:path";
import type { ConsoleFrontEnd } from "../../bot/console/console-front-end.ts";
import { colorEnabled } from "../color.ts";
import { CONFIG_OPTION_HELP, defaultConfigPath } from "../config-path.ts";
import type { RegisterCommand } from "./command.ts";

/**
 * `trainops console [--config FILE] [--chart-dir DIR]`: the whole product in a terminal. Runs
 * what the daemon runs (polls, alerts, phase engine) and reads `/train …` lines; alerts print
 * between replies. Reads commands from standard input when it is not a terminal (one per line)
 * and exits at the end of input once pending work has finished.
 */
export const registerConsole: RegisterCommand = (program) => {
  program
    .command("console")
    .description("Type /train commands in a terminal (or pipe them in, one per line)")
    .option("-c, --config <file>", CONFIG_OPTION_HELP, defaultConfigPath())
    .option("--chart-dir <dir>", "where chart PNGs are saved", "./data/charts")
    .action(async (options: { config: string; chartDir: string }) => {
      const [
        { ConsoleFrontEnd },
        { ConsoleSession },
        { loadConfig },
        { createLogger },
        { startApp },
        { chatFrontEnds, chatPlatforms },
      ] = await Promise.all([
        import("../../bot/console/console-front-end.ts"),
        import("../../bot/console/console-session.ts"),
        import("../../config/load-config.ts"),
        import("../../daemon/logger.ts"),
        import("../../runtime/app.ts"),
        import("../../runtime/chat-front-ends.ts"),
      ]);
      const config = loadConfig(options.config);
      const platforms = await chatPlatforms(config);
      const log = createLogger({
        level: "warn",
        pretty: Boolean(process.stderr.isTTY),
        color: colorEnabled(process.stderr),
      });
      let consoleFront: ConsoleFrontEnd | null = null;
      const app = await startApp({
        config,
        configDir: dirname(resolve(options.config)),
        log,
        // A terminal session next to a daemon must not fight it for the metrics port.
        http: false,
        frontEnds: (core) => {
          const session = new ConsoleSession({
            core,
            input: process.stdin,
            output: process.stdout,
            runNames: config.runs.map((r) => r.name),
            chartDir: options.chartDir,
            interactive: Boolean(process.stdin.isTTY),
          });
          consoleFront = new ConsoleFrontEnd(session);
          return [consoleFront, ...chatFrontEnds({ config, core, log, platforms })];
        },
      });
      const front = consoleFront as ConsoleFrontEnd | null;
      await new Promise<void>((done) => {
        void front?.finished.then(done);
        process.once("SIGINT", () => done());
        process.once("SIGTERM", () => done());
      });
      await app.stop();
    });
};
