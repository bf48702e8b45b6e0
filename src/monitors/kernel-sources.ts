import { posix } from "node:path";
import type { ClassifiedEvent } from "../model/monitoring.ts";

/** Which kernel log the SSH user could read this poll. */
export type KernelSource = "dmesg" | "journal" | "none";

/** The probe's `kernel` section, read. */
export interface KernelSection {
  source: KernelSource;
  /** New matching kernel lines, as `[stamp] text` (the journal's host and `kernel:` cut). */
  lines: string;
  /** The journal's cursor after the last entry printed; null when none was printed. */
  cursor: string | null;
  /** Why dmesg and the journal could not be read (their first line of complaint). */
  dmesgError: string | null;
  journalError: string | null;
}

const JOURNAL_LINE = /^(\[\s*\d+\.\d+\])\s+\S+\s+kernel:\s?(.*)$/;

/** Reads the probe's `kernel` section (see kernelSourcesScript). */
export function parseKernelSection(text: string): KernelSection {
  const rows = text.split("\n");
  const head = /^source (dmesg|journal|none)$/.exec(rows[0]?.trim() ?? "");
  // An older probe printed bare dmesg lines: that is dmesg.
  const source: KernelSource = head ? (head[1] as KernelSource) : "dmesg";
  const lines: string[] = [];
  let cursor: string | null = null;
  let dmesgError: string | null = null;
  let journalError: string | null = null;
  for (const row of head ? rows.slice(1) : rows) {
    if (row.startsWith("-- cursor: ")) cursor = row.slice("-- cursor: ".length).trim();
    else if (row.startsWith("dmesg-error ")) dmesgError = row.slice(12).trim() || null;
    else if (row.startsWith("journal-error ")) journalError = row.slice(14).trim() || null;
    else if (row.trim() !== "") {
      const journal = source === "journal" ? JOURNAL_LINE.exec(row) : null;
      lines.push(journal ? `${journal[1]} ${journal[2]}` : row);
    }
  }
  return { source, lines: lines.join("\n"), cursor, dmesgError, journalError };
}

/**
 * The OOM counter files of the cgroups in `/proc/PID/cgroup` text: `memory.events` under the
 * unified hierarchy (cgroup v2, `0::/path`), `memory.oom_control` under the v1 memory
 * controller (`N:memory:/path`). Both count processes the OOM killer ended in that cgroup.
 */
export function cgroupCounterFiles(cgroupText: string, root = "/sys/fs/cgroup"): string[] {
  const files: string[] = [];
  for (const line of cgroupText.split("\n")) {
    const match = /^\d+:([^:]*):(\/.*)$/.exec(line.trim());
    if (!match) continue;
    const [, controllers = "", path = "/"] = match;
    if (controllers === "") files.push(posix.join(root, path, "memory.events"));
    else if (controllers.split(",").includes("memory")) {
      files.push(posix.join(root, "memory", path, "memory.oom_control"));
    }
  }
  return files;
}

/** `oom_kill` per counter file from the probe's `oom` section (`<file> <key> <value>` lines). */
export function parseOomCounters(text: string): Map<string, number> {
  const counters = new Map<string, number>();
  for (const line of text.split("\n")) {
    const match = /^(\S+) oom_kill (\d+)$/.exec(line.trim());
    if (match) counters.set(match[1] as string, Number(match[2]));
  }
  return counters;
}

/**
 * Turns rises of cgroup `oom_kill` counters into host-OOM events. The first reading of a file
 * is its baseline (kills before we watched are history); a file that disappears is forgotten.
 */
export class OomCounterWatch {
  private readonly last = new Map<string, number>();

  /** The events for the rises since the last reading. */
  update(counters: ReadonlyMap<string, number>): ClassifiedEvent[] {
    const events: ClassifiedEvent[] = [];
    for (const [file, value] of counters) {
      const before = this.last.get(file);
      this.last.set(file, value);
      if (before === undefined || value <= before) continue;
      const kills = value - before;
      const cgroup = posix.dirname(file).replace(/^\/sys\/fs\/cgroup(\/memory)?/, "") || "/";
      events.push({
        kind: "host_oom_kill",
        line: `the OOM killer ended ${kills} process${kills === 1 ? "" : "es"} in the trainer's cgroup ${cgroup} (oom_kill ${before} → ${value})`,
        lineNumber: null,
        source: "kernel",
        detail: { source: "cgroup", cgroup, kills },
      });
    }
    for (const file of [...this.last.keys()]) if (!counters.has(file)) this.last.delete(file);
    return events;
  }
}

/** What to grant the SSH user so a host OOM kill can be seen, for `trainops check`. */
export const KERNEL_LOG_GRANT =
  "grant one: `sysctl kernel.dmesg_restrict=0` (as root), or add the SSH user to the `systemd-journal` or `adm` group (journalctl -k)";
