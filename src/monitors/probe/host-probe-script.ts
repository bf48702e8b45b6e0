import { shellQuote } from "../../transport/shell-quote.ts";
import { GPU_QUERY_ARGS } from "../parsers/nvidia-smi-parser.ts";
import { buildHostLogCheck, buildLogBatch, planLogBatches } from "./host-log-batch.ts";
import { cgroupCountersScript, kernelLogScript } from "./kernel-sources-script.ts";
import { BATCH_FDS, buildLogSection, LOG_READ_FUNCTIONS } from "./log-section.ts";
import { APPS_QUERY_ARGS, type ProbeRequest } from "./probe-script.ts";
import { hostProcessesScript, processSetScript } from "./process-set-script.ts";

/** One run's part of a host probe: what {@link buildProbeScript} would ask for it alone. */
export type HostProbeRun = Omit<ProbeRequest, "nonce" | "prelude">;

/** What one probe of a host (every run on one connection) needs. */
export interface HostProbeRequest {
  /** Random token that frames sections; chosen per probe so log text cannot forge one. */
  nonce: string;
  /** The runs, in the order their parts are printed. */
  runs: readonly HostProbeRun[];
}

/** Where a host probe printed the facts a run shares with the other runs of its host. */
export interface HostProbePlan {
  /** Per run: index of its nvidia-smi command among {@link HostProbePlan.smis}. */
  smiOf: number[];
  /** The distinct nvidia-smi commands, each queried once. */
  smis: string[];
  /** Per run: index of its workdir among {@link HostProbePlan.workdirs}. */
  workdirOf: number[];
  /** The distinct workdirs, whose free disk one `df` reads. */
  workdirs: string[];
}

/** How the runs' host-wide facts are shared: one query per distinct command and workdir. */
export function planHostProbe(runs: readonly HostProbeRun[]): HostProbePlan {
  const smis: string[] = [];
  const workdirs: string[] = [];
  const indexIn = (list: string[], value: string) => {
    const at = list.indexOf(value);
    if (at >= 0) return at;
    list.push(value);
    return list.length - 1;
  };
  const smiOf = runs.map((run) => indexIn(smis, run.nvidiaSmi.trim()));
  const workdirOf = runs.map((run) => indexIn(workdirs, run.workdir));
  return { smiOf, smis, workdirOf, workdirs };
}

/**
 * Builds the one POSIX sh script that probes every run of a host in one exec. The host's facts
 * are read once, whatever the number of runs: GPUs and their processes (once per distinct
 * nvidia-smi command), memory, uptime, the kernel log (from the oldest mark of the runs, each
 * run keeping what is new to it), free disk (one `df` for every workdir) and the SSH user's
 * processes. Then each run prints its own part after `@@<nonce> run <i>`: the log read from its
 * offset, its process set picked from the user's processes, its cgroup's OOM counters and its
 * training config's state, so one run's missing log is that run's finding, not the host's.
 */
export function buildHostProbeScript(request: HostProbeRequest): string {
  const { runs } = request;
  const plan = planHostProbe(runs);
  const marks = runs.map((r) => r.kernelMark).filter((m): m is number => m !== null);
  const cursor = runs.find((r) => r.journalCursor !== null)?.journalCursor ?? null;
  const uid = runs.find((r) => r.uid !== undefined && r.uid !== null)?.uid ?? null;
  const host = [
    "LC_ALL=C; export LC_ALL",
    `M=${shellQuote(`@@${request.nonce}`)}`,
    "read -r up _ < /proc/uptime 2>/dev/null",
    "printf '%s host\\n' \"$M\"",
    ...plan.smis.flatMap((command, k) => {
      // An empty nvidiaSmi declares a VM without GPUs (a CPU job): nothing to query.
      const smi = command === "" ? ":" : shellQuote(command);
      return [
        `printf '%s gpu.${k}\\n' "$M"`,
        `${smi} ${GPU_QUERY_ARGS} 2>&1; printf '\\n%s gpu-status.${k} %s\\n' "$M" "$?"`,
        `printf '%s apps.${k}\\n' "$M"`,
        `${smi} ${APPS_QUERY_ARGS} 2>&1; printf '\\n%s apps-status.${k} %s\\n' "$M" "$?"`,
      ];
    }),
    "printf '%s meminfo\\n' \"$M\"",
    'grep -E "^(MemTotal|MemFree|MemAvailable|Buffers|Cached):" /proc/meminfo 2>/dev/null',
    "printf '%s units\\n' \"$M\"",
    runs.some((r) => r.wantUnits)
      ? "getconf CLK_TCK 2>/dev/null; getconf PAGESIZE 2>/dev/null"
      : ":",
    // Lines newer than the oldest run's mark: each run drops what it handled already.
    kernelLogScript({
      kernelMark: marks.length === runs.length && marks.length > 0 ? Math.min(...marks) : null,
      journalCursor: cursor,
    }),
    // Which workdirs exist, then one df for those (a missing one would shift df's lines).
    'set --; dh=""',
    ...plan.workdirs.map(
      (dir, j) => `[ -e ${shellQuote(dir)} ] && set -- "$@" ${shellQuote(dir)} && dh="$dh ${j}"`,
    ),
    'printf \'%s disk%s\\n\' "$M" "$dh"',
    '[ "$#" -gt 0 ] && df -Pk -- "$@" 2>/dev/null',
    "printf '%s uptime\\n' \"$M\"",
    "printf '%s\\n' \"$up\"",
    hostProcessesScript(uid),
    // The log reads' functions, once; `hc` collects the runs whose read the host check covers.
    LOG_READ_FUNCTIONS,
    "hc=",
  ];
  const { batchOf } = planLogBatches(runs);
  const parts = runs.map((run, i) => {
    const batch = batchOf.get(i);
    return [
      `printf '%s run ${i}\\n' "$M"`,
      // The first run of a batch opens and looks at the logs of the next few at once.
      ...(batch?.opens ? [buildLogBatch(batch.opens.map((j) => runs[j] as HostProbeRun))] : []),
      buildLogSection(run, {
        functions: false,
        hostIndex: i,
        ...(batch ? { batchFd: batch.fd } : {}),
      }),
      processSetScript({
        run: run.run,
        workdir: run.workdir,
        process: run.process,
        tmuxSession: run.tmuxSession,
        systemdUnit: run.systemdUnit,
        shared: true,
      }),
      cgroupCountersScript(run.cgroupPid, run.cgroupFiles),
      "printf '%s trainconfig\\n' \"$M\"",
      run.trainConfig
        ? `if [ -r ${shellQuote(run.trainConfig)} ]; then echo readable; else echo unreadable; fi`
        : ":",
    ].join("\n");
  });
  const close = `exec ${BATCH_FDS.map((fd) => `${fd}<&-`).join(" ")}`;
  return `${[...host, ...parts, close, buildHostLogCheck(runs), "printf '%s end\\n' \"$M\""].join("\n")}\n`;
}
