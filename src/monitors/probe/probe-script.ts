import { shellQuote } from "../../transport/shell-quote.ts";
import { GPU_QUERY_ARGS } from "../parsers/nvidia-smi-parser.ts";
import { kernelSourcesScript } from "./kernel-sources-script.ts";
import { buildLogSection, type LogReadRequest } from "./log-section.ts";
import { type ProcessSetSpec, processSetScript } from "./process-set-script.ts";

/** What the probe needs to know to collect one poll's worth of state. */
export interface ProbeRequest extends LogReadRequest {
  /** Working directory of the run (free disk is measured there). */
  workdir: string;
  /** nvidia-smi command, usually just `nvidia-smi`. */
  nvidiaSmi: string;
  /** Ask for clock ticks and page size (they never change, so only on the first poll). */
  wantUnits: boolean;
  /** Matches the training process's command line (`process` in the run config). */
  process: string;
  /** The run's name, tmux session and systemd unit: what bounds its process set. */
  run: string;
  tmuxSession?: ProcessSetSpec["tmuxSession"];
  systemdUnit?: ProcessSetSpec["systemdUnit"];
  /** The SSH user's uid, once an earlier poll printed it. */
  uid?: number | null;
  /** Newest kernel-log stamp already handled (seconds since boot); null before the first. */
  kernelMark: number | null;
  /** Where the kernel journal was read up to, when it is the kernel log read. */
  journalCursor: string | null;
  /** The trainer of the last poll, whose cgroup membership is printed. */
  cgroupPid: number | null;
  /** OOM counter files of the trainer's cgroup (memory.events, memory.oom_control) to read. */
  cgroupFiles: readonly string[];
  /** Random token that frames sections; chosen per poll so log text cannot forge one. */
  nonce: string;
  /**
   * Shell run before the log is read, printing its own sections first; it may set `log` (the
   * Slurm job's StdOut) and define the command named by `nvidiaSmi`.
   */
  prelude?: string;
  /** Absolute path of the training config, when the run names one: is it readable? */
  trainConfig?: string;
}

const APPS_QUERY = "--query-compute-apps=pid,used_memory";
const CSV = "--format=csv,noheader,nounits";
/** nvidia-smi's arguments that list the GPUs' processes and their memory. */
export const APPS_QUERY_ARGS = `${APPS_QUERY} ${CSV}`;

/**
 * Builds the single POSIX sh script a poll runs. It prints delimited sections (`@@<nonce> name`)
 * and touches the log only from the stored offset: `tail -c +N` seeks, so the remote cost does
 * not grow with the log's size. Each section costs at most a process or two: the VM's CPUs feed
 * the data loader, and every fork there is taken from training.
 */
export function buildProbeScript(request: ProbeRequest): string {
  const mark = `@@${request.nonce}`;
  // An empty nvidiaSmi declares a VM without GPUs (a CPU job): nothing to query, no finding.
  const smi = request.nvidiaSmi.trim() === "" ? ":" : shellQuote(request.nvidiaSmi);
  return `LC_ALL=C; export LC_ALL
M=${shellQuote(mark)}
${request.prelude ?? ""}
${buildLogSection(request)}
printf '%s gpu\\n' "$M"
${smi} ${GPU_QUERY_ARGS} 2>&1; printf '\\n%s gpu-status %s\\n' "$M" "$?"
printf '%s apps\\n' "$M"
${smi} ${APPS_QUERY} ${CSV} 2>&1; printf '\\n%s apps-status %s\\n' "$M" "$?"
printf '%s meminfo\\n' "$M"
grep -E "^(MemTotal|MemFree|MemAvailable|Buffers|Cached):" /proc/meminfo 2>/dev/null
${processSetScript({
  run: request.run,
  workdir: request.workdir,
  process: request.process,
  tmuxSession: request.tmuxSession,
  systemdUnit: request.systemdUnit,
  uid: request.uid,
})}
printf '%s units\\n' "$M"
${request.wantUnits ? "getconf CLK_TCK 2>/dev/null; getconf PAGESIZE 2>/dev/null" : ""}
read -r up _ < /proc/uptime 2>/dev/null
${kernelSourcesScript(request)}
printf '%s disk\\n' "$M"
df -Pk -- ${shellQuote(request.workdir)} 2>/dev/null
printf '%s uptime\\n' "$M"
printf '%s\\n' "$up"
printf '%s trainconfig\\n' "$M"
${request.trainConfig ? `if [ -r ${shellQuote(request.trainConfig)} ]; then echo readable; else echo unreadable; fi` : ""}
printf '%s end\\n' "$M"
`;
}
