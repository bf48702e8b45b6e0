import { shellQuote } from "../../transport/shell-quote.ts";
import { GPU_QUERY_ARGS } from "../parsers/nvidia-smi-parser.ts";
import { buildLogSection, type LogReadRequest } from "./log-section.ts";

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
  /** Random token that frames sections; chosen per poll so log text cannot forge one. */
  nonce: string;
  /** Absolute path of the training config, when the run names one: is it readable? */
  trainConfig?: string;
}

const APPS_QUERY = "--query-compute-apps=pid,used_memory";
const CSV = "--format=csv,noheader,nounits";

/** Kernel lines worth classifying; everything else in dmesg is skipped on the VM. */
const KERNEL_PATTERN = "oom-kill|Out of memory|Killed process|NVRM: Xid|fallen off the bus";

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
${buildLogSection(request)}
printf '%s gpu\\n' "$M"
${smi} ${GPU_QUERY_ARGS} 2>&1; printf '\\n%s gpu-status %s\\n' "$M" "$?"
printf '%s apps\\n' "$M"
${smi} ${APPS_QUERY} ${CSV} 2>&1; printf '\\n%s apps-status %s\\n' "$M" "$?"
printf '%s meminfo\\n' "$M"
grep -E "^(MemTotal|MemFree|MemAvailable|Buffers|Cached):" /proc/meminfo 2>/dev/null
printf '%s ps\\n' "$M"
cat /proc/[0-9]*/stat 2>/dev/null
printf '%s args\\n' "$M"
grep -asF -- ${shellQuote(request.process)} /proc/[0-9]*/cmdline 2>/dev/null
printf '\\n%s units\\n' "$M"
${request.wantUnits ? "getconf CLK_TCK 2>/dev/null; getconf PAGESIZE 2>/dev/null" : ""}
printf '%s kernel\\n' "$M"
dmesg 2>/dev/null | grep -E ${shellQuote(KERNEL_PATTERN)}
printf '%s disk\\n' "$M"
df -Pk -- ${shellQuote(request.workdir)} 2>/dev/null
printf '%s uptime\\n' "$M"
read -r up _ < /proc/uptime 2>/dev/null && printf '%s\\n' "$up"
printf '%s trainconfig\\n' "$M"
${request.trainConfig ? `if [ -r ${shellQuote(request.trainConfig)} ]; then echo readable; else echo unreadable; fi` : ""}
printf '%s end\\n' "$M"
`;
}
