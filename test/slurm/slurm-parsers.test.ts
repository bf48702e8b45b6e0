import { describe, expect, it } from "vitest";
import { RankedLogReader, splitRankPrefix } from "../../src/monitors/parsers/rank-prefix.ts";
import { resolveLogPattern } from "../../src/monitors/slurm/log-pattern.ts";
import { parseNodeGpuRows } from "../../src/monitors/slurm/node-gpu-rows.ts";
import { expandNodeList } from "../../src/monitors/slurm/node-list.ts";
import { parseSacctJob } from "../../src/monitors/slurm/sacct-parser.ts";
import {
  parseScontrolJob,
  parseSlurmDuration,
} from "../../src/monitors/slurm/scontrol-job-parser.ts";
import type { SlurmRunStatus } from "../../src/monitors/slurm/slurm-status.ts";
import { slurmStatusLines } from "../../src/monitors/slurm/slurm-status-lines.ts";

/** `scontrol show job -d -o` of a running two-node job, as Slurm 22.05 printed it here. */
const RUNNING =
  "JobId=7 JobName=exp001 UserId=dylant(1000) GroupId=dylant(1000) MCS_label=N/A Priority=4294901759 Nice=0 Account=(null) QOS=(null) JobState=RUNNING Reason=None Dependency=(null) Requeue=1 Restarts=1 BatchFlag=1 Reboot=0 ExitCode=0:0 DerivedExitCode=0:0 RunTime=01:02:03 TimeLimit=1-00:00:00 TimeMin=N/A SubmitTime=2026-12-07T04:00:00 EligibleTime=2026-12-07T04:00:00 AccrueTime=2026-12-07T04:00:00 StartTime=2026-12-07T04:10:00 EndTime=2026-12-08T04:10:00 Deadline=N/A Partition=gpu AllocNode:Sid=login:7798 NodeList=gpu[01-02] BatchHost=gpu01 NumNodes=2 NumCPUs=2 NumTasks=2 CPUs/Task=1 TRES=cpu=2,mem=16000M,node=2,billing=2 JOB_GRES=gpu:8   Nodes=gpu[01-02] CPU_IDs=0 Mem=8000 GRES=gpu:a100:4(IDX:0-3) MinCPUsNode=1 Command=/shared/vesuvius/train.sbatch WorkDir=/shared/vesuvius StdErr=/shared/vesuvius/logs/exp001-7.out StdIn=/dev/null StdOut=/shared/vesuvius/logs/exp001-7.out Power= TresPerNode=gres:gpu:4";

const PENDING =
  "JobId=8 JobName=exp001 UserId=root(0) JobState=PENDING Reason=Resources Dependency=(null) Requeue=1 Restarts=0 ExitCode=0:0 RunTime=00:00:00 TimeLimit=UNLIMITED SubmitTime=2026-12-07T02:00:00 StartTime=Unknown EndTime=Unknown Partition=gpu NodeList= NumNodes=2-2 Command=/x.sbatch WorkDir=/x StdOut=/x/slurm-8.out TresPerNode=gres:gpu:2";

const clocks = { remoteNow: "2026-12-07T04:10:00", localNow: Date.UTC(2026, 11, 7, 12, 10, 0) };

describe("scontrol show job -o", () => {
  it("reads a running job: state, nodes, GPUs per node, times, restarts, StdOut", () => {
    const job = parseScontrolJob(RUNNING, clocks);
    expect(job).toMatchObject({
      jobId: "7",
      name: "exp001",
      user: "dylant",
      state: "RUNNING",
      reason: null,
      nodes: ["gpu01", "gpu02"],
      gpusPerNode: { gpu01: 4, gpu02: 4 },
      timeLimitSeconds: 86_400,
      elapsedSeconds: 3723,
      pendingSeconds: null,
      exitCode: 0,
      restarts: 1,
      stdOut: "/shared/vesuvius/logs/exp001-7.out",
      command: "/shared/vesuvius/train.sbatch",
      partition: "gpu",
    });
    // Login-node local times become the monitor's clock, whatever the zones.
    expect(job?.startedAt).toBe(clocks.localNow);
    expect(job?.submittedAt).toBe(clocks.localNow - 10 * 60_000);
  });

  it("reads a pending job's reason and wait, and knows none when scontrol forgot it", () => {
    expect(parseScontrolJob(PENDING, clocks)).toMatchObject({
      state: "PENDING",
      reason: "Resources",
      nodes: [],
      timeLimitSeconds: null,
      pendingSeconds: 2 * 3600 + 10 * 60,
      gpusPerNode: {},
    });
    expect(parseScontrolJob("slurm_load_jobs error: Invalid job id specified", clocks)).toBeNull();
  });

  it("reads exit code and signal of a failed job", () => {
    const failed = RUNNING.replace(
      "JobState=RUNNING Reason=None",
      "JobState=FAILED Reason=NonZeroExitCode",
    ).replace("ExitCode=0:0", "ExitCode=1:9");
    expect(parseScontrolJob(failed, clocks)).toMatchObject({
      state: "FAILED",
      reason: "NonZeroExitCode",
      exitCode: 1,
      exitSignal: 9,
    });
  });

  it("parses Slurm durations", () => {
    expect(parseSlurmDuration("00:02:00")).toBe(120);
    expect(parseSlurmDuration("5:00")).toBe(300);
    expect(parseSlurmDuration("1-02:03:04")).toBe(93_784);
    expect(parseSlurmDuration("2-12")).toBe(2 * 86_400 + 12 * 3600);
    expect(parseSlurmDuration("30")).toBe(1800);
    expect(parseSlurmDuration("UNLIMITED")).toBeNull();
    expect(parseSlurmDuration("N/A")).toBeNull();
  });

  it("expands host lists", () => {
    expect(expandNodeList("n[1-2]")).toEqual(["n1", "n2"]);
    expect(expandNodeList("gpu[01-03,07],login1")).toEqual([
      "gpu01",
      "gpu02",
      "gpu03",
      "gpu07",
      "login1",
    ]);
    expect(expandNodeList("r[1-2]n[1-2]")).toEqual(["r1n1", "r1n2", "r2n1", "r2n2"]);
    expect(expandNodeList("")).toEqual([]);
  });
});

describe("log patterns", () => {
  it("resolves sbatch's %j %x %u %A %a %N in a configured log", () => {
    const job = parseScontrolJob(RUNNING, clocks);
    if (!job) throw new Error("no job");
    expect(resolveLogPattern("/logs/%x-%j-%u-%N-%5j-100%%.log", job)).toBe(
      "/logs/exp001-7-dylant-gpu01-00007-100%.log",
    );
    expect(resolveLogPattern("/logs/%A_%a.out", { ...job, jobId: "123_4" })).toBe(
      "/logs/123_4.out",
    );
    expect(resolveLogPattern("/logs/%j-%q.out", { ...job, jobId: "123_4" })).toBe(
      "/logs/%j-%q.out",
    );
  });
});

describe("sacct", () => {
  it("says who cancelled a job, and what scontrol no longer knows", () => {
    const job = parseSacctJob(
      "7|exp001|CANCELLED by 1000|0:15|00:12:00|04:00:00|n[1-2]|2026-12-07T04:00:00|2026-12-07T04:01:00|2026-12-07T04:13:00|dylant\n",
      clocks,
    );
    expect(job).toMatchObject({
      jobId: "7",
      state: "CANCELLED",
      cancelledBy: "1000",
      exitSignal: 15,
      elapsedSeconds: 720,
      timeLimitSeconds: 14_400,
      nodes: ["n1", "n2"],
    });
    expect(parseSacctJob("Slurm accounting storage is disabled\n", clocks)).toBeNull();
  });
});

describe("per-node nvidia-smi rows", () => {
  it("tags each node's GPUs and keeps a failing node apart", () => {
    const rows = parseNodeGpuRows(
      [
        "n2: 0, NVIDIA A100-SXM4-80GB, 70000, 81920, 97, 61, 301.2",
        "n1: 0, NVIDIA A100-SXM4-80GB, 12000, 81920, 40, 50, 200.0",
        "n1: 1, NVIDIA A100-SXM4-80GB, 13000, 81920, 41, 51, 210.0",
        "n3: NVIDIA-SMI has failed because it couldn't communicate with the NVIDIA driver.",
        "srun: error: n3: task 2: Exited with exit code 9",
      ].join("\n"),
    );
    expect(rows.gpus.map((g) => [g.node, g.index, g.memoryUsedMiB])).toEqual([
      ["n1", 0, 12000],
      ["n1", 1, 13000],
      ["n2", 0, 70000],
    ]);
    expect(rows.failures.map((f) => f.node)).toEqual(["n3"]);
  });
});

describe("multi-node log lines", () => {
  it("takes off srun, PyTorch, torchrun and node prefixes", () => {
    expect(splitRankPrefix("1: Train step 5/10", true)).toEqual({
      text: "Train step 5/10",
      rank: 1,
      node: null,
    });
    expect(splitRankPrefix("[rank 3]: loss=0.5", false)).toMatchObject({
      text: "loss=0.5",
      rank: 3,
    });
    expect(splitRankPrefix("[rank1]:Traceback (most recent call last):", false)).toMatchObject({
      rank: 1,
    });
    expect(splitRankPrefix("[default0]:Epoch 1", false)).toMatchObject({
      text: "Epoch 1",
      rank: 0,
    });
    expect(splitRankPrefix("n2: RuntimeError: boom", true)).toEqual({
      text: "RuntimeError: boom",
      rank: null,
      node: "n2",
    });
    // Without labels only the unambiguous prefixes are read.
    expect(splitRankPrefix("1: Train step 5/10", false).rank).toBeNull();
    expect(splitRankPrefix("2026-12-07 04:27:02,769 - INFO", true).rank).toBeNull();
  });

  it("reads progress once, from the lowest rank that prints steps", () => {
    const reader = new RankedLogReader(true);
    const lines = ["1: step 1", "0: step 1", "1: step 2", "0: step 2"].map((l) => reader.route(l));
    expect(lines.map((l) => reader.acceptStep(l))).toEqual([true, true, false, true]);
  });
});

describe("status lines", () => {
  const base: SlurmRunStatus = {
    jobId: "8",
    state: "PENDING",
    reason: "Resources",
    nodes: [],
    timeLimitSeconds: 14_400,
    elapsedSeconds: 0,
    restarts: 0,
    pendingSeconds: 2 * 3600 + 10 * 60,
    timeLeftSeconds: null,
    gpusPerNode: {},
    exitCode: null,
    jobIds: ["8"],
    seenAt: "2026-12-07T04:10:00.000Z",
  };

  it("says how long a job waits and why", () => {
    expect(slurmStatusLines(base)).toEqual(["Slurm job 8: pending 2 h 10 min: Resources"]);
  });

  it("shows nodes, GPUs per node, time left and the job id chain while running", () => {
    expect(
      slurmStatusLines({
        ...base,
        jobId: "9",
        state: "RUNNING",
        reason: null,
        nodes: ["n1", "n2"],
        gpusPerNode: { n1: 2, n2: 2 },
        elapsedSeconds: 3600,
        timeLeftSeconds: 3 * 3600,
        pendingSeconds: null,
        restarts: 1,
        jobIds: ["8", "9"],
      }),
    ).toEqual([
      "Slurm job 9: running on 2 nodes (n1, n2), 2 GPUs each",
      "time left: 3 h of 4 h (ran 1 h)",
      "job ids: 8 → 9 (1 restart)",
    ]);
  });
});
