import type { RunConfig } from "../../config/schema.ts";
import { configuredLogPath } from "../../monitors/run-log-path.ts";
import { jobLogShell } from "../../monitors/slurm/job-log-lookup.ts";
import type { RunRemote } from "../../transport/run-remote.ts";
import type { LogTailPort } from "./ports.ts";

/** Most bytes a Slurm job-log tail reads from the VM, as RunRemote.tailLog bounds its own. */
const MAX_TAIL_BYTES = 64 * 1024;

/**
 * `/train logs`: the end of a run's log, read through the run's remote side (which quotes the
 * configured path and bounds the read; `lines` is a validated integer, so nothing a person typed
 * reaches the shell). A Slurm run without `log:` reads its job's StdOut, found by scontrol.
 */
export function transportLogTail(
  runs: readonly RunConfig[],
  remoteFor: (run: RunConfig) => RunRemote,
): LogTailPort {
  return {
    async tail(runName: string, lines: number): Promise<string> {
      const run = runs.find((r) => r.name === runName);
      if (!run) throw new Error(`no run named '${runName}'`);
      const path = configuredLogPath(run);
      if (path !== null || !run.slurm) return remoteFor(run).tailLog(lines);
      // A Slurm run without `log:` reads its job's StdOut, asked of scontrol in the same script.
      const count = Math.max(1, Math.min(10_000, Math.trunc(lines)));
      const script = `${jobLogShell(run.slurm)}\nif [ -r "$log" ]; then tail -n ${count} -- "$log" | tail -c ${MAX_TAIL_BYTES}; else echo "cannot read \${log:-the Slurm job's log (no job found)}" >&2; exit 3; fi`;
      const result = await remoteFor(run).transport.run(script);
      if (result.code !== 0)
        throw new Error(result.stderr.trim() || `tail exited with ${result.code}`);
      return result.stdout.toString("utf8");
    },
  };
}
