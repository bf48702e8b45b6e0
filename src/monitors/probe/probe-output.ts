/** Why the probe started reading the log where it did. */
export type LogReset = "attach" | "rotated" | "truncated" | "none";

/** The log section of one probe run. */
export type ProbeLog =
  | { present: false }
  | {
      present: true;
      inode: string;
      size: number;
      /** Offset of the first byte in `bytes`. */
      start: number;
      bytes: Buffer;
      reset: LogReset;
    };

/** One probe run, split into its sections (text sections are UTF-8 decoded). */
export interface ProbeOutput {
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
  const logHead = Buffer.from(`${mark} log\n`);
  const gpuHead = Buffer.from(`\n${mark} gpu\n`);
  const logAt = stdout.indexOf(logHead);
  if (logAt < 0) throw new ProbeOutputError("probe output has no log section");
  const headerStart = logAt + logHead.length;
  const headerEnd = stdout.indexOf(0x0a, headerStart);
  const gpuAt = stdout.indexOf(gpuHead, headerStart);
  if (headerEnd < 0 || gpuAt < 0 || gpuAt < headerEnd) {
    throw new ProbeOutputError("probe output was cut short after the log section");
  }
  const header = stdout.subarray(headerStart, headerEnd).toString("utf8").split(" ");
  let log: ProbeLog = { present: false };
  if (header[0] === "present") {
    const [, inode, size, start, , reset] = header;
    log = {
      present: true,
      inode: inode ?? "",
      size: Number(size),
      start: Number(start),
      // The newline the script prints after the bytes opens the next marker, so it is excluded.
      bytes: stdout.subarray(headerEnd + 1, gpuAt),
      reset: (reset as LogReset) ?? "none",
    };
  }
  const rest = stdout.subarray(gpuAt + 1).toString("utf8");
  const sections = splitSections(rest, mark);
  if (!sections.has("end")) throw new ProbeOutputError("probe output was cut short");
  return {
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
