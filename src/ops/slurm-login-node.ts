import type { RunConfig, SlurmRunConfig } from "../config/schema.ts";
import type { Clock } from "../core/clock.ts";
import type { SlurmJob } from "../model/slurm-job.ts";
import { parseScontrolJob } from "../monitors/slurm/scontrol-job-parser.ts";
import { shellQuote } from "../transport/shell-quote.ts";
import type { Transport } from "../transport/transport.ts";
import { RestartError } from "./restart.ts";

/** What a Slurm command on the login node needs: where it runs, and the run's `slurm:` block. */
export interface LoginNode {
  transport: Transport;
  run: RunConfig & { slurm: SlurmRunConfig };
  clock: Clock;
}

/**
 * Runs a Slurm command on the login node (SLURM_CONF set when the run names one); resolves to
 * its stdout, or throws a RestartError naming `what` with Slurm's own words.
 */
export async function runOnLoginNode(
  node: LoginNode,
  script: string,
  what: string,
): Promise<string> {
  const conf = node.run.slurm.conf;
  const env = conf ? `SLURM_CONF=${shellQuote(conf)}; export SLURM_CONF\n` : "";
  const result = await node.transport.run(`${env}${script}`);
  if (result.code !== 0) {
    throw new RestartError(
      `${what} failed on the login node: ${result.stderr.trim() || result.stdout.toString("utf8").trim() || `exit ${result.code}`}`,
    );
  }
  return result.stdout.toString("utf8");
}

/** `scontrol show job -d -o` of one job, parsed; null when Slurm no longer knows it. */
export async function showSlurmJob(node: LoginNode, jobId: string): Promise<SlurmJob | null> {
  const out = await runOnLoginNode(
    node,
    `scontrol show job -d -o ${shellQuote(jobId)} 2>/dev/null; printf '\\n@@now %s\\n' "$(date +%Y-%m-%dT%H:%M:%S)"`,
    "scontrol",
  );
  const remoteNow = /@@now (\S+)/.exec(out)?.[1] ?? "";
  return parseScontrolJob(out, { remoteNow, localNow: node.clock.now() });
}
