import { formatDuration } from "../../core/duration.ts";
import type { PollReport } from "../../monitors/run-monitor.ts";
import { CONFIG_OPTION_HELP, defaultConfigPath } from "../config-path.ts";
import { toJsonText } from "../json-output.ts";
import type { RegisterCommand } from "./command.ts";

/**
 * `trainops poll --once [--run NAME]`: one poll of each run, printed. Exits 1 when a VM did not
 * answer or a poll was degraded (the log, the training config or nvidia-smi missing), so a
 * system cron can serve instead of the daemon and notices either.
 */
export const registerPoll: RegisterCommand = (program, setExitCode) => {
  program
    .command("poll")
    .description("Poll runs once: progress, memory, errors; store them and print what was found")
    .option("--once", "poll once and exit (the only mode; the daemon polls on a schedule)")
    .option("-r, --run <name>", "only this run")
    .option("-c, --config <file>", CONFIG_OPTION_HELP, defaultConfigPath())
    .option("--json", "print JSON")
    .action(async (options: { run?: string; config: string; json?: boolean }) => {
      const { selectRuns, withCliRuntime } = await import("../cli-runtime.ts");
      await withCliRuntime(
        options.config,
        async (runtime) => {
          const { hostPolling } = await import("../../runtime/host-polling.ts");
          const monitors = selectRuns(runtime, options.run).flatMap((name) => {
            const monitor = runtime.monitoring.monitors.get(name);
            return monitor ? [monitor] : [];
          });
          // One probe per host: runs sharing a connection are polled together.
          const byName = new Map(
            (await hostPolling(runtime.monitoring.store, runtime.clock).pollAll(monitors)).map(
              (report) => [report.run, report],
            ),
          );
          const reports: PollReport[] = monitors.flatMap((m) => {
            const report = byName.get(m.name);
            return report ? [report] : [];
          });
          if (reports.some((r) => r.outcome !== "ok")) setExitCode(1);

          process.stdout.write(
            options.json ? toJsonText(reports) : reports.map(formatReport).join("\n"),
          );
          // Rules run and due alerts go out before exit, so a system cron can stand in for the
          // daemon. With --json, alert text goes to stderr and stdout stays parseable.
          const { alerting, operations } = runtime;
          for (const report of reports) {
            alerting.evaluate(report.run);
            // The phase plan moves on from cron polls too; its verdicts join the alerts below.
            await operations.engine.tick(report.run);
          }
          await alerting.deliverDue();
        },
        { alertStream: options.json ? process.stderr : process.stdout },
      );
    });
};

function formatReport(report: PollReport): string {
  const s = report.sample;
  if (report.outcome !== "ok" && report.outcome !== "degraded") {
    return `${report.run}: ${report.outcome} after ${report.durationMs} ms — ${report.message ?? ""}\n`;
  }
  const lines = [
    report.outcome === "degraded"
      ? `${report.run}: degraded (polled in ${report.durationMs} ms) — ${report.message ?? ""}`
      : `${report.run}: polled in ${report.durationMs} ms`,
  ];
  const total = s.totalSteps ? `/${s.totalSteps}` : "";
  lines.push(
    `  step ${s.step ?? "?"}${total}` +
      (s.stepTimeSeconds !== null ? `, ${s.stepTimeSeconds.toFixed(1)} s/step` : "") +
      (s.stepsPerHour !== null ? `, ${Math.round(s.stepsPerHour)} steps/h` : "") +
      (s.etaSeconds !== null ? `, ETA ${formatDuration(s.etaSeconds * 1000)}` : ""),
  );
  lines.push(
    `  training process: ${s.alive === null ? "unknown" : s.alive ? "alive" : "not running"}`,
  );
  for (const gpu of s.gpus) {
    lines.push(
      `  GPU ${gpu.index} ${gpu.name}: ${gib(gpu.memoryUsedMiB, 2 ** 20)}/${gib(gpu.memoryTotalMiB, 2 ** 20)} GiB, ${gpu.utilizationPercent ?? "?"}% util`,
    );
  }
  if (s.gpus.length === 0) lines.push("  GPU: none reported by nvidia-smi");
  if (s.hostMemory) {
    lines.push(`  host RAM: ${gib(s.hostMemory.usedBytes)}/${gib(s.hostMemory.totalBytes)} GiB`);
  }
  if (s.workers) {
    lines.push(`  data workers: ${s.workers.count}, ${gib(s.workers.rssBytes)} GiB RSS`);
  }
  for (const event of report.events) lines.push(`  ${event.kind}: ${event.line}`);
  if (report.message && report.outcome === "ok") lines.push(`  note: ${report.message}`);
  return `${lines.join("\n")}\n`;
}

function gib(value: number | null, unit = 1): string {
  if (value === null) return "?";
  return ((value * unit) / 2 ** 30).toFixed(1);
}
