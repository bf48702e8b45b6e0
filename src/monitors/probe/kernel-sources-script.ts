// biome-ignore-all lint/suspicious/noTemplateCurlyInString: these lines are sh holding ${VAR} expansions.
import { shellQuote } from "../../transport/shell-quote.ts";

/** Kernel lines worth classifying; everything else in the kernel log is skipped on the VM. */
export const KERNEL_PATTERN = "oom-kill|Out of memory|Killed process|NVRM: Xid|fallen off the bus";

/** Newest journal entries read when no cursor is known yet (first poll). */
const JOURNAL_FIRST_READ = 200;

/** What the kernel part of the probe needs from the last poll. */
export interface KernelSourcesRequest {
  /** Newest kernel stamp already handled (seconds since boot); null before the first poll. */
  kernelMark: number | null;
  /** The journal cursor of the last entry read; null when none. */
  journalCursor: string | null;
  /** The trainer of the last poll, whose cgroup membership is printed. */
  cgroupPid: number | null;
  /** Counter files (memory.events, memory.oom_control) of that cgroup to print. */
  cgroupFiles: readonly string[];
}

/**
 * POSIX sh printing the `kernel`, `cgroup` and `oom` probe sections (after the marker `$M`,
 * with `$up` holding the uptime). The kernel log is read from what the SSH user may read:
 * `dmesg` (refused under `kernel.dmesg_restrict=1`, the Debian and Ubuntu default, for
 * non-root), else the kernel journal (`journalctl -k`, for members of `systemd-journal` or
 * `adm`), else nothing; the first line says which (`source dmesg|journal|none`, with the
 * refusals). Only what is new is printed: dmesg lines stamped after the last mark (awk filters
 * them on the VM), journal entries after the last cursor. The trainer's cgroup OOM counters are
 * printed with builtins only, so they cost no process.
 */
export function kernelSourcesScript(request: KernelSourcesRequest): string {
  return [
    kernelLogScript(request),
    cgroupCountersScript(request.cgroupPid, request.cgroupFiles),
  ].join("\n");
}

/**
 * POSIX sh printing the `kernel` section alone (see {@link kernelSourcesScript}): what a host
 * probe reads once for every run of the host, each run keeping its own mark.
 */
export function kernelLogScript(
  request: Pick<KernelSourcesRequest, "kernelMark" | "journalCursor">,
): string {
  const mark = request.kernelMark === null ? "-1" : String(request.kernelMark);
  const cursor = request.journalCursor ?? "";
  return [
    `kp=${shellQuote(KERNEL_PATTERN)}; km=${mark}; jc=${shellQuote(cursor)}`,
    "nl='\n'",
    `printf '%s kernel\\n' "$M"`,
    "if kd=$(dmesg 2>&1); then",
    "  printf 'source dmesg\\n'",
    // A mark above the uptime means the VM rebooted since: every line is new then.
    '  printf \'%s\\n\' "$kd" | awk -v m="$km" -v up="${up:-0}" -v re="$kp" \'BEGIN { if (up + 0 < m + 0) m = -1 } $0 ~ re { s = $0; sub(/^\\[ */, "", s); sub(/\\].*$/, "", s); if (s + 0 > m + 0) print }\'',
    "else",
    '  ke=${kd%%"$nl"*}',
    '  if [ -n "$jc" ]; then jd=$(journalctl -k -b --no-pager -o short-monotonic --show-cursor "--after-cursor=$jc" 2>&1); js=$?',
    `  else jd=$(journalctl -k -b --no-pager -o short-monotonic --show-cursor -n ${JOURNAL_FIRST_READ} 2>&1); js=$?; fi`,
    // journalctl exits 0 when it may not read the system journal: its hints say so.
    '  case "$nl$jd" in',
    `    *"$nl"Hint:*|*"$nl"No\\ journal\\ files*|*insufficient\\ permissions*) js=1;; esac`,
    '  if [ "$js" = 0 ]; then',
    "    printf 'source journal\\n'",
    '    printf \'%s\\n\' "$jd" | grep -E -e "$kp" -e "^-- cursor: "',
    "  else",
    '    je=${jd%%"$nl"*}',
    "    printf 'source none\\n'",
    "    printf 'dmesg-error %s\\n' \"$ke\"",
    "    printf 'journal-error %s\\n' \"$je\"",
    "  fi",
    "fi",
  ].join("\n");
}

/**
 * POSIX sh printing the `cgroup` (the `/proc/PID/cgroup` lines of `pid`) and `oom` (`<file>
 * <key> <value>` lines of the counter files) probe sections, with builtins only.
 */
export function cgroupCountersScript(pid: number | null, cgroupFiles: readonly string[]): string {
  const files = cgroupFiles.map(shellQuote).join(" ");
  return [
    `printf '%s cgroup\\n' "$M"`,
    pid !== null && pid > 1
      ? `while IFS= read -r l; do printf '%s\\n' "$l"; done 2>/dev/null < /proc/${pid}/cgroup`
      : ":",
    `printf '%s oom\\n' "$M"`,
    files
      ? `for f in ${files}; do [ -r "$f" ] && while read -r k v; do printf '%s %s %s\\n' "$f" "$k" "$v"; done < "$f"; done`
      : ":",
  ].join("\n");
}
