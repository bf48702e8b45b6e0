import { randomBytes } from "node:crypto";
import type { RunConfig } from "../config/schema.ts";
import { shellQuote } from "../transport/shell-quote.ts";
import type { Transport } from "../transport/transport.ts";
import { parseUptime } from "./probe/probe-figures.ts";
import { splitSections } from "./probe/probe-output.ts";
import { processSetScript } from "./probe/process-set-script.ts";
import { type RunProcesses, selectRunProcesses } from "./run-processes.ts";

/** Raised when the VM's process listing could not be read. */
export class ProcessListError extends Error {
  override readonly name = "ProcessListError";
}

/**
 * Lists a run's own processes on its VM with one script (the probe's process-set part): what
 * a restart signals and `trainops check` shows. Never another user's process, nor one of ours
 * working outside the run's workdir (see processSetScript).
 */
export async function listRunProcesses(
  transport: Transport,
  run: RunConfig,
): Promise<RunProcesses> {
  const nonce = randomBytes(8).toString("hex");
  const mark = `@@${nonce}`;
  const script = [
    `M=${shellQuote(mark)}`,
    "printf '%s units\\n' \"$M\"; getconf CLK_TCK 2>/dev/null; getconf PAGESIZE 2>/dev/null",
    "read -r up _ < /proc/uptime 2>/dev/null",
    'printf \'%s uptime %s\\n\' "$M" "$up"',
    processSetScript({
      run: run.name,
      workdir: run.workdir,
      process: run.process,
      tmuxSession: run.restart.tmuxSession,
      systemdUnit: run.restart.systemdUnit,
    }),
    "printf '%s end\\n' \"$M\"",
  ].join("\n");
  const result = await transport.run(script);
  const sections = splitSections(result.stdout.toString("utf8"), mark);
  const uptime = parseUptime(sections.get("uptime") ?? "");
  if (!sections.has("end") || uptime === null || (sections.get("ps") ?? "").trim() === "") {
    throw new ProcessListError(
      `could not list processes on the VM: ${result.stderr.trim() || "no /proc listing"}`,
    );
  }
  const [clockTicks, pageSize] = (sections.get("units") ?? "").split("\n").map(Number);
  return selectRunProcesses(
    {
      self: sections.get("self") ?? "",
      scope: sections.get("scope") ?? "",
      wd: sections.get("wd") ?? "",
      ps: sections.get("ps") ?? "",
      args: sections.get("args") ?? "",
    },
    { uptime, clockTicks: clockTicks || 100, pageSize: pageSize || 4096 },
    { process: run.process, workerProcess: run.workerProcess },
  );
}
