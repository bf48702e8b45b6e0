import type { SlurmJob } from "../../model/slurm-job.ts";
import { expandNodeList } from "./node-list.ts";
import { parseSlurmDuration, type SlurmClocks } from "./scontrol-job-parser.ts";

/**
 * Parses `sacct -X -n -P -o JobID,JobName,State,ExitCode,Elapsed,Timelimit,NodeList,Submit,
 * Start,End,User`: the only source once scontrol has forgotten a job (MinJobAge), and the one
 * that says who cancelled it (`CANCELLED by 1000`). Clusters without accounting print nothing.
 */
export function parseSacctJob(text: string, clocks: SlurmClocks): SlurmJob | null {
  const line = text.split("\n").find((l) => l.split("|").length >= 11);
  if (!line) return null;
  const [jobId = "", name = "", stateText = "", exit = "", elapsed = "", limit = "", nodes = ""] =
    line.split("|");
  const [, , , , , , , submit = "", start = "", end = "", user = ""] = line.split("|");
  const [state = "UNKNOWN", , by] = stateText.trim().split(/\s+/);
  const [code, signal] = exit.split(":").map((v) => (/^\d+$/.test(v) ? Number(v) : null));
  const epoch = (value: string) => {
    if (!/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d$/.test(value)) return null;
    return clocks.localNow - (Date.parse(`${clocks.remoteNow}Z`) - Date.parse(`${value}Z`));
  };
  return {
    jobId,
    name,
    user: user || null,
    state,
    reason: null,
    nodes: nodes === "None assigned" ? [] : expandNodeList(nodes),
    gpusPerNode: {},
    timeLimitSeconds: parseSlurmDuration(limit),
    elapsedSeconds: parseSlurmDuration(elapsed) ?? 0,
    pendingSeconds: null,
    exitCode: code ?? null,
    exitSignal: signal ?? null,
    restarts: 0,
    stdOut: null,
    command: null,
    workDir: null,
    partition: null,
    submittedAt: epoch(submit),
    startedAt: epoch(start),
    endedAt: epoch(end),
    cancelledBy: state === "CANCELLED" && by ? by : null,
  };
}
