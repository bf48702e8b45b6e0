import type { SlurmJob } from "../../model/slurm-job.ts";

/**
 * Resolves sbatch's filename patterns in a configured `log:` for the given job: `%j` job id,
 * `%x` job name, `%u` user, `%A` array master job id, `%a` array task id, `%N` first node,
 * `%%` a percent sign; zero padding (`%4j`) as sbatch does. Slurm already resolves the job's
 * own StdOut; this is for a `log:` the script writes itself (`--log logs/%x-%j.txt`). Unknown patterns are left as they
 * are, so the path still says what was meant.
 */
export function resolveLogPattern(pattern: string, job: SlurmJob): string {
  const [master, task] = job.jobId.includes("_") ? job.jobId.split("_") : [job.jobId, ""];
  return pattern.replace(/%(\d*)([jxuAaN%])/g, (whole, width: string, key: string) => {
    const value: string | undefined = {
      // An array task's own job id is not kept; its %j stays as written.
      j: task ? undefined : job.jobId,
      x: job.name,
      u: job.user ?? undefined,
      A: master,
      a: task,
      N: job.nodes[0],
      "%": "%",
    }[key];
    if (value === undefined || value === "") return whole;
    return width && /^\d+$/.test(value) ? value.padStart(Number(width), "0") : value;
  });
}
