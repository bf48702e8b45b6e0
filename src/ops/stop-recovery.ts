import type { RunConfig } from "../config/schema.ts";
import { isSlurmEnded } from "../model/slurm-job.ts";
import type { JournalEntry } from "../store/operation-journal-repo.ts";
import type { OpsContext } from "./ops-context.ts";
import { findTrainingPids } from "./restart.ts";
import { cancelSlurmJob, liveSlurmJob } from "./slurm-stop.ts";
import { launchKind, STOPPED_ON_PURPOSE_MS } from "./stop-target.ts";
import { stopSystemdUnit, systemdUnitState, unitRuns } from "./systemd-unit.ts";

/** How an interrupted stop was finished. */
export interface StopSettled {
  /** Whether training still runs afterwards. */
  running: boolean;
  /** For people, after the "was interrupted" intro. */
  summary: string;
}

/**
 * Finishes a stop whose process died after it may have sent its stop (it is never undone by
 * starting training). A Slurm job or a systemd unit is stopped again if it still runs: scancel
 * and `systemctl stop` of a job or unit already stopping do no harm, so the stop rolls forward
 * as asked. Processes on a VM are not signalled blind; the notice says whether they still run.
 */
export async function settleInterruptedStop(
  ctx: OpsContext,
  run: RunConfig,
  entry: JournalEntry,
): Promise<StopSettled> {
  const launch = launchKind(run);
  switch (launch.kind) {
    case "slurm": {
      const confirmed = (entry.preview as { slurmJob?: unknown } | null)?.slurmJob;
      const stored =
        typeof confirmed === "string"
          ? ctx.slurmJobs.get(run.name, confirmed)
          : ctx.slurmJobs.current(run.name);
      if (!stored) return { running: false, summary: "No Slurm job of the run is known." };
      const node = { transport: ctx.remote(run).transport, run: launch.run, clock: ctx.clock };
      const jobId = stored.job.jobId;
      const live = await liveSlurmJob(node, jobId, stored.job);
      if (!live || isSlurmEnded(live.state)) {
        return {
          running: false,
          summary: `Slurm job ${jobId} ended (${live?.state ?? "gone from Slurm"}): training is stopped, as asked.`,
        };
      }
      ctx.transaction(() => {
        ctx.expectedStops.begin(run.name, ctx.clock.now(), ctx.clock.now() + STOPPED_ON_PURPOSE_MS);
        ctx.slurmJobs.noteCancelled(run.name, jobId);
      });
      const outcome = await cancelSlurmJob(
        {
          ...node,
          ...(ctx.options.sleep ? { sleep: ctx.options.sleep } : {}),
          ...(ctx.options.checkEveryMs ? { checkEveryMs: ctx.options.checkEveryMs } : {}),
        },
        jobId,
      );
      ctx.journalStep(run.name, "confirmed");
      return {
        running: false,
        summary: `Slurm job ${jobId} was still ${live.state}; cancelled it as asked (${outcome.state}).`,
      };
    }
    case "systemd": {
      const transport = ctx.remote(run).transport;
      const state = await systemdUnitState(transport, launch.unit);
      if (!unitRuns(state)) {
        return {
          running: false,
          summary: `Unit ${launch.unit} is ${state.activeState}: training is stopped, as asked.`,
        };
      }
      ctx.expectedStops.begin(run.name, ctx.clock.now(), ctx.clock.now() + STOPPED_ON_PURPOSE_MS);
      const after = await stopSystemdUnit(transport, state);
      ctx.transaction(() => {
        ctx.expectedStops.started(run.name, ctx.clock.now());
        ctx.journalStep(run.name, "confirmed");
      });
      return {
        running: unitRuns(after),
        summary: `Unit ${launch.unit} was still ${state.activeState}; stopped it as asked (now ${after.activeState}).`,
      };
    }
    case "process": {
      const running = (await findTrainingPids(ctx.remote(run).transport, run)).length > 0;
      return {
        running,
        summary: running
          ? "Training still runs; stop it again with /train stop."
          : "Training is stopped, as asked.",
      };
    }
  }
}
