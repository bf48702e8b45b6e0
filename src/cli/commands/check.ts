import { dirname, resolve } from "node:path";
import { bindRules } from "../../alerts/rule-settings.ts";
import { ConfigError } from "../../config/config-error.ts";
import type { Config } from "../../config/schema.ts";
import { checkRun } from "../../monitors/run-check.ts";
import { loadPlan, PlanError } from "../../ops/plan-loader.ts";
import { selectRuns, withCliRuntime } from "../cli-runtime.ts";
import { CONFIG_OPTION_HELP, defaultConfigPath } from "../config-path.ts";
import type { RegisterCommand } from "./command.ts";

/**
 * `trainops check`: validates the config (a ConfigError exits 2 with every problem listed), then
 * tests each run's VM. Exits 1 when any check failed.
 */
export const registerCheck: RegisterCommand = (program, setExitCode) => {
  program
    .command("check")
    .description(
      "Validate the config and test each run: SSH and host key, log, nvidia-smi, config, processes, OOM-kill sources",
    )
    .option("-r, --run <name>", "only this run")
    .option("-c, --config <file>", CONFIG_OPTION_HELP, defaultConfigPath())
    .option("--json", "print JSON")
    .action(async (options: { run?: string; config: string; json?: boolean }) => {
      await withCliRuntime(options.config, async (runtime) => {
        // Alert rule settings have their own schemas; a bad one is a config error (exit 2).
        bindRules(runtime.config);
        // So has each run's phase plan (relative to the config file, as the daemon reads it).
        checkPlans(runtime.config, dirname(resolve(options.config)));
        // An empty --run checks every run, as it always has.
        const runs = selectRuns(runtime, options.run || undefined).map((name) =>
          runtime.monitoring.runConfig(name),
        );
        const results = (
          await Promise.all(
            runs.map((run) => {
              const transport = runtime.monitoring.transports.get(run.name);
              return transport ? checkRun(run, transport) : Promise.resolve([]);
            }),
          )
        ).flat();
        if (results.some((r) => !r.ok)) setExitCode(1);
        if (options.json) {
          process.stdout.write(`${JSON.stringify({ config: "ok", results }, null, 2)}\n`);
          return;
        }
        const width = Math.max(3, ...results.map((r) => r.run.length));
        const lines = [`config ${options.config}: ok`];
        for (const r of results) {
          lines.push(
            `${r.ok ? "PASS" : "FAIL"}  ${r.run.padEnd(width)}  ${r.check.padEnd(12)}  ${r.detail}`,
          );
        }
        process.stdout.write(`${lines.join("\n")}\n`);
      });
    });
};

/** Loads every run's plan; all problems at once as a ConfigError (exit 2). */
function checkPlans(config: Config, baseDir: string): void {
  const problems: string[] = [];
  for (const run of config.runs) {
    if (!run.plan) continue;
    try {
      loadPlan(run.plan, baseDir);
    } catch (error) {
      if (!(error instanceof PlanError)) throw error;
      problems.push(`runs.${run.name}.plan: ${error.message}`);
    }
  }
  if (problems.length) throw new ConfigError(problems.join("\n"), problems);
}
