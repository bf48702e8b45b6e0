import * as z from "zod";
import { formatClock } from "../../message/format.ts";
import { baseSettings, defineRule } from "./rule.ts";
import { LOOKBACK_MS } from "./run-facts.ts";

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
  evaluate(ctx, s) {
    const samples = ctx.samplesSince(ctx.now - LOOKBACK_MS);
    const last = samples.at(-1);
    if (!last) return "unknown";
    if (last.reachable) return null;
    let first = samples.length - 1;
    while (first > 0 && !samples[first - 1]?.reachable) first--;
    const count = samples.length - first;
    if (count < s.polls) return null;
    const since = (samples[first] as (typeof samples)[number]).at;
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
