import { formatDuration } from "../../core/duration.ts";
import { type RunStatus, readRunStatus } from "../../monitors/run-status.ts";
import { selectRuns, withCliRuntime } from "../cli-runtime.ts";
import { CONFIG_OPTION_HELP, defaultConfigPath } from "../config-path.ts";
import { toJsonText } from "../json-output.ts";
import type { RegisterCommand } from "./command.ts";

/** `trainops status [--run NAME] [--json]`: the latest state from the store; no VM access. */
export const registerStatus: RegisterCommand = (program) => {
  program
    .command("status")
    .description("Show the latest collected state of each run (from the store)")
    .option("-r, --run <name>", "only this run")
    .option("-c, --config <file>", CONFIG_OPTION_HELP, defaultConfigPath())
    .option("--json", "print JSON (stable fields)")
    .action(async (options: { run?: string; config: string; json?: boolean }) => {
      await withCliRuntime(options.config, async (runtime) => {
        const runs = selectRuns(runtime, options.run).map((name) =>
          readRunStatus(runtime.monitoring.store, name),
        );
        process.stdout.write(
          options.json ? toJsonText({ runs }) : runs.map(formatStatus).join("\n"),
        );
      });
    });
};

function formatStatus(run: RunStatus): string {
  if (run.lastPollAt === null) {
    return `${run.name}: no polls yet — run \`trainops poll --once --run ${run.name}\`\n`;
  }
  const lines = [
    `${run.name} (last poll ${run.lastPollAt}, ${run.reachable ? "reachable" : "UNREACHABLE"})`,
  ];
  const step = run.step === null ? "?" : String(run.step);
  const total = run.totalSteps === null ? "" : `/${run.totalSteps}`;
  const pct =
    run.step !== null && run.totalSteps
      ? ` (${((100 * run.step) / run.totalSteps).toFixed(1)}%)`
      : "";
  lines.push(`  step ${step}${total}${pct}`);
  if (run.stepTimeSeconds !== null) {
    const eta = run.etaSeconds === null ? "" : `, ETA ${formatDuration(run.etaSeconds * 1000)}`;
    // `~`: timed by the monitor from when it saw the steps arrive; the log prints no rate.
    const about = run.stepTimeObserved ? "~" : "";
    const rate =
      run.stepsPerHour === null ? "" : `, ${about}${Math.round(run.stepsPerHour)} steps/h`;
    const note = run.stepTimeObserved ? " (timed from log arrival: the log prints no rate)" : "";
    lines.push(`  ${about}${run.stepTimeSeconds.toFixed(1)} s/step${rate}${eta}${note}`);
  }
  lines.push(
    `  training process: ${run.alive === null ? "unknown" : run.alive ? "alive" : "not running"}`,
  );
  for (const gpu of run.gpus) {
    const used = gpu.memoryUsedMiB === null ? "?" : (gpu.memoryUsedMiB / 1024).toFixed(1);
    const cap = gpu.memoryTotalMiB === null ? "?" : (gpu.memoryTotalMiB / 1024).toFixed(1);
    lines.push(`  GPU ${gpu.index}: ${used}/${cap} GiB, ${gpu.utilizationPercent ?? "?"}% util`);
  }
  if (run.hostMemory) {
    lines.push(
      `  host RAM: ${(run.hostMemory.usedBytes / 2 ** 30).toFixed(1)}/${(run.hostMemory.totalBytes / 2 ** 30).toFixed(1)} GiB`,
    );
  }
  if (run.workers) {
    lines.push(
      `  data workers: ${run.workers.count}, ${(run.workers.rssBytes / 2 ** 30).toFixed(2)} GiB RSS`,
    );
  }
  if (run.lastError)
    lines.push(`  last error (${run.lastError.at}): ${run.lastError.kind}: ${run.lastError.line}`);
  return `${lines.join("\n")}\n`;
}
