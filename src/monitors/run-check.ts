import type { RunConfig } from "../config/schema.ts";
import { runPaths } from "../transport/run-remote.ts";
import { shellQuote } from "../transport/shell-quote.ts";
import type { Transport } from "../transport/transport.ts";
import { GPU_QUERY_ARGS, parseGpuQuery } from "./parsers/nvidia-smi-parser.ts";
import { checkRunProcesses, type ProcessCheckResult } from "./run-check-processes.ts";
import { configuredLogPath } from "./run-log-path.ts";
import { jobLogShell } from "./slurm/job-log-lookup.ts";

/** One line of `trainops check`'s table. */
export interface CheckResult {
  run: string;
  check:
    | "connection"
    | "log"
    | "nvidia-smi"
    | "train-config"
    | "process"
    | "slurm"
    | ProcessCheckResult["check"];
  ok: boolean;
  /** What was found, or what to fix. */
  detail: string;
}

/**
 * Checks that a run can be monitored: the VM answers (host key verified), the log and training
 * config exist, nvidia-smi answers; then what a restart would signal, how the workers are
 * found, and which host OOM-kill sources the SSH user can read (see checkRunProcesses).
 */
export async function checkRun(run: RunConfig, transport: Transport): Promise<CheckResult[]> {
  const configured = configuredLogPath(run);
  const { trainConfig } = runPaths(run);
  const script = [
    // A Slurm run's job is found by squeue/scontrol here; without `log:` its StdOut is the log.
    run.slurm ? jobLogShell(run.slurm) : "",
    configured !== null || !run.slurm ? `log=${shellQuote(configured ?? "")}` : "",
    `if [ -r "$log" ]; then echo "log ok $(wc -c < "$log") $log"; else echo "log missing $log"; fi`,
    trainConfig
      ? `if [ -r ${shellQuote(trainConfig)} ]; then echo "cfg ok"; else echo "cfg missing"; fi`
      : `echo "cfg none"`,
    `echo "@@smi"`,
    // A Slurm job's GPUs are on its nodes, read through srun by each poll; the login node has
    // none, so the check asks for the Slurm commands instead.
    run.slurm
      ? 'for c in squeue scontrol sbatch scancel srun; do command -v $c >/dev/null 2>&1 || echo "missing $c"; done; echo "job $J"'
      : `${shellQuote(run.nvidiaSmi)} ${GPU_QUERY_ARGS} 2>&1`,
  ].join("\n");
  let stdout: string;
  try {
    stdout = (await transport.run(script)).stdout.toString("utf8");
  } catch (error) {
    return [{ run: run.name, check: "connection", ok: false, detail: (error as Error).message }];
  }
  const [head = "", smi = ""] = stdout.split("@@smi\n");
  const results: CheckResult[] = [
    { run: run.name, check: "connection", ok: true, detail: `${transport.description} answered` },
  ];
  const logLine = /^log (?:ok (\d+)|missing) ?(.*)$/m.exec(head);
  const log = configured ?? (logLine?.[2] ? logLine[2] : "the Slurm job's StdOut");
  results.push(
    logLine?.[1] !== undefined
      ? { run: run.name, check: "log", ok: true, detail: `${log} (${logLine[1]} bytes)` }
      : {
          run: run.name,
          check: "log",
          ok: false,
          detail: `${log} not readable — fix: check runs[].workdir and runs[].log`,
        },
  );
  if (trainConfig) {
    const ok = /^cfg ok$/m.test(head);
    results.push({
      run: run.name,
      check: "train-config",
      ok,
      detail: ok
        ? trainConfig
        : `${trainConfig} not readable — fix: check runs[].trainConfig (needed for phases)`,
    });
  }
  if (run.slurm) {
    const missing = [...smi.matchAll(/^missing (\w+)$/gm)].map((m) => m[1]);
    const job = /^job (\S*)$/m.exec(smi)?.[1] ?? "";
    results.push({
      run: run.name,
      check: "slurm",
      ok: missing.length === 0 && job !== "",
      detail:
        missing.length > 0
          ? `${missing.join(", ")} not on the login node's PATH — fix: load the Slurm module in the login shell`
          : job !== ""
            ? `job ${job} found; GPUs are read on its nodes through srun`
            : `no job ${run.slurm.job ?? run.slurm.jobId} in squeue — fix: check slurm.job / slurm.user, or submit it`,
    });
    return results;
  }
  const gpus = parseGpuQuery(smi);
  results.push(
    gpus.ok
      ? {
          run: run.name,
          check: "nvidia-smi",
          ok: true,
          detail: gpus.value.map((g) => `GPU ${g.index} ${g.name}`).join(", ") || "no GPUs",
        }
      : {
          run: run.name,
          check: "nvidia-smi",
          ok: false,
          detail: `${gpus.message} — fix: install the NVIDIA driver or set runs[].nvidiaSmi`,
        },
  );
  for (const result of await checkRunProcesses(run, transport)) {
    results.push({ run: run.name, ...result });
  }
  return results;
}
