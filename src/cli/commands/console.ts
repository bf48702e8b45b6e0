import { dirname, resolve } from "node:path";
import { createAlerting } from "../../alerts/create-alerting.ts";
import { renderRunChart } from "../../bot/charts/run-chart.ts";
import { ConsoleSession } from "../../bot/console/console-session.ts";
import { alertingPort } from "../../bot/core/alerting-adapter.ts";
import { createBotCore } from "../../bot/core/bot-core.ts";
import { transportLogTail } from "../../bot/core/transport-log-tail.ts";
import { systemClock } from "../../core/clock.ts";
import { createRunOperations } from "../../ops/operations.ts";
import { AuditRepo } from "../../store/audit-repo.ts";
import { ConfirmationsRepo } from "../../store/confirmations-repo.ts";
import { EventsRepo } from "../../store/events-repo.ts";
import { PhasesRepo } from "../../store/phases-repo.ts";
import { SamplesRepo } from "../../store/samples-repo.ts";
import { openCliRuntime } from "../cli-runtime.ts";
import type { RegisterCommand } from "./command.ts";

/**
 * `trainops console [--config FILE] [--chart-dir DIR]`: the `/train` commands in a terminal.
 * Reads commands from standard input when it is not a terminal (one per line) and exits at the
 * end of input once pending work has finished.
 */
export const registerConsole: RegisterCommand = (program) => {
  program
    .command("console")
    .description("Type /train commands in a terminal (or pipe them in, one per line)")
    .option("-c, --config <file>", "configuration file", "trainops.yaml")
    .option("--chart-dir <dir>", "where chart PNGs are saved", "./data/charts")
    .action(async (options: { config: string; chartDir: string }) => {
      const runtime = openCliRuntime(options.config);
      try {
        const { config, db } = runtime;
        const transportFor = (name: string) => {
          const transport = runtime.monitoring.transports.get(name);
          if (!transport) throw new Error(`no run named '${name}'`);
          return transport;
        };
        let session: ConsoleSession | null = null;
        const operations = createRunOperations({
          db,
          config,
          baseDir: dirname(resolve(options.config)),
          transportFor: (run) => transportFor(run.name),
          clock: systemClock,
          notify: async (message) => {
            await session?.show(message);
          },
        });
        const alerting = createAlerting({ db, config, clock: systemClock, sinks: [] });
        const core = createBotCore({
          config,
          db: {
            samples: new SamplesRepo(db),
            events: new EventsRepo(db),
            confirmations: new ConfirmationsRepo(db),
            audit: new AuditRepo(db),
            phases: new PhasesRepo(db),
          },
          operations,
          alerts: alertingPort(alerting),
          logs: transportLogTail(config.runs, transportFor),
          clock: systemClock,
          charts: { render: renderRunChart },
        });
        session = new ConsoleSession({
          core,
          input: process.stdin,
          output: process.stdout,
          runNames: config.runs.map((r) => r.name),
          chartDir: options.chartDir,
          interactive: Boolean(process.stdin.isTTY),
        });
        await session.run();
      } finally {
        await runtime.close();
      }
    });
};
