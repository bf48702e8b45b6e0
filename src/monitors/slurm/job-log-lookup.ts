import type { SlurmRunConfig } from "../../config/schema.ts";
import { shellQuote } from "../../transport/shell-quote.ts";

/**
 * Shell that sets `log` to the StdOut of the run's job (the newest of its name, else the
 * configured id), for reads outside the probe (`/train logs`, `trainops check`). Leaves `log`
 * empty when Slurm knows no such job.
 */
export function jobLogShell(slurm: SlurmRunConfig, knownJobId: string | null = null): string {
  const lines = [
    slurm.conf ? `SLURM_CONF=${shellQuote(slurm.conf)}; export SLURM_CONF` : "",
    `J=${shellQuote(knownJobId ?? (slurm.jobId !== undefined ? String(slurm.jobId) : ""))}`,
  ];
  if (slurm.job !== undefined) {
    lines.push(
      `jn=$(squeue -h -t all --name=${shellQuote(slurm.job)}${slurm.user ? ` --user=${shellQuote(slurm.user)}` : ""} --sort=-i -o %i 2>/dev/null)`,
      `jn=\${jn%%[!0-9_]*}; jn=\${jn%_}; [ -n "$jn" ] && J=$jn`,
    );
  }
  lines.push(
    `log=''; sj=''; [ -n "$J" ] && sj=$(scontrol show job -o "$J" 2>/dev/null)`,
    `case $sj in *" StdOut="*) log=\${sj##* StdOut=}; log=\${log%% *} ;; esac`,
  );
  return lines.filter((l) => l !== "").join("\n");
}
