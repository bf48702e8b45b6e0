import { formatDuration } from "../../core/duration.ts";
import type { SlurmRunStatus } from "./slurm-status.ts";

/**
 * The Slurm job for people, one fact a line: queue state and reason while pending
 * ("pending 2 h 10 min: Resources"), nodes and GPUs per node and the time left while running,
 * how it ended, and the job ids across restarts.
 */
export function slurmStatusLines(status: SlurmRunStatus): string[] {
  const lines: string[] = [];
  const id = `Slurm job ${status.jobId}`;
  if (status.state === "PENDING") {
    const waited =
      status.pendingSeconds !== null ? ` ${formatDuration(status.pendingSeconds * 1000)}` : "";
    lines.push(`${id}: pending${waited}${status.reason ? `: ${status.reason}` : ""}`);
  } else if (status.state === "RUNNING") {
    lines.push(`${id}: running on ${nodesWithGpus(status)}`);
    if (status.timeLimitSeconds !== null) {
      lines.push(
        `time left: ${formatDuration((status.timeLeftSeconds ?? 0) * 1000)} of ${formatDuration(status.timeLimitSeconds * 1000)} (ran ${formatDuration(status.elapsedSeconds * 1000)})`,
      );
    } else {
      lines.push(`no time limit (ran ${formatDuration(status.elapsedSeconds * 1000)})`);
    }
  } else {
    const exit =
      status.exitCode !== null && status.exitCode !== 0 ? `, exit code ${status.exitCode}` : "";
    const reason = status.reason ? `: ${status.reason}` : "";
    lines.push(
      `${id}: ${status.state}${exit}${reason}${status.nodes.length ? ` (ran ${formatDuration(status.elapsedSeconds * 1000)} on ${status.nodes.join(", ")})` : ""}`,
    );
  }
  if (status.jobIds.length > 1 || status.restarts > 0) {
    lines.push(
      `job ids: ${status.jobIds.join(" → ")} (${status.restarts} restart${status.restarts === 1 ? "" : "s"})`,
    );
  }
  return lines;
}

function nodesWithGpus(status: SlurmRunStatus): string {
  if (status.nodes.length === 0) return "no nodes yet";
  const counts = status.nodes.map((node) => status.gpusPerNode[node]);
  const same = counts.every((c) => c === counts[0]);
  const plural = `${status.nodes.length} node${status.nodes.length === 1 ? "" : "s"}`;
  if (counts[0] !== undefined && same) {
    return `${plural} (${status.nodes.join(", ")}), ${counts[0]} GPU${counts[0] === 1 ? "" : "s"} each`;
  }
  return `${plural}: ${status.nodes.map((n) => `${n} (${status.gpusPerNode[n] ?? "?"} GPUs)`).join(", ")}`;
}
