import { parseDuration } from "../../core/duration.ts";
import { InvalidArgumentError } from "../commander.ts";
import { CONFIG_OPTION_HELP, defaultConfigPath } from "../config-path.ts";
import type { RegisterCommand } from "./command.ts";

/**
 * `trainops digest [--run R] [--since 24h] [--json]`: the digest a channel would get now, from
 * the store: each run's steps, speed and ETA, phase results, alerts and cost since the last
 * digest sent (or the last 24 h). No VM access; nothing is sent.
 */
export const registerDigest: RegisterCommand = (program) => {
  program
    .command("digest")
    .description("Show the digest now: progress, speed, ETA, phases, alerts and cost of each run")
    .option("-r, --run <name>", "only this run")
    .option(
      "--since <duration>",
      "cover this long back (e.g. 24h, 7d) instead of since the last digest",
      sinceMs,
    )
    .option("-c, --config <file>", CONFIG_OPTION_HELP, defaultConfigPath())
    .option("--json", "print JSON (stable fields)")
    .action(async (options: { run?: string; since?: number; config: string; json?: boolean }) => {
      const [{ digestJson, digestMessage }, { renderText }, { formatDateTime }, cli, json] =
        await Promise.all([
          import("../../alerts/digest/digest-message.ts"),
          import("../../message/render-text.ts"),
          import("../../message/format.ts"),
          import("../cli-runtime.ts"),
          import("../json-output.ts"),
        ]);
      await cli.withCliRuntime(options.config, async (runtime) => {
        const runs = cli.selectRuns(runtime, options.run);
        const to = runtime.clock.now();
        const report = runtime.alerting.digest({
          runs,
          to,
          ...(options.since !== undefined ? { from: to - options.since } : {}),
        });
        const schedule = runtime.alerting.digestSchedule(to);
        if (options.json) {
          const next = schedule.map((s) => ({
            channel: s.channel,
            next: s.next === null ? null : new Date(s.next).toISOString(),
          }));
          process.stdout.write(
            json.toJsonText({ ...(digestJson(report) as object), schedule: next }),
          );
          return;
        }
        const timeZone = runtime.config.timezone;
        const when = schedule.map(
          (s) =>
            `${s.label} ${s.next === null ? "never (its schedule has no time in the next year)" : formatDateTime(s.next, s.timeZone)}`,
        );
        const tail = when.length
          ? `Next digest: ${when.join("; ")}`
          : 'No channel gets a digest yet: add digest: { at: "09:00" } to an alert channel (README: Digest and quiet hours).';
        process.stdout.write(`${renderText(digestMessage(report, { timeZone }))}\n${tail}\n`);
      });
    });
};

/** `--since`'s value in milliseconds; a usage error (exit 2) naming the flag when it is not a duration. */
function sinceMs(text: string): number {
  try {
    return parseDuration(text);
  } catch (error) {
    throw new InvalidArgumentError((error as Error).message);
  }
}
