import { execFile, execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { hostname, tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { freePort } from "./free-port.ts";
import { readPidFile, signalPid, stopByPidFiles } from "./process-stop.ts";
import { waitUntil } from "./wait.ts";

const run = promisify(execFile);

/** A real Slurm cluster on this machine: one slurmctld and two slurmd (n1, n2), 2 GPUs each. */
export interface SlurmCluster {
  /** Temp folder with slurm.conf, gres.conf, state, spool and logs. */
  dir: string;
  /** Path of the generated slurm.conf; commands need it as SLURM_CONF. */
  conf: string;
  /** The environment Slurm commands need (SLURM_CONF set). */
  env: NodeJS.ProcessEnv;
  /** Runs a Slurm command (squeue, sbatch, …) against this cluster; resolves to its stdout. */
  exec(command: string, args: string[]): Promise<string>;
  /** Submits a batch script; resolves to the job id. */
  sbatch(script: string, args?: string[]): Promise<number>;
  /** The job's state as `scontrol show job` spells it (RUNNING, PENDING, …), or null. */
  jobState(jobId: number): Promise<string | null>;
  /** Kills one node's slurmd (by its pid) and returns that pid. */
  killSlurmd(node: "n1" | "n2"): number;
  /** Stops the daemons this harness started (by their pids) and removes the folder. */
  stop(): Promise<void>;
}

/** Options of {@link startSlurmCluster}. */
export interface SlurmClusterOptions {
  /** Seconds before slurmctld marks a silent node DOWN (Slurm's default is 300). */
  slurmdTimeout?: number;
}

/**
 * Starts munged if no munged runs (a shared system daemon: it is left running afterwards),
 * then slurmctld and slurmd -N n1 / -N n2 on free ports, all state in a temp folder. Resolves
 * once both nodes are idle (about 3 s).
 */
export async function startSlurmCluster(options: SlurmClusterOptions = {}): Promise<SlurmCluster> {
  ensureMunged();
  const dir = mkdtempSync(join(tmpdir(), "trainops-slurm-"));
  for (const sub of ["state", "spool", "log"]) mkdirSync(join(dir, sub));
  for (const gpu of ["fakegpu0", "fakegpu1"]) writeFileSync(join(dir, gpu), "");
  const host = hostname();
  const [ctldPort, n1Port, n2Port] = [await freePort(), await freePort(), await freePort()];
  const conf = join(dir, "slurm.conf");
  writeFileSync(
    conf,
    [
      `ClusterName=t${process.pid}`,
      `SlurmctldHost=${host}`,
      "SlurmUser=root",
      "SlurmdUser=root",
      "AuthType=auth/munge",
      `StateSaveLocation=${dir}/state`,
      `SlurmdSpoolDir=${dir}/spool/%n`,
      `SlurmctldPidFile=${dir}/slurmctld.pid`,
      `SlurmdPidFile=${dir}/slurmd-%n.pid`,
      `SlurmctldLogFile=${dir}/log/slurmctld.log`,
      `SlurmdLogFile=${dir}/log/slurmd-%n.log`,
      "ProctrackType=proctrack/linuxproc",
      "TaskPlugin=task/none",
      "SwitchType=switch/none",
      "MpiDefault=none",
      "ReturnToService=2",
      "SchedulerType=sched/backfill",
      "SelectType=select/cons_tres",
      "SelectTypeParameters=CR_Core_Memory",
      "JobCompType=jobcomp/none",
      "JobAcctGatherType=jobacct_gather/none",
      "AccountingStorageType=accounting_storage/none",
      // A job at its time limit or cancelled gets SIGTERM, then SIGKILL this many seconds later.
      "KillWait=2",
      `SlurmdTimeout=${options.slurmdTimeout ?? 300}`,
      "MessageTimeout=5",
      `SlurmctldPort=${ctldPort}`,
      "GresTypes=gpu",
      `NodeName=n1 NodeHostname=${host} Port=${n1Port} CPUs=1 RealMemory=8000 Gres=gpu:2 State=UNKNOWN`,
      `NodeName=n2 NodeHostname=${host} Port=${n2Port} CPUs=1 RealMemory=8000 Gres=gpu:2 State=UNKNOWN`,
      "PartitionName=gpu Nodes=ALL Default=YES MaxTime=INFINITE State=UP",
      "",
    ].join("\n"),
  );
  writeFileSync(join(dir, "gres.conf"), `NodeName=n[1-2] Name=gpu File=${dir}/fakegpu[0-1]\n`);
  const env = { ...process.env, SLURM_CONF: conf };
  const pidFiles = [
    join(dir, "slurmctld.pid"),
    join(dir, "slurmd-n1.pid"),
    join(dir, "slurmd-n2.pid"),
  ];
  const killed = new Set<number>();
  const stop = async () => {
    await stopByPidFiles(pidFiles, { skip: killed, what: "the Slurm daemons to exit" });
    // Job steps and their tasks carry this cluster's SLURM_CONF; any a killed slurmd left
    // behind are ours too. slurmstepd blocks SIGTERM, so only SIGKILL ends it.
    for (const pid of clusterProcesses(conf)) signalPid(pid, "SIGKILL");
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    // Both daemons fork into the background and write their pid files.
    execFileSync("/usr/sbin/slurmctld", [], { env, stdio: "ignore" });
    execFileSync("/usr/sbin/slurmd", ["-N", "n1"], { env, stdio: "ignore" });
    execFileSync("/usr/sbin/slurmd", ["-N", "n2"], { env, stdio: "ignore" });
    await waitUntil(
      async () => {
        const out = await run("sinfo", ["-h", "-N", "-o", "%N %t"], { env }).catch(() => null);
        const states = out?.stdout.trim().split("\n") ?? [];
        return states.length === 2 && states.every((line) => /\bidle$/.test(line));
      },
      { timeoutMs: 30_000, intervalMs: 250, what: "both Slurm nodes to be idle" },
    );
  } catch (error) {
    await stop();
    throw error;
  }
  const exec = async (command: string, args: string[]) =>
    (await run(command, args, { env })).stdout;
  return {
    dir,
    conf,
    env,
    exec,
    async sbatch(script, args = []) {
      const path = join(dir, `job-${Date.now()}-${Math.random().toString(36).slice(2)}.sbatch`);
      writeFileSync(path, script, { mode: 0o755 });
      const out = await exec("sbatch", ["--parsable", ...args, path]);
      return Number(out.trim().split(";")[0]);
    },
    async jobState(jobId) {
      const out = await exec("scontrol", ["show", "job", "-o", String(jobId)]).catch(() => "");
      return /\bJobState=(\S+)/.exec(out)?.[1] ?? null;
    },
    killSlurmd(node) {
      const pid = readPidFile(join(dir, `slurmd-${node}.pid`));
      if (pid === null) throw new Error(`slurmd ${node} has no pid file`);
      process.kill(pid, "SIGKILL");
      killed.add(pid);
      return pid;
    },
    stop,
  };
}

/**
 * Starts the shared munged when none is running; never stops one. Test files run in parallel, so
 * another may start it between the look and the start: its munged then refuses to start, and the
 * one that runs is as good.
 */
function ensureMunged(): void {
  const running = () => execFileSync("sh", ["-c", "pgrep -x munged || true"]).toString().trim();
  if (running() !== "") return;
  mkdirSync("/run/munge", { recursive: true });
  execFileSync("chown", ["munge:munge", "/run/munge"]);
  try {
    execFileSync("runuser", ["-u", "munge", "--", "/usr/sbin/munged"], { stdio: "ignore" });
  } catch (error) {
    if (running() === "") throw error;
  }
}

/** Processes (slurmstepd, job tasks) whose environment names this cluster's slurm.conf. */
function clusterProcesses(conf: string): number[] {
  const needle = `SLURM_CONF=${conf}\0`;
  return readdirSync("/proc")
    .filter((name) => /^\d+$/.test(name))
    .map(Number)
    .filter((pid) => {
      if (pid === process.pid) return false;
      try {
        return `${readFileSync(`/proc/${pid}/environ`, "utf8")}\0`.includes(needle);
      } catch {
        return false;
      }
    });
}
