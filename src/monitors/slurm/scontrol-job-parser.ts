import type { SlurmJob } from "../../model/slurm-job.ts";
import { expandNodeList } from "./node-list.ts";

/** The clocks a parse converts Slurm's local timestamps with. */
export interface SlurmClocks {
  /** The login node's local time when scontrol ran, as `date +%Y-%m-%dT%H:%M:%S` prints it. */
  remoteNow: string;
  /** The monitor's clock at the same moment, epoch ms. */
  localNow: number;
}

/**
 * Parses one line of `scontrol show job -d -o` into a job. Returns null when the text holds no
 * `JobId=` (scontrol forgot the job, or answered with an error).
 */
export function parseScontrolJob(text: string, clocks: SlurmClocks): SlurmJob | null {
  const line = text.split("\n").find((l) => /^JobId=/.test(l.trim()));
  if (!line) return null;
  const fields = scontrolFields(line.trim());
  const get = (key: string): string | null => {
    const value = fields.get(key);
    return value === undefined || value === "" || value === "(null)" ? null : value;
  };
  const arrayJob = get("ArrayJobId");
  const arrayTask = get("ArrayTaskId");
  const jobId = arrayJob && arrayTask ? `${arrayJob}_${arrayTask}` : (get("JobId") ?? "");
  const [exitCode, exitSignal] = (get("ExitCode") ?? "").split(":").map(toInt);
  const state = (get("JobState") ?? "UNKNOWN").split(/\s/)[0] ?? "UNKNOWN";
  const reason = get("Reason");
  const nodes = expandNodeList(get("NodeList") ?? "");
  const toEpoch = (key: string) => slurmTimeToEpoch(get(key), clocks);
  const submittedAt = toEpoch("SubmitTime");
  const startedAt = state === "PENDING" ? null : toEpoch("StartTime");
  return {
    jobId,
    name: get("JobName") ?? "",
    user: get("UserId")?.replace(/\(\d+\)$/, "") ?? null,
    state,
    reason: reason === "None" ? null : reason,
    nodes,
    gpusPerNode: gpusPerNode(line, nodes, get("TresPerNode")),
    timeLimitSeconds: parseSlurmDuration(get("TimeLimit") ?? ""),
    elapsedSeconds: parseSlurmDuration(get("RunTime") ?? "") ?? 0,
    pendingSeconds:
      state === "PENDING" && submittedAt !== null
        ? Math.max(0, Math.round((clocks.localNow - submittedAt) / 1000))
        : null,
    exitCode: exitCode ?? null,
    exitSignal: exitSignal ?? null,
    restarts: toInt(get("Restarts") ?? "0") ?? 0,
    stdOut: get("StdOut"),
    command: get("Command"),
    workDir: get("WorkDir"),
    partition: get("Partition"),
    submittedAt,
    startedAt,
    endedAt: state === "PENDING" || state === "RUNNING" ? null : toEpoch("EndTime"),
    cancelledBy: null,
  };
}

/**
 * Splits `Key=Value Key2=Value2 …`. Values may hold spaces only where scontrol prints them
 * (paths, Reason with spaces are rare); a word without `=` continues the previous value.
 * Per-node detail groups (`Nodes=… GRES=…`) repeat keys: the first occurrence wins.
 */
export function scontrolFields(line: string): Map<string, string> {
  const fields = new Map<string, string>();
  let lastKey: string | null = null;
  for (const word of line.split(" ")) {
    if (word === "") continue;
    const eq = word.indexOf("=");
    if (eq <= 0) {
      if (lastKey !== null) fields.set(lastKey, `${fields.get(lastKey) ?? ""} ${word}`);
      continue;
    }
    const key = word.slice(0, eq);
    lastKey = key;
    if (!fields.has(key)) fields.set(key, word.slice(eq + 1));
    else lastKey = null;
  }
  return fields;
}

/**
 * Slurm durations: `MM:SS`, `HH:MM:SS`, `D-HH:MM:SS`, `D-HH`, plain minutes; `UNLIMITED`,
 * `INVALID`, `N/A` → null.
 */
export function parseSlurmDuration(text: string): number | null {
  const value = text.trim();
  const match = /^(?:(\d+)-)?(\d+)(?::(\d+))?(?::(\d+))?$/.exec(value);
  if (!match) return null;
  const days = Number(match[1] ?? 0);
  const parts = [match[2], match[3], match[4]].filter((p) => p !== undefined).map(Number);
  let seconds: number;
  if (match[1] !== undefined) {
    // D-HH, D-HH:MM, D-HH:MM:SS
    const [h = 0, m = 0, s = 0] = parts;
    seconds = h * 3600 + m * 60 + s;
  } else if (parts.length === 3) {
    seconds = (parts[0] ?? 0) * 3600 + (parts[1] ?? 0) * 60 + (parts[2] ?? 0);
  } else if (parts.length === 2) {
    seconds = (parts[0] ?? 0) * 60 + (parts[1] ?? 0);
  } else {
    seconds = (parts[0] ?? 0) * 60;
  }
  return days * 86_400 + seconds;
}

/** `2026-12-07T04:12:14` (login-node local) → epoch ms on the monitor's clock. */
function slurmTimeToEpoch(value: string | null, clocks: SlurmClocks): number | null {
  if (value === null || !/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d$/.test(value)) return null;
  const remoteNow = Date.parse(`${clocks.remoteNow}Z`);
  const at = Date.parse(`${value}Z`);
  if (!Number.isFinite(remoteNow) || !Number.isFinite(at)) return null;
  // Both stamps are in the login node's zone: their difference is zone-free.
  return clocks.localNow - (remoteNow - at);
}

/** GPUs per node from `-d` detail groups (`Nodes=n[1-2] … GRES=gpu:2(IDX:0-1)`), else TresPerNode. */
function gpusPerNode(
  line: string,
  nodes: string[],
  tresPerNode: string | null,
): Record<string, number> {
  const out: Record<string, number> = {};
  for (const match of line.matchAll(/ Nodes=(\S+) CPU_IDs=\S* Mem=\S* GRES=(\S*)/g)) {
    const count = gpuCount(match[2] ?? "");
    if (count === null) continue;
    for (const node of expandNodeList(match[1] ?? "")) out[node] = count;
  }
  if (Object.keys(out).length === 0 && tresPerNode) {
    const count = gpuCount(tresPerNode.replace(/^gres[:/]/, ""));
    if (count !== null) for (const node of nodes) out[node] = count;
  }
  return out;
}

/** `gpu:2(IDX:0-1)`, `gpu:a100:4`, `gpu:2`, `gres/gpu=2` → the count; null without a GPU. */
function gpuCount(gres: string): number | null {
  let total: number | null = null;
  for (const part of gres.split(/,(?![^(]*\))/)) {
    const match = /^gpu(?::[^:(]+)?[:=](\d+)/.exec(part.replace(/^gres\//, ""));
    if (match) total = (total ?? 0) + Number(match[1]);
  }
  return total;
}

function toInt(value: string): number | null {
  const n = Number(value);
  return value.trim() !== "" && Number.isInteger(n) ? n : null;
}
