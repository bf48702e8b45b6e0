import { join } from "node:path";
import { type SimulatedRun, startSimulatedRun } from "../harness/simulated-run.ts";
import { type SlurmCluster, startSlurmCluster } from "../harness/slurm-cluster.ts";

/** A Slurm cluster, a simulated training workdir, and a login node reached over real sshd. */
export interface SlurmFixture {
  cluster: SlurmCluster;
  sim: SimulatedRun;
  /** Folder the jobs' output goes to (`<dir>/exp001-<jobid>.out`). */
  outDir: string;
  /** Path of the batch script: the simulator as rank 0 on the first node, rank 1 idle. */
  script: string;
  /** A `runs:` entry for the job named exp001 (no `log:`: the job's StdOut). */
  runEntry(extra?: Record<string, unknown>): Record<string, unknown>;
  /** Submits the training script; resolves to the job id. */
  submit(args?: string[]): Promise<number>;
  /** Submits a job that holds both nodes until cancelled, so the next job waits. */
  block(): Promise<number>;
  stop(): Promise<void>;
}

/** Options of {@link startSlurmFixture}. */
export interface SlurmFixtureOptions {
  prefix: string;
  slurmdTimeout?: number;
  /** Extra lines rank 1 prints before it waits (errors on another rank). */
  rank1Lines?: string[];
  /** Extra simulator flags. */
  simulatorArgs?: string[];
  /** Rank 1 exits with this code after its lines instead of waiting. */
  rank1Exit?: number;
}

/** Starts the cluster and the simulated workdir; the job is submitted by the test. */
export async function startSlurmFixture(options: SlurmFixtureOptions): Promise<SlurmFixture> {
  const cluster = await startSlurmCluster(
    options.slurmdTimeout ? { slurmdTimeout: options.slurmdTimeout } : {},
  );
  let sim: SimulatedRun;
  try {
    sim = await startSimulatedRun({ prefix: options.prefix, vm: { timeScale: 200 } });
  } catch (error) {
    await cluster.stop();
    throw error;
  }
  const { vm } = sim;
  const outDir = join(sim.root, "slurm-out");
  const tsx = import.meta.resolve("tsx");
  const rank0 = [
    join(vm.workdir, "bin/python"),
    "--import",
    tsx,
    join(vm.workdir, "train.py"),
    "--workdir",
    vm.workdir,
    "--config",
    vm.trainConfig,
    "--state-dir",
    vm.stateDir,
    "--time-scale",
    "200",
    "--startup-seconds",
    "2",
    ...(options.simulatorArgs ?? []),
  ]
    .map((a) => `'${a}'`)
    .join(" ");
  const { mkdirSync, writeFileSync } = await import("node:fs");
  const rank1File = join(sim.root, "rank1.txt");
  writeFileSync(rank1File, `${(options.rank1Lines ?? ["worker ready"]).join("\n")}\n`);
  const rank1 = [
    `cat ${rank1File}`,
    options.rank1Exit !== undefined ? `sleep 1; exit ${options.rank1Exit}` : "exec sleep 100000",
  ].join("; ");
  const script = [
    "#!/bin/sh",
    "#SBATCH --job-name=exp001",
    "#SBATCH --nodes=2",
    "#SBATCH --gres=gpu:2",
    `#SBATCH --output=${outDir}/%x-%j.out`,
    `#SBATCH --chdir=${vm.workdir}`,
    `mkdir -p ${outDir}`,
    // One failing rank ends the job, as with torchrun's elastic agent.
    `srun --label --kill-on-bad-exit=1 sh -c 'if [ "$SLURM_PROCID" = 0 ]; then exec ${rank0.replaceAll("'", "")}; else ${rank1}; fi'`,
    "",
  ].join("\n");
  mkdirSync(outDir, { recursive: true });
  const scriptPath = join(sim.root, "train.sbatch");
  writeFileSync(scriptPath, script, { mode: 0o755 });
  return {
    cluster,
    sim,
    outDir,
    script: scriptPath,
    runEntry: (extra = {}) => {
      const entry: Record<string, unknown> = {
        ...sim.runEntry(),
        slurm: { job: "exp001", conf: cluster.conf, submit: scriptPath },
        follow: false,
        backfillBytes: 1024 * 1024,
        ...extra,
      };
      delete entry.log;
      if (!("process" in extra)) delete entry.process;
      return entry;
    },
    submit: async (args = []) => {
      const out = await cluster.exec("sbatch", ["--parsable", ...args, scriptPath]);
      return Number(out.trim().split(";")[0]);
    },
    block: () =>
      cluster.sbatch(
        `#!/bin/sh\n#SBATCH --job-name=blocker\n#SBATCH --nodes=2\n#SBATCH --output=/dev/null\n#SBATCH --chdir=/tmp\nexec sleep 100000\n`,
      ),
    stop: async () => {
      await cluster.stop();
      await sim.stop();
    },
  };
}
