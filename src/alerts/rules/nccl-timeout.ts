import { eventRule } from "./event-rule.ts";

/** A collective operation timed out: one rank hung or died and the others waited. */
export const ncclTimeoutRule = eventRule({
  name: "nccl_timeout",
  label: "NCCL timeout",
  kinds: ["nccl_timeout"],
  severity: "critical",
  describe: () => ({
    headline: "NCCL collective timed out",
    facts: ["A distributed collective (all-reduce or similar) did not complete in time."],
    fix: "Next: find the rank that hung or died first in its own log; raise the timeout only if steps are legitimately that slow.",
  }),
});
