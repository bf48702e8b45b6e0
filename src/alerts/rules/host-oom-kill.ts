import { eventRule, hostRamFact } from "./event-rule.ts";

/** The kernel's OOM killer ended a process: host RAM ran out, usually from data-loader workers. */
export const hostOomKillRule = eventRule({
  name: "host_oom_kill",
  label: "host OOM kill",
  kinds: ["host_oom_kill"],
  severity: "critical",
  peak: "host",
  describe: (event, ctx, peaks) => {
    const victim = event.detail?.process ?? event.detail?.comm;
    const pid = event.detail?.pid;
    const who = victim
      ? `${victim}${pid ? ` (pid ${pid})` : ""}`
      : pid
        ? `pid ${pid}`
        : "a process";
    return {
      headline: "host out of memory: the kernel killed a process",
      facts: [`The kernel's OOM killer killed ${who}.`, ...hostRamFact(ctx, event, peaks)],
      fix: "Usual fix: fewer data-loader workers (`training.workers`) or less RAM per worker.",
    };
  },
});
