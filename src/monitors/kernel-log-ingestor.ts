import type { Clock } from "../core/clock.ts";
import type { ClassifiedEvent } from "../model/monitoring.ts";
import type { MonitorStore } from "../store/monitor-store.ts";
import { newKernelLines } from "./kernel-lines.ts";
import {
  cgroupCounterFiles,
  type KernelSource,
  OomCounterWatch,
  parseKernelSection,
  parseOomCounters,
} from "./kernel-sources.ts";
import { classifyKernelLine } from "./parsers/error-classifier.ts";
import type { KernelSourcesRequest } from "./probe/kernel-sources-script.ts";
import { parseUptime } from "./probe/probe-figures.ts";
import type { ProbeOutput } from "./probe/probe-output.ts";

/** What a {@link KernelLogIngestor} needs: the run it attributes kernel news to, and its I/O. */
export interface KernelLogIngestorOptions {
  /** The run's name: its stored kernel mark and the events it is given. */
  run: string;
  store: MonitorStore;
  clock: Clock;
}

/** The probe sections the kernel's news is read from. */
export type KernelProbeSections = Pick<ProbeOutput, "kernel" | "cgroup" | "oom" | "uptime">;

/**
 * Reads one run's host kernel news incrementally, poll after poll: new OOM-killer and GPU (Xid,
 * fallen off the bus) lines from whichever kernel log the SSH user can read, else rises of the
 * trainer cgroup's `oom_kill` counter. What it read up to lives partly in the store (the
 * kernel mark, with the log offset) and partly here (the journal cursor, the trainer's cgroup
 * and its counters' baseline), so the next probe prints only what is new.
 */
export class KernelLogIngestor {
  /** Where the kernel journal was read up to (when it is the kernel log that can be read). */
  private journalCursor: string | null = null;
  /** The last trainer seen, and the OOM counter files of its cgroup. */
  private cgroupPid: number | null = null;
  private cgroupFiles: string[] = [];
  private readonly oomCounters = new OomCounterWatch();
  private lastSource: KernelSource | null = null;

  constructor(private readonly options: KernelLogIngestorOptions) {}

  /** The kernel log the last ingested probe could read; null before the first. */
  get source(): KernelSource | null {
    return this.lastSource;
  }

  /** What the kernel part of the next probe needs: where each kernel source was read up to. */
  probeRequest(): KernelSourcesRequest {
    const { run, store } = this.options;
    return {
      kernelMark: store.offsets.get(run)?.kernelMark ?? null,
      journalCursor: this.journalCursor,
      cgroupPid: this.cgroupPid,
      cgroupFiles: this.cgroupFiles,
    };
  }

  /**
   * Stores the kernel's news from one probe and returns its events: the lines past the stored
   * mark (a counter rise only when no kernel log could be read), and the new mark, in one
   * transaction. Remembers the journal cursor and `trainerPid`'s cgroup for the next probe.
   * Before the run's log position is stored (its first poll) nothing is stored.
   */
  ingest(sections: KernelProbeSections, trainerPid: number | null): ClassifiedEvent[] {
    const { run, store, clock } = this.options;
    const kernel = parseKernelSection(sections.kernel);
    this.lastSource = kernel.source;
    if (kernel.cursor) this.journalCursor = kernel.cursor;
    if (sections.cgroup.trim() !== "") this.cgroupFiles = cgroupCounterFiles(sections.cgroup);
    if (trainerPid !== null) this.cgroupPid = trainerPid;
    // Read every poll so the baseline holds; only news when no kernel log tells it better.
    const counted = this.oomCounters.update(parseOomCounters(sections.oom));
    const stored = store.offsets.get(run);
    if (!stored) return [];
    const { lines, mark } = newKernelLines(
      kernel.lines,
      stored.kernelMark,
      parseUptime(sections.uptime),
    );
    const events = lines
      .map((line) => classifyKernelLine(line.text))
      .filter((event): event is ClassifiedEvent => event !== null)
      .concat(kernel.source === "none" ? counted : []);
    const now = clock.now();
    store.transaction(() => {
      for (const event of events) store.events.insert(run, now, event);
      store.offsets.set(run, { ...stored, kernelMark: mark }, now);
    });
    return events;
  }
}
