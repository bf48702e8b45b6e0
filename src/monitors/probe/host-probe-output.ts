import type { HostProbePlan } from "./host-probe-script.ts";
import { parseLogSections } from "./log-section.ts";
import { type ProbeOutput, ProbeOutputError, splitSections } from "./probe-output.ts";

/** What a host probe printed for one run: its output, or why its part could not be read. */
export type HostProbeRunOutput = { ok: true; output: ProbeOutput } | { ok: false; error: Error };

/**
 * Splits a host probe's stdout (see buildHostProbeScript) into one {@link ProbeOutput} per run:
 * the host's facts (GPUs of the run's nvidia-smi command, memory, kernel lines, its workdir's
 * free disk, uptime, the user's processes) joined to the run's own sections. A run whose part is
 * cut short or garbled is that run's error; a host part that cannot be read fails every run.
 */
export function parseHostProbeOutput(
  stdout: Buffer,
  nonce: string,
  plan: HostProbePlan,
): HostProbeRunOutput[] {
  const mark = `@@${nonce}`;
  const runs = plan.smiOf.length;
  const starts: number[] = [];
  let from = 0;
  for (let i = 0; i < runs; i++) {
    const head = Buffer.from(`${mark} run ${i}\n`);
    const at = stdout.indexOf(head, from);
    if (at < 0) {
      if (i === 0) throw new ProbeOutputError("host probe output was cut short before any run");
      break;
    }
    starts.push(at);
    from = at + head.length;
  }
  const end = stdout.lastIndexOf(Buffer.from(`${mark} end\n`));
  const checks = hostChecks(stdout, mark);
  const host = splitSections(stdout.subarray(0, starts[0]).toString("utf8"), mark);
  if (!host.has("host")) throw new ProbeOutputError("host probe output has no host section");
  const disk = diskLines(host, plan.workdirs.length);
  return plan.smiOf.map((smi, i): HostProbeRunOutput => {
    const start = starts[i];
    if (start === undefined) {
      return { ok: false, error: new ProbeOutputError("host probe output was cut short") };
    }
    const next = starts[i + 1] ?? (checks ? checks.at : end >= 0 ? end : stdout.length);
    // The part keeps the newline before the next marker, as a probe of the run alone ends.
    const part = stdout.subarray(start, Math.min(stdout.length, next));
    try {
      const { log, rest: logRest, end: after, hostChecked } = parseLogSections(part, mark);
      if (hostChecked && log.present) {
        // The host's check after every read says whether this run's file changed under it.
        if (checks && !checks.failed.has(i)) delete log.changed;
        else log.changed = true;
      }
      const own = splitSections(part.subarray(after + 1).toString("utf8"), mark);
      if (!own.has("trainconfig") || (i === runs - 1 && end < 0)) {
        throw new ProbeOutputError("probe output was cut short");
      }
      const output: ProbeOutput = {
        logRest,
        log,
        gpu: { text: host.get(`gpu.${smi}`) ?? "", status: statusOf(host, `gpu-status.${smi}`) },
        apps: {
          text: host.get(`apps.${smi}`) ?? "",
          status: statusOf(host, `apps-status.${smi}`),
        },
        meminfo: host.get("meminfo") ?? "",
        self: own.get("self") ?? "",
        scope: own.get("scope") ?? "",
        wd: own.get("wd") ?? inWorkdir(host.get("cwds") ?? "", own.get("wdr") ?? ""),
        ps: own.get("ps") ?? host.get("ps") ?? "",
        args: own.get("args") ?? host.get("args") ?? "",
        kernel: host.get("kernel") ?? "",
        cgroup: own.get("cgroup") ?? "",
        oom: own.get("oom") ?? "",
        disk: disk.get(plan.workdirOf[i] ?? -1) ?? "",
        uptime: host.get("uptime") ?? "",
        units: host.get("units") ?? "",
        trainConfig: (own.get("trainconfig") ?? "").trim(),
      };
      return { ok: true, output };
    } catch (error) {
      return { ok: false, error: new ProbeOutputError((error as Error).message) };
    }
  });
}

/**
 * The host's check of the fast reads' prefixes (see buildHostLogCheck in host-log-batch.ts): where it is printed and
 * the runs whose file changed under the read; null when it was not printed.
 */
function hostChecks(stdout: Buffer, mark: string): { at: number; failed: Set<number> } | null {
  const head = Buffer.from(`${mark} hostcheck`);
  const at = stdout.lastIndexOf(head);
  if (at < 0) return null;
  const lineEnd = stdout.indexOf(0x0a, at);
  if (lineEnd < 0) return null;
  const failed = new Set(
    stdout
      .subarray(at + head.length, lineEnd)
      .toString("utf8")
      .split(" ")
      .filter((w) => /^\d+$/.test(w))
      .map(Number),
  );
  return { at, failed };
}

/**
 * Pids (space-separated) of the `/proc/PID <cwd>` lines whose cwd is the workdir or below it,
 * as a probe of the run alone lists them in its `wd` section.
 */
function inWorkdir(cwds: string, workdir: string): string {
  if (workdir === "") return "";
  const pids: string[] = [];
  for (const line of cwds.split("\n")) {
    const at = line.indexOf(" ");
    if (at < 0) continue;
    const cwd = line.slice(at + 1);
    if (cwd === workdir || cwd.startsWith(`${workdir}/`)) pids.push(line.slice(6, at));
  }
  return pids.join(" ");
}

/**
 * The `df -Pk` lines by workdir index: the section's first line lists the indexes of the
 * workdirs that existed, in the order df printed them after its header.
 */
function diskLines(host: Map<string, string>, workdirs: number): Map<number, string> {
  const lines = (host.get("disk") ?? "").split("\n");
  const present = (lines[0] ?? "")
    .trim()
    .split(/\s+/)
    .filter((w) => w !== "")
    .map(Number)
    .filter((j) => Number.isInteger(j) && j >= 0 && j < workdirs);
  const rows = lines.slice(2).filter((line) => line.trim() !== "");
  const byWorkdir = new Map<number, string>();
  // A workdir removed between the test and df shifts the rows: then none is trusted.
  if (rows.length !== present.length) return byWorkdir;
  present.forEach((j, k) => {
    byWorkdir.set(j, rows[k] as string);
  });
  return byWorkdir;
}

function statusOf(sections: Map<string, string>, name: string): number | null {
  const value = sections.get(name);
  if (value === undefined || value.trim() === "") return null;
  const n = Number(value.trim());
  return Number.isFinite(n) ? n : null;
}
