import * as z from "zod";
import { formatClock } from "../../message/format.ts";
import { baseSettings, defineRule } from "./rule.ts";
import { LOOKBACK_MS } from "./run-facts.ts";

/** The newest sample's time; the trailing run of failed polls (none: the VM answered last). */
interface ReachFacts {
  at: number | null;
  /** Failed polls in a row up to the newest, and when the first of them was. */
  count: number;
  since: number;
}

/** The VM has not answered `polls` polls in a row: a connection problem, not (yet) a dead run. */
export const unreachableRule = defineRule({
  name: "unreachable",
  label: "unreachable VM",
  settings: baseSettings({ severity: "critical", repeatInterval: "1h" }).extend({
    polls: z
      .number()
      .int()
      .min(1)
      .default(3)
      .describe("Alert after this many failed polls in a row"),
  }),
  // An outage is counted from its first failed poll, however long ago: it is one outage.
  facts: () => ({
    span: LOOKBACK_MS,
    init: (): ReachFacts => ({ at: null, count: 0, since: 0 }),
    add(f: ReachFacts, x) {
      if (!x.reachable) {
        if (f.count === 0) f.since = x.at;
        f.count++;
      } else f.count = 0;
      f.at = x.at;
    },
    copy: (f: ReachFacts): ReachFacts => ({ ...f }),
  }),
  evaluate(ctx, s, _open, facts) {
    if (facts.at === null || facts.at < ctx.now - LOOKBACK_MS) return "unknown";
    const { count, since } = facts;
    if (count === 0 || count < s.polls) return null;
    const error = ctx.lastPollError();
    const before = ctx.latestReachable();
    const lines = [
      `No answer to ${count} polls in a row since ${formatClock(since)}${error ? `: ${error}` : ""}.`,
      before
        ? `This is the connection, not necessarily training: at the last answer (${formatClock(before.at)}) the process was ${before.alive ? "alive" : before.alive === false ? "not running" : "unknown"}${before.step !== null ? ` at step ${before.step}` : ""}.`
        : "The VM has not answered since monitoring began.",
      "Next: check the VM is up in the cloud console, then `trainops check` for SSH and the host key.",
    ];
    return { headline: `VM unreachable for ${count} polls`, lines, since };
  },
  resolved(ctx) {
    const sample = ctx.latestReachable();
    if (!sample) return ["The VM answers again."];
    return [
      `The VM answers again; the training process is ${sample.alive ? "alive" : "not running"}${sample.step !== null ? ` at step ${sample.step}` : ""}.`,
    ];
  },
});
