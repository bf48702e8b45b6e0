import type { Db } from "./database.ts";
import { EventsRepo } from "./events-repo.ts";
import { LogMatchesRepo } from "./log-matches-repo.ts";
import { LogOffsetsRepo } from "./log-offsets-repo.ts";
import { PollsRepo } from "./polls-repo.ts";
import { SampleRollupsRepo } from "./sample-rollups-repo.ts";
import { SamplesRepo } from "./samples-repo.ts";
import { SlurmJobsRepo } from "./slurm-jobs-repo.ts";
import { StepsRepo } from "./steps-repo.ts";

/** The repositories the monitor writes, and a way to group writes into one transaction. */
export interface MonitorStore {
  samples: SamplesRepo;
  /** Per-minute and per-hour roll-ups of the samples past the raw window. */
  sampleRollups: SampleRollupsRepo;
  events: EventsRepo;
  steps: StepsRepo;
  offsets: LogOffsetsRepo;
  polls: PollsRepo;
  /** Slurm jobs of runs that name one (absent in stores built without it). */
  slurmJobs?: SlurmJobsRepo;
  /** Log lines that matched the user's patterns (absent in stores built without it). */
  logMatches?: LogMatchesRepo;
  /** Runs `fn` in one SQLite transaction: all its writes land, or none. */
  transaction<T>(fn: () => T): T;
}

/** Builds the monitor's repositories over one database handle. */
export function createMonitorStore(db: Db): MonitorStore {
  return {
    samples: new SamplesRepo(db),
    sampleRollups: new SampleRollupsRepo(db),
    events: new EventsRepo(db),
    steps: new StepsRepo(db),
    offsets: new LogOffsetsRepo(db),
    polls: new PollsRepo(db),
    slurmJobs: new SlurmJobsRepo(db),
    logMatches: new LogMatchesRepo(db),
    transaction: (fn) => db.transaction(fn)(),
  };
}
