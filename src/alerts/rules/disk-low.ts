import * as z from "zod";
import { formatGiB } from "../../message/format.ts";
import { baseSettings, defineRule } from "./rule.ts";

/** The work directory's disk is nearly full: checkpoints and logs are about to fail. */
export const diskLowRule = defineRule({
  name: "disk_low",
  label: "low disk",
  settings: baseSettings({ severity: "warning", repeatInterval: "6h" }).extend({
    minFreeGiB: z.number().min(0).default(20).describe("Alert under this much free disk, GiB"),
  }),
  evaluate(ctx, s) {
    const latest = ctx.latest();
    if (!latest?.reachable || latest.diskFreeBytes === null) return "unknown";
    if (latest.diskFreeBytes >= s.minFreeGiB * 1024 ** 3) return null;
    return {
      headline: `disk almost full: ${formatGiB(latest.diskFreeBytes)} free`,
      lines: [
        `The work directory's disk has ${formatGiB(latest.diskFreeBytes)} free (alert under ${s.minFreeGiB} GiB); checkpoint and log writes fail when it fills.`,
        "Next: delete old checkpoints or grow the disk.",
      ],
    };
  },
  resolved(ctx) {
    const free = ctx.latestReachable()?.diskFreeBytes;
    return free !== null && free !== undefined ? [`${formatGiB(free)} free now.`] : [];
  },
});
