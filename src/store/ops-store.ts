import { AuditRepo } from "./audit-repo.ts";
import { ChangeLocksRepo } from "./change-locks-repo.ts";
import { ConfigBackupsRepo } from "./config-backups-repo.ts";
import type { Db } from "./database.ts";
import { EventsRepo } from "./events-repo.ts";
import { ExpectedStopsRepo } from "./expected-stops-repo.ts";
import { NoticesRepo } from "./notices-repo.ts";
import { OperationJournalRepo } from "./operation-journal-repo.ts";
import { PhasesRepo } from "./phases-repo.ts";
import { PollsRepo } from "./polls-repo.ts";
import { SamplesRepo } from "./samples-repo.ts";
import { SlurmJobsRepo } from "./slurm-jobs-repo.ts";

/**
 * The repositories the operations and the phase engine read and write: the facts an operation
 * implies (expected stop, audit row, notices, journal) are written by the operation itself,
 * through these, in the same transactions as the state they describe.
 */
export interface OpsStore {
  phases: PhasesRepo;
  locks: ChangeLocksRepo;
  backups: ConfigBackupsRepo;
  samples: SamplesRepo;
  events: EventsRepo;
  polls: PollsRepo;
  audit: AuditRepo;
  notices: NoticesRepo;
  expectedStops: ExpectedStopsRepo;
  journal: OperationJournalRepo;
  /** A Slurm run's jobs: the restart resubmits and records the new job here. */
  slurmJobs: SlurmJobsRepo;
  /** Runs `fn` in one SQLite transaction: all its writes land, or none. */
  transaction<T>(fn: () => T): T;
}

/** Builds the operations' repositories over one database handle. */
export function createOpsStore(db: Db): OpsStore {
  return {
    phases: new PhasesRepo(db),
    locks: new ChangeLocksRepo(db),
    backups: new ConfigBackupsRepo(db),
    samples: new SamplesRepo(db),
    events: new EventsRepo(db),
    polls: new PollsRepo(db),
    audit: new AuditRepo(db),
    notices: new NoticesRepo(db),
    expectedStops: new ExpectedStopsRepo(db),
    journal: new OperationJournalRepo(db),
    slurmJobs: new SlurmJobsRepo(db),
    transaction: (fn) => db.transaction(fn)(),
  };
}
