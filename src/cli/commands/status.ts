import type { RunConfig } from "../../config/schema.ts";
import {
  formatCount,
  formatDateTime,
  formatDuration,
  formatGiB,
  formatMoney,
  formatSeconds,
  formatShare,
  GIB,
  mibToGiB,
} from "../../message/format.ts";
import { describeError } from "../../model/error-kind-labels.ts";
import type { RunCost } from "../../model/run-cost.ts";
import type { RunStatus } from "../../monitors/run-status.ts";
import { slurmStatusLines } from "../../monitors/slurm/slurm-status-lines.ts";
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
      const [{ readRunStatus }, { selectRuns, withCliRuntime }] = await Promise.all([
        import("../../monitors/run-status.ts"),
        import("../cli-runtime.ts"),
      ]);
      await withCliRuntime(options.config, async (runtime) => {
        const now = Date.now();
        const runs = selectRuns(runtime, options.run).map((name) =>
          readRunStatus(runtime.monitoring.store, name, {
            ...runConfigOf(runtime.config.runs, name),
            now,
          }),
        );
        process.stdout.write(
          options.json
            ? toJsonText({ runs })
            : runs.map((run) => formatStatus(run, runtime.config.timezone)).join("\n"),
        );
      });
    });
};

function runConfigOf(runs: readonly RunConfig[], name: string): { run?: RunConfig } {
  const run = runs.find((r) => r.name === name);
  return run ? { run } : {};
}

function formatStatus(run: RunStatus, timeZone: string | undefined): string {
  if (run.lastPollAt === null) {
    return `${run.name}: no polls yet — run \`trainops poll --once --run ${run.name}\`\n`;
  }
  const lines = [
    `${run.name} (last poll ${formatDateTime(Date.parse(run.lastPollAt), timeZone)}, ${run.reachable ? "reachable" : "UNREACHABLE"})`,
  ];
  const step = run.step === null ? "?" : formatCount(run.step);
  const total = run.totalSteps === null ? "" : `/${formatCount(run.totalSteps)}`;
  const pct =
    run.step !== null && run.totalSteps ? ` (${formatShare(run.step, run.totalSteps)})` : "";
  if (run.slurm) lines.push(...slurmStatusLines(run.slurm).map((line) => `  ${line}`));
  lines.push(`  step ${step}${total}${pct}`);
  if (run.stepTimeSeconds !== null) {
    const eta = run.etaSeconds === null ? "" : `, ETA ${formatDuration(run.etaSeconds * 1000)}`;
    // `~`: timed by the monitor from when it saw the steps arrive; the log prints no rate.
    const about = run.stepTimeObserved ? "~" : "";
    const rate =
      run.stepsPerHour === null ? "" : `, ${about}${formatCount(run.stepsPerHour)} steps/h`;
    const note = run.stepTimeObserved ? " (timed from log arrival: the log prints no rate)" : "";
    lines.push(`  ${about}${formatSeconds(run.stepTimeSeconds)}/step${rate}${eta}${note}`);
  }
  if (!run.slurm) {
    lines.push(
      `  training process: ${run.alive === null ? "unknown" : run.alive ? "alive" : "not running"}`,
    );
  }
  for (const gpu of run.gpus) {
    const used = gpu.memoryUsedMiB === null ? "?" : mibToGiB(gpu.memoryUsedMiB).toFixed(1);
    const cap = gpu.memoryTotalMiB === null ? "?" : mibToGiB(gpu.memoryTotalMiB).toFixed(1);
    lines.push(
      `  ${gpu.node ? `${gpu.node} ` : ""}GPU ${gpu.index}: ${used}/${cap} GiB, ${gpu.utilizationPercent ?? "?"}% util`,
    );
  }
  if (run.hostMemory) {
    lines.push(
      `  host RAM: ${(run.hostMemory.usedBytes / GIB).toFixed(1)}/${formatGiB(run.hostMemory.totalBytes)}`,
    );
  }
  if (run.workers) {
    lines.push(
      `  data workers: ${run.workers.count}, worker RSS ${formatGiB(run.workers.rssBytes)}`,
    );
  }
  if (run.lastError)
    lines.push(
      `  last error (${formatDateTime(Date.parse(run.lastError.at), timeZone)}): ${describeError(run.lastError.kind, run.lastError.line)}`,
    );
  if (run.cost) {
    const money = (v: number) => formatMoney(v, (run.cost as RunCost).currency);
    const soFar = run.cost.soFar === null ? "" : `${money(run.cost.soFar)} so far, `;
    const toFinish =
      run.cost.toFinish === null ? "no ETA yet" : `${money(run.cost.toFinish)} to finish`;
    lines.push(`  cost: ${soFar}${toFinish} at ${money(run.cost.perHour)}/h`);
  }
  return `${lines.join("\n")}\n`;
}
