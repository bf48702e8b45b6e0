import type { Config, RunConfig } from "../config/schema.ts";
import type { RunSample } from "../model/monitoring.ts";
import type { SamplePosition, SamplesRepo } from "../store/samples-repo.ts";
import type { BoundRule, SampleFacts } from "./rules/rule.ts";
import { LOOKBACK_MS } from "./rules/run-facts.ts";

/** One run's facts: each rule's (by the rule's place in the list) and how far they read. */
interface RunEntry {
  position: SamplePosition;
  facts: unknown[];
}

/**
 * The facts each rule keeps of each run's samples (see {@link SampleFacts}), brought up to date
 * at every evaluation: the samples stored since the last one are folded in, one at a time, so an
 * evaluation costs one indexed read of the new rows (usually one) and memory per run stays what
 * the rules' facts hold, however long the run. A run seen for the first time (a started or
 * restarted daemon) has its facts rebuilt from as much of the stored history as the longest
 * `span` reaches. The newest sample a poll did not keep in the history is folded into copies,
 * for this evaluation only: the next poll replaces it.
 */
export class RuleFactsBook {
  private readonly runs = new Map<string, RunEntry>();
  private readonly keepers: Array<SampleFacts<unknown> | null>;
  /**
   * For each rule, the first rule with the same keeper or key (the crash and finish rules share
   * the alive streak's, error rules of one window the progress they read): that one's facts are
   * folded once per sample and handed to each.
   */
  private readonly owners: number[];
  private readonly span: number;
  private readonly configs: Map<string, RunConfig>;

  constructor(
    private readonly o: {
      rules: readonly BoundRule[];
      samples: SamplesRepo;
      config: Config;
      /** Told of a rule whose facts could not take a sample (the other rules' facts go on). */
      onError?: (rule: string, run: string, error: unknown) => void;
    },
  ) {
    this.keepers = o.rules.map((r) => (r.settings.enabled ? r.facts : null));
    this.owners = this.keepers.map((k) =>
      k ? this.keepers.findIndex((o) => o === k || (k.key !== undefined && o?.key === k.key)) : -1,
    );
    this.span = Math.max(LOOKBACK_MS, ...this.keepers.map((k) => k?.span ?? 0));
    this.configs = new Map(o.config.runs.map((r) => [r.name, r]));
  }

  /** Each rule's facts of `run` at `now`, in the order of the rules (undefined: it keeps none). */
  factsAt(run: string, now: number): unknown[] {
    const config = this.configs.get(run);
    let entry = this.runs.get(run);
    if (!entry) {
      entry = {
        position: { at: now - this.span, id: 0 },
        facts: this.shared(
          this.keepers.map((k, i) => (this.owners[i] === i ? k?.init() : undefined)),
        ),
      };
      this.runs.set(run, entry);
    }
    const facts = entry.facts;
    entry.position = this.o.samples.forEachAfter(run, entry.position, now, (sample) =>
      this.fold(facts, sample, config),
    );
    const newest = this.o.samples.newestUnkept(run);
    if (!newest || newest.at <= entry.position.at || newest.at > now) return facts;
    const copies = this.shared(
      this.keepers.map((k, i) => (k && this.owners[i] === i ? k.copy(facts[i]) : undefined)),
    );
    this.fold(copies, newest, config);
    return copies;
  }

  /** `facts` with each rule that shares a keeper given its owner's facts. */
  private shared(facts: unknown[]): unknown[] {
    for (const [i, owner] of this.owners.entries())
      if (owner !== i && owner >= 0) facts[i] = facts[owner];
    return facts;
  }

  private fold(facts: unknown[], sample: RunSample, config: RunConfig | undefined): void {
    for (let i = 0; i < this.keepers.length; i++) {
      if (this.owners[i] !== i) continue;
      try {
        this.keepers[i]?.add(facts[i], sample, config);
      } catch (error) {
        this.o.onError?.((this.o.rules[i] as BoundRule).name, sample.run, error);
      }
    }
  }
}
