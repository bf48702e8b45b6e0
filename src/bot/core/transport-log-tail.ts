import type { RunConfig } from "../../config/schema.ts";
import { configuredLogPath } from "../../monitors/run-log-path.ts";
import { jobLogShell } from "../../monitors/slurm/job-log-lookup.ts";
import { shellQuote } from "../../transport/shell-quote.ts";
import type { Transport } from "../../transport/transport.ts";
import type { LogTailPort } from "./ports.ts";

/** Most bytes a tail reads from the VM, whatever `lines` says (one huge line stays bounded). */
const MAX_TAIL_BYTES = 64 * 1024;

/**
 * Reads the end of a run's log over its transport. The path comes from the config and is
 * quoted; `lines` is a validated integer, so nothing a person typed reaches the shell.
 */
export function transportLogTail(
  runs: readonly RunConfig[],
  transportFor: (run: string) => Transport,
): LogTailPort {
  return {
    async tail(runName: string, lines: number): Promise<string> {
      const run = runs.find((r) => r.name === runName);
      if (!run) throw new Error(`no run named '${runName}'`);
      const count = Math.max(1, Math.min(10_000, Math.trunc(lines)));
      const path = configuredLogPath(run);
      // A Slurm run without `log:` reads its job's StdOut, asked of scontrol in the same script.
      const setLog =
        path === null && run.slurm ? jobLogShell(run.slurm) : `log=${shellQuote(path ?? "")}`;
      const script = `${setLog}\nif [ -r "$log" ]; then tail -n ${count} -- "$log" | tail -c ${MAX_TAIL_BYTES}; else echo "cannot read \${log:-the Slurm job's log (no job found)}" >&2; exit 3; fi`;
      const result = await transportFor(runName).run(script);
      if (result.code !== 0)
        throw new Error(result.stderr.trim() || `tail exited with ${result.code}`);
      return result.stdout.toString("utf8");
    },
  };
}
