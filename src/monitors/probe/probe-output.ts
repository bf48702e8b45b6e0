import { parseLogSections } from "./log-section.ts";

/** Why the probe started reading the log where it did. */
export type LogReset = "attach" | "rotated" | "truncated" | "none";

/** The log section of one probe run. */
export type ProbeLog =
  | {
      present: false;
      /** The file exists, but the unread end of the rotated one must be read first. */
      deferred?: boolean;
    }
  | {
      present: true;
      inode: string;
      size: number;
      /** Offset of the first byte in `bytes`. */
      start: number;
      bytes: Buffer;
      /**
       * Bytes the probe meant to send (its look at the file's size); fewer arrive when the file
       * was truncated between that look and the read.
       */
      announced?: number;
      /** The file's start or size was not the same after the read: its bytes may mix two files. */
      changed?: boolean;
      reset: LogReset;
      /** Length and `cksum` CRC of the file's first bytes (up to 4 KiB), when measured. */
      prefix?: { length: number; sum: string };
      /** `inode size mtime` of the rotated file when this was read ("" when none). */
      rotatedStamp?: string;
    };

/** One probe run, split into its sections (text sections are UTF-8 decoded). */
export interface ProbeOutput {
  /** The unread end of the file the offset belongs to, found rotated or copied; read first. */
  logRest: (ProbeLog & { present: true }) | null;
  log: ProbeLog;
  gpu: { text: string; status: number | null };
  apps: { text: string; status: number | null };
  meminfo: string;
  /** The probe script's own pid. */
  self: string;
  /** How the run's process set was bounded, and its anchor pids (see processSetScript). */
  scope: string;
  /** Pids of the user's processes working in the run's workdir. */
  wd: string;
  /** Raw /proc/[pid]/stat lines of the run's candidate processes. */
  ps: string;
  /** `/proc/<pid>/cmdline:<args>` lines of the candidates working in the run's workdir. */
  args: string;
  /** `source dmesg|journal|none`, then the new kernel lines (see kernelSourcesScript). */
  kernel: string;
  /** The last trainer's `/proc/PID/cgroup` lines. */
  cgroup: string;
  /** `<file> <key> <value>` lines of the trainer cgroup's OOM counters. */
  oom: string;
  disk: string;
  uptime: string;
  /** `getconf CLK_TCK` and `getconf PAGESIZE`, one a line. */
  units: string;
  /** `readable` or `unreadable` for the run's training config; "" when it names none. */
  trainConfig: string;
}

/** Raised when probe output is not what the script prints (cut short, another shell's noise). */
export class ProbeOutputError extends Error {
  override readonly name = "ProbeOutputError";
}

/**
 * Splits the probe's stdout. The log bytes are taken verbatim up to the next section marker,
 * which carries a per-poll random nonce, so no log content can end the section early.
 */
export function parseProbeOutput(stdout: Buffer, nonce: string): ProbeOutput {
  const mark = `@@${nonce}`;
  let logSections: ReturnType<typeof parseLogSections>;
  try {
    logSections = parseLogSections(stdout, mark);
  } catch (error) {
    throw new ProbeOutputError((error as Error).message);
  }
  const { log, rest: logRest, end: gpuAt } = logSections;
  if (!stdout.subarray(gpuAt, gpuAt + mark.length + 6).equals(Buffer.from(`\n${mark} gpu\n`))) {
    throw new ProbeOutputError("probe output was cut short after the log section");
  }
  const rest = stdout.subarray(gpuAt + 1).toString("utf8");
  const sections = splitSections(rest, mark);
  if (!sections.has("end")) throw new ProbeOutputError("probe output was cut short");
  return {
    logRest,
    log,
    gpu: { text: sections.get("gpu") ?? "", status: statusOf(sections, "gpu-status") },
    apps: { text: sections.get("apps") ?? "", status: statusOf(sections, "apps-status") },
    meminfo: sections.get("meminfo") ?? "",
    self: sections.get("self") ?? "",
    scope: sections.get("scope") ?? "",
    wd: sections.get("wd") ?? "",
    ps: sections.get("ps") ?? "",
    args: sections.get("args") ?? "",
    kernel: sections.get("kernel") ?? "",
    cgroup: sections.get("cgroup") ?? "",
    oom: sections.get("oom") ?? "",
    disk: sections.get("disk") ?? "",
    uptime: sections.get("uptime") ?? "",
    units: sections.get("units") ?? "",
    trainConfig: (sections.get("trainconfig") ?? "").trim(),
  };
}

/** Splits text printed as `<mark> name [first line]` sections into name → body. */
export function splitSections(text: string, mark: string): Map<string, string> {
  const sections = new Map<string, string>();
  let name: string | null = null;
  let body: string[] = [];
  const close = () => {
    if (name !== null) sections.set(name, body.join("\n").replace(/\n+$/, ""));
  };
  for (const line of text.split("\n")) {
    if (line.startsWith(`${mark} `)) {
      close();
      const words = line.slice(mark.length + 1).split(" ");
      name = words[0] ?? "";
      body = words.length > 1 ? [words.slice(1).join(" ")] : [];
      continue;
    }
    body.push(line);
  }
  close();
  return sections;
}

function statusOf(sections: Map<string, string>, name: string): number | null {
  const value = sections.get(name);
  if (value === undefined || value.trim() === "") return null;
  const n = Number(value.trim());
  return Number.isFinite(n) ? n : null;
}
