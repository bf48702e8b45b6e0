import type { RunConfig } from "../../config/schema.ts";
import type { RunRemote } from "../../transport/run-remote.ts";
import type { LogTailPort } from "./ports.ts";

/**
 * `/train logs`: the end of a run's log, read through the run's remote side (which quotes the
 * configured path and bounds the read; `lines` is a validated integer, so nothing a person typed
 * reaches the shell).
 */
export function transportLogTail(
  runs: readonly RunConfig[],
  remoteFor: (run: RunConfig) => RunRemote,
): LogTailPort {
  return {
    async tail(runName: string, lines: number): Promise<string> {
      const run = runs.find((r) => r.name === runName);
      if (!run) throw new Error(`no run named '${runName}'`);
      return remoteFor(run).tailLog(lines);
    },
  };
}
