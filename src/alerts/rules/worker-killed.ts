import { eventRule, hostRamFact } from "./event-rule.ts";

/** A DataLoader worker died from a signal: almost always the host's OOM killer. */
export const workerKilledRule = eventRule({
  name: "worker_killed",
  label: "killed worker",
  kinds: ["worker_killed"],
  severity: "critical",
  peak: "host",
  describe: (event, ctx, peaks) => {
    const signal = event.detail?.signal;
    return {
      headline: "a data-loader worker was killed",
      facts: [
        `A DataLoader worker was killed${signal ? ` by signal ${signal}` : ""}; this is usually the host running out of RAM.`,
        ...hostRamFact(ctx, event, peaks),
      ],
      fix: "Usual fix: fewer data-loader workers (`training.workers`) or less RAM per worker.",
    };
  },
});
