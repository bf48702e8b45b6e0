import type { Config } from "../config/schema.ts";
import type { RunSample } from "../model/monitoring.ts";
import type { AlertsRepo, ExpectedStop } from "../store/alerts-repo.ts";
import type { LogMatchesRepo } from "../store/log-matches-repo.ts";
import type { PollsRepo } from "../store/polls-repo.ts";
import type { SamplesRepo } from "../store/samples-repo.ts";
import type { SlurmJobsRepo } from "../store/slurm-jobs-repo.ts";
import type { RuleContext } from "./rules/rule.ts";

/** The stores and settings a {@link RuleContext} reads from. */
export interface RuleContextSources {
  alerts: AlertsRepo;
  samples: SamplesRepo;
  polls: PollsRepo;
  config: Config;
  phaseOf: (run: string) => string | null;
  /** Slurm jobs of runs that name one. */
  slurmJobs?: SlurmJobsRepo;
  /** Log lines that matched the user's patterns. */
  logMatches?: LogMatchesRepo;
}

/**
 * What the rules see of `run` at `now`. Every read is lazy and cached for this one evaluation:
 * a dozen rules ask for the same latest sample, and most evaluations need only a few of the
 * reads, so nothing is queried until a rule asks and nothing twice. What rules keep of the
 * samples' history are their facts (`RuleFactsBook`), not reads here.
 */
export function createRuleContext(
  sources: RuleContextSources,
  run: string,
  now: number,
): RuleContext {
  const o = sources;
  let latest: RunSample | null | undefined;
  let latestReachable: RunSample | null | undefined;
  let expectedStop: ExpectedStop | null | undefined;
  return {
    run,
    now,
    runConfig: o.config.runs.find((r) => r.name === run),
    phase: o.phaseOf(run),
    latest: () => {
      if (latest === undefined) latest = o.samples.latest(run);
      return latest;
    },
    latestReachable: () => {
      if (latestReachable === undefined) latestReachable = o.samples.latestReachable(run);
      return latestReachable;
    },
    latestEvent: (kinds) => o.alerts.latestEvent(run, kinds),
    lastPollError: () => {
      const poll = o.polls.recent(run, 1)[0];
      return poll && poll.outcome !== "ok" ? poll.message : null;
    },
    recentPolls: (limit) =>
      o.polls
        .recent(run, limit)
        .map((p) => ({ outcome: p.outcome, message: p.message, at: p.startedAt })),
    expectedStop: () => {
      if (expectedStop === undefined) expectedStop = o.alerts.expectedStop(run);
      return expectedStop;
    },
    slurmJob: () => o.slurmJobs?.current(run) ?? null,
    lineMatches: (pattern, from) =>
      o.logMatches?.since(run, pattern, from) ?? { count: 0, newest: null, oldestAt: null },
  };
}
