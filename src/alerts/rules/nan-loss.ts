import { eventRule } from "./event-rule.ts";

/** The loss became NaN or inf: training diverged and every later step is wasted. */
export const nanLossRule = eventRule({
  name: "nan_loss",
  label: "NaN loss",
  kinds: ["nan_loss"],
  severity: "critical",
  offersStop: true,
  describe: (_event, ctx) => {
    const step = ctx.latestReachable()?.step;
    return {
      headline: "loss became NaN",
      facts: [
        `The loss is no longer a number${step !== null && step !== undefined ? ` (near step ${step})` : ""}; later steps learn nothing.`,
      ],
      fix: "Usual fix: a lower learning rate or gradient clipping, then resume from the last good checkpoint.",
    };
  },
});
