import type { SlurmRunConfig } from "../../config/schema.ts";
import { parseDuration } from "../../core/duration.ts";
import type { SlurmJob } from "../../model/slurm-job.ts";
import { shellQuote } from "../../transport/shell-quote.ts";
import { parseSacctJob } from "./sacct-parser.ts";
import { parseScontrolJob } from "./scontrol-job-parser.ts";

/** The shell function the probe calls instead of nvidia-smi for a Slurm run. */
export const NODE_SMI_FUNCTION = "trainops_node_smi";

/** What the Slurm part of a probe needs. */
export interface SlurmProbeRequest {
  slurm: SlurmRunConfig;
  /** The job id to ask about when no job of the configured name is in the queue. */
  knownJobId: string | null;
  /** The run's nvidia-smi command, run once on every node of the job. */
  nvidiaSmi: string;
  /** Set `log` from the job's StdOut (the run config names no log). */
  logFromJob: boolean;
  /** Per-poll marker prefix (`@@<nonce>`), as the rest of the probe uses. */
  mark: string;
}

/**
 * Shell that runs before the probe's log section: finds the job (the newest of its name in the
 * queue, else the known id), prints `scontrol show job -d -o` (and `sacct` where accounting has
 * what scontrol no longer knows, or who cancelled it), points `log` at the job's StdOut when the
 * config names none, and defines {@link NODE_SMI_FUNCTION}, which runs nvidia-smi on every node
 * of a running job in one `srun --overlap` step, each line prefixed with its node's name.
 * Nothing here runs on a compute node but that one step.
 */
export function buildSlurmPrelude(request: SlurmProbeRequest): string {
  const { slurm } = request;
  const filters = [
    slurm.user ? `--user=${shellQuote(slurm.user)}` : "",
    slurm.partition ? `--partition=${shellQuote(slurm.partition)}` : "",
  ]
    .filter(Boolean)
    .join(" ");
  const configured = slurm.jobId !== undefined ? String(slurm.jobId) : "";
  const known = request.knownJobId ?? configured;
  const srunSeconds = Math.max(1, Math.ceil(parseDuration(slurm.srunTimeout) / 1000));
  const acct = `sacct -j "$J" -X -n -P -o JobID,JobName,State,ExitCode,Elapsed,Timelimit,NodeList,Submit,Start,End,User 2>/dev/null`;
  const lines = [
    slurm.conf ? `SLURM_CONF=${shellQuote(slurm.conf)}; export SLURM_CONF` : "",
    `printf '%s slurm-begin\\n' "$M"`,
    `J=${shellQuote(known)}`,
  ];
  if (slurm.job !== undefined) {
    lines.push(
      `jn=$(squeue -h -t all --name=${shellQuote(slurm.job)} ${filters} --sort=-i -o %i 2>/dev/null)`,
      // The first line's id (newest first); a pending array's `123_[1-4]` keeps `123_`.
      `jn=\${jn%%[!0-9_]*}; jn=\${jn%_}`,
      `[ -n "$jn" ] && J=$jn`,
    );
  }
  lines.push(
    `sj=''; [ -n "$J" ] && sj=$(scontrol show job -d -o "$J" 2>&1)`,
    `printf '%s slurm-id %s\\n' "$M" "$J"`,
    `printf '%s slurm-now %s\\n' "$M" "$(date +%Y-%m-%dT%H:%M:%S)"`,
    `printf '%s slurm-job\\n%s\\n' "$M" "$sj"`,
    `case $sj in`,
    `  JobId=*" JobState=CANCELLED "*|"") [ -n "$J" ] && { printf '%s slurm-acct\\n' "$M"; ${acct}; } ;;`,
    `  JobId=*) ;;`,
    `  *) [ -n "$J" ] && { printf '%s slurm-acct\\n' "$M"; ${acct}; } ;;`,
    `esac`,
  );
  if (request.logFromJob) {
    lines.push(`log=; case $sj in *" StdOut="*) log=\${sj##* StdOut=}; log=\${log%% *} ;; esac`);
  }
  lines.push(
    `N=\${sj##* NumNodes=}; N=\${N%% *}; N=\${N%%-*}`,
    `smi_cmd=${shellQuote(request.nvidiaSmi)}`,
    `${NODE_SMI_FUNCTION}() {`,
    `  case $sj in *" JobState=RUNNING "*) ;; *) printf 'job %s is not running\\n' "$J"; return 1 ;; esac`,
    // Only the GPU query runs on the nodes; the per-process query is not worth a second step.
    `  case $1 in --query-gpu=*) ;; *) return 0 ;; esac`,
    `  timeout ${srunSeconds} srun --jobid="$J" --overlap --nodes="$N" --ntasks-per-node=1 --quiet sh -c '"$0" "$@" 2>&1 | sed "s/^/$SLURMD_NODENAME: /"' "$smi_cmd" "$@"`,
    `}`,
    `printf '%s slurm-end\\n' "$M"`,
  );
  return lines.filter((l) => l !== "").join("\n");
}

/** The Slurm sections of one probe's output. */
export interface SlurmProbeOutput {
  /** The id the probe asked about; "" when none was found. */
  jobId: string;
  remoteNow: string;
  scontrol: string;
  sacct: string;
}

/** Reads the Slurm sections printed before the log section; null when the probe had none. */
export function parseSlurmSections(stdout: Buffer, mark: string): SlurmProbeOutput | null {
  const begin = stdout.indexOf(`${mark} slurm-begin\n`);
  const end = stdout.indexOf(`${mark} slurm-end\n`);
  if (begin < 0 || end < begin) return null;
  const text = stdout.subarray(begin, end).toString("utf8");
  const out: SlurmProbeOutput = { jobId: "", remoteNow: "", scontrol: "", sacct: "" };
  let section: "scontrol" | "sacct" | null = null;
  for (const line of text.split("\n")) {
    if (line.startsWith(`${mark} `)) {
      const [name = "", ...rest] = line.slice(mark.length + 1).split(" ");
      const value = rest.join(" ").trim();
      section = name === "slurm-job" ? "scontrol" : name === "slurm-acct" ? "sacct" : null;
      if (name === "slurm-id") out.jobId = value;
      if (name === "slurm-now") out.remoteNow = value;
      continue;
    }
    if (section) out[section] += `${line}\n`;
  }
  return out;
}

/** The job those sections describe: scontrol first, sacct for what it no longer knows. */
export function slurmJobFromSections(
  sections: SlurmProbeOutput,
  localNow: number,
): SlurmJob | null {
  const clocks = { remoteNow: sections.remoteNow, localNow };
  const fromAcct = parseSacctJob(sections.sacct, clocks);
  const job = parseScontrolJob(sections.scontrol, clocks);
  if (!job) return fromAcct;
  return fromAcct?.cancelledBy ? { ...job, cancelledBy: fromAcct.cancelledBy } : job;
}
