/**
 * Things in a valid config that do not do what they seem to, said once at load: the config
 * still loads. Read from the document as written (before defaults), so only keys the person
 * wrote are named.
 */
export function configNotices(raw: unknown): string[] {
  if (typeof raw !== "object" || raw === null) return [];
  const runs = (raw as { runs?: unknown }).runs;
  if (!Array.isArray(runs)) return [];
  const notices: string[] = [];
  runs.forEach((run, index) => {
    if (typeof run !== "object" || run === null) return;
    const r = run as Record<string, unknown>;
    if (r.slurm !== undefined && r.process !== undefined) {
      notices.push(
        `runs[${index}] (${String(r.name ?? "?")}): both process and slurm are set — slurm wins: the job's state comes from squeue/scontrol and restarts go through scancel/sbatch; process is ignored (remove it)`,
      );
    }
    if (r.slurm !== undefined && r.start !== undefined) {
      notices.push(
        `runs[${index}] (${String(r.name ?? "?")}): both start and slurm are set — slurm wins: a restart resubmits the job's batch script (slurm.submit); start is ignored (remove it)`,
      );
    }
  });
  return notices;
}
