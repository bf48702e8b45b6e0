import { shellQuote } from "../../transport/shell-quote.ts";
import { GPU_QUERY_ARGS } from "../parsers/nvidia-smi-parser.ts";
import { kernelSourcesScript } from "./kernel-sources-script.ts";
import { type ProcessSetSpec, processSetScript } from "./process-set-script.ts";

/** What the probe needs to know to collect one poll's worth of state. */
export interface ProbeRequest {
  /** Absolute path of the training log on the VM. */
  logPath: string;
  /** Working directory of the run (free disk is measured there). */
  workdir: string;
  /** nvidia-smi command, usually just `nvidia-smi`. */
  nvidiaSmi: string;
  /** Inode the stored offset belongs to; null before the first attach. */
  inode: string | null;
  /** Bytes of the log already consumed. */
  offset: number;
  /** Hex of the bytes just before `offset` (see LogOffset.anchor); "" when none. */
  anchor: string;
  /** On first attach, read at most this many bytes from the end instead of the whole file. */
  backfillBytes: number;
  /** Read at most this many new bytes per poll; the rest comes next poll. */
  maxReadBytes: number;
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
}

const APPS_QUERY = "--query-compute-apps=pid,used_memory";
const CSV = "--format=csv,noheader,nounits";

/**
 * Builds the single POSIX sh script a poll runs. It prints delimited sections (`@@<nonce> name`)
 * and touches the log only from the stored offset: `tail -c +N` seeks, so the remote cost does
 * not grow with the log's size. Each section costs at most a process or two: the VM's CPUs feed
 * the data loader, and every fork there is taken from training.
 */
export function buildProbeScript(request: ProbeRequest): string {
  const mark = `@@${request.nonce}`;
  const smi = shellQuote(request.nvidiaSmi);
  return `LC_ALL=C; export LC_ALL
M=${shellQuote(mark)}
log=${shellQuote(request.logPath)}
prev_inode=${shellQuote(request.inode ?? "")}
off=${Math.max(0, Math.floor(request.offset))}
anchor=${shellQuote(/^[0-9a-f]*$/.test(request.anchor) ? request.anchor : "")}
k=$((\${#anchor} / 2))
backfill=${Math.max(0, Math.floor(request.backfillBytes))}
cap=${Math.max(1, Math.floor(request.maxReadBytes))}
printf '%s log\\n' "$M"
if st=$(stat -L -c '%i %s' -- "$log" 2>/dev/null); then
  inode=\${st% *}; size=\${st#* }
  if [ -z "$prev_inode" ]; then
    start=$((size > backfill ? size - backfill : 0)); reset=attach
  elif [ "$inode" != "$prev_inode" ]; then
    start=0; reset=rotated
  elif [ "$size" -lt "$off" ]; then
    start=0; reset=truncated
  else
    # Re-read the anchor bytes before the offset: the monitor compares them, which notices a
    # file rewritten past the old offset without another process here.
    start=$((off - k)); reset=none
  fi
  n=$((size - start)); [ "$n" -gt "$cap" ] && n=$cap
  printf 'present %s %s %s %s %s\\n' "$inode" "$size" "$start" "$n" "$reset"
  if [ "$n" -gt 0 ]; then tail -c +$((start + 1)) -- "$log" 2>/dev/null | head -c "$n"; fi
  printf '\\n'
else
  printf 'missing\\n'
fi
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
printf '%s end\\n' "$M"
`;
}
