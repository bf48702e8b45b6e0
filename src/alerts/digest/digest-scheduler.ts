import type { RunConfig } from "../../config/schema.ts";
import type { DigestPeriodsRepo } from "../../store/digest-periods-repo.ts";
import type { AlertLogger } from "../alert-engine.ts";
import type { ChannelSettings } from "../channel-settings.ts";
import type { AlertSink } from "../sinks/alert-sink.ts";
import { digestMessage } from "./digest-message.ts";
import { buildDigest, type DigestSources } from "./digest-report.ts";
import { latestDigestTime } from "./digest-schedule.ts";

export interface DigestSchedulerOptions {
  channels: ReadonlyMap<string, ChannelSettings>;
  periods: DigestPeriodsRepo;
  sources: DigestSources;
  runs: readonly RunConfig[];
  /** The sinks of this process, read at each check (front ends add theirs after start). */
  sinks: readonly AlertSink[];
  log: AlertLogger;
}

/**
 * Queues each channel's digest once per period through the outbox. The period is the schedule's
 * latest time at or before now; recording it and sealing the digest's batch (owed to that
 * channel alone) are one transaction, so a restart neither repeats a digest nor loses one it
 * missed while down (the latest missed period is sent, covering everything since the last).
 * A channel's first period is recorded without a digest: it marks where its digests begin.
 */
export class DigestScheduler {
  constructor(private readonly o: DigestSchedulerOptions) {}

  /** Seals the digests due at `now`; returns how many. */
  queueDue(now: number): number {
    let queued = 0;
    const present = new Set(this.o.sinks.map((s) => s.name));
    for (const channel of this.o.channels.values()) {
      if (!channel.digest || !present.has(channel.sink)) continue;
      const period = latestDigestTime(channel.digest, channel.digestTimeZone, now);
      if (period === null) continue;
      const last = this.o.periods.latest(channel.sink);
      if (last && last.periodAt >= period) continue;
      if (!last) {
        this.o.periods.record(channel.sink, period, now);
        continue;
      }
      const runs = this.o.runs.filter((r) => channel.digestRuns.includes(r.name));
      const report = buildDigest(this.o.sources, runs, last.periodAt, period);
      const message = digestMessage(report, { timeZone: channel.digestTimeZone });
      const batch = this.o.periods.record(channel.sink, period, now, {
        sink: channel.sink,
        message,
      });
      if (typeof batch === "number") {
        queued++;
        this.o.log.info(
          { channel: channel.sink, period: new Date(period).toISOString(), runs: runs.length },
          "digest queued",
        );
      }
    }
    return queued;
  }
}
