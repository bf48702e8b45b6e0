import { randomBytes } from "node:crypto";
import type { RunConfig } from "../config/schema.ts";
import { shellQuote } from "../transport/shell-quote.ts";
import type { Transport } from "../transport/transport.ts";
import {
  cgroupCounterFiles,
  KERNEL_LOG_GRANT,
  type KernelSection,
  parseKernelSection,
  parseOomCounters,
} from "./kernel-sources.ts";
import { cgroupCountersScript, kernelSourcesScript } from "./probe/kernel-sources-script.ts";
import { splitSections } from "./probe/probe-output.ts";
import { listRunProcesses } from "./run-process-list.ts";
import { describeProcessScope, describeRunProcess, type RunProcesses } from "./run-processes.ts";

/** One line of `trainops check` about a run's processes and OOM-kill sources. */
export interface ProcessCheckResult {
  check: "processes" | "workers" | "oom-kill";
  ok: boolean;
  detail: string;
}

/**
 * What `trainops check` says about a run's processes and how a host OOM kill would be seen:
 * the processes a restart would signal (and how that set was bounded), how the data-loader
 * workers were found, and which OOM-kill sources the SSH user can read, with what to grant
 * when no kernel-side source works.
 */
export async function checkRunProcesses(
  run: RunConfig,
  transport: Transport,
): Promise<ProcessCheckResult[]> {
  let processes: RunProcesses;
  try {
    processes = await listRunProcesses(transport, run);
  } catch (error) {
    return [{ check: "processes", ok: false, detail: (error as Error).message }];
  }
  const results: ProcessCheckResult[] = [
    processesResult(run, processes),
    workersResult(run, processes),
  ];
  results.push(await oomSourcesResult(transport, processes.summary.trainer?.pid ?? null));
  return results;
}

function processesResult(run: RunConfig, processes: RunProcesses): ProcessCheckResult {
  const scope = describeProcessScope(processes.scope);
  if (processes.tree.length === 0) {
    return {
      check: "processes",
      ok: true,
      detail: `training not running: nothing would be signalled (looked for '${run.process}' among ${scope}, ${run.workdir})`,
    };
  }
  const n = processes.tree.length;
  return {
    check: "processes",
    ok: true,
    detail: `a restart would signal ${n} process${n === 1 ? "" : "es"} (${scope}): ${processes.tree.map(describeRunProcess).join("; ")}`,
  };
}

function workersResult(run: RunConfig, processes: RunProcesses): ProcessCheckResult {
  const { workers, workersFoundBy, trainer } = processes.summary;
  const mib = Math.round(workers.rssBytes / 1024 / 1024);
  switch (workersFoundBy) {
    case "comm":
      return {
        check: "workers",
        ok: true,
        detail: `${workers.count} data-loader workers (${mib} MiB), found by comm '${run.workerProcess}' (PyTorch 2.x names its workers)`,
      };
    case "forked":
      return {
        check: "workers",
        ok: true,
        detail: `${workers.count} data-loader workers (${mib} MiB), found as the trainer's forked children with its command line (PyTorch 1.x leaves them unnamed)`,
      };
    case null:
      return {
        check: "workers",
        ok: true,
        detail: trainer
          ? `none found (looked for comm '${run.workerProcess}' and for forked children of pid ${trainer.pid} with its command line)`
          : "none: training not running",
      };
  }
}

async function oomSourcesResult(
  transport: Transport,
  trainerPid: number | null,
): Promise<ProcessCheckResult> {
  const mark = `@@${randomBytes(8).toString("hex")}`;
  let kernel: KernelSection;
  let counters: Map<string, number>;
  try {
    const first = await transport.run(
      [
        `M=${shellQuote(mark)}`,
        "read -r up _ < /proc/uptime 2>/dev/null",
        kernelSourcesScript({
          kernelMark: null,
          journalCursor: null,
          cgroupPid: trainerPid,
          cgroupFiles: [],
        }),
        "printf '%s end\\n' \"$M\"",
      ].join("\n"),
    );
    const sections = splitSections(first.stdout.toString("utf8"), mark);
    kernel = parseKernelSection(sections.get("kernel") ?? "");
    const files = cgroupCounterFiles(sections.get("cgroup") ?? "");
    counters = new Map();
    if (files.length > 0) {
      const second = await transport.run(
        [`M=${shellQuote(mark)}`, cgroupCountersScript(null, files)].join("\n"),
      );
      counters = parseOomCounters(
        splitSections(second.stdout.toString("utf8"), mark).get("oom") ?? "",
      );
    }
  } catch (error) {
    return { check: "oom-kill", ok: false, detail: (error as Error).message };
  }
  const parts: string[] = [];
  parts.push(
    kernel.source === "dmesg"
      ? "dmesg: readable"
      : `dmesg: refused${kernel.dmesgError ? ` (${kernel.dmesgError})` : ""}`,
  );
  if (kernel.source !== "dmesg") {
    parts.push(
      kernel.source === "journal"
        ? "kernel journal (journalctl -k): readable"
        : `kernel journal: refused${kernel.journalError ? ` (${kernel.journalError})` : ""}`,
    );
  }
  const cgroupFile = [...counters.keys()][0];
  parts.push(
    cgroupFile
      ? `cgroup OOM counter: readable (${cgroupFile}, oom_kill ${counters.get(cgroupFile)})`
      : trainerPid === null
        ? "cgroup OOM counter: unknown until training runs"
        : "cgroup OOM counter: not readable (no memory.events or memory.oom_control)",
  );
  parts.push("killed workers: from PyTorch's own message in the log");
  const kernelOk = kernel.source !== "none";
  return {
    check: "oom-kill",
    ok: kernelOk || cgroupFile !== undefined,
    detail: `${parts.join("; ")}${kernelOk ? "" : ` — ${cgroupFile ? "a kill outside the trainer's cgroup is not named; to see every host OOM kill, " : "host OOM kills are not seen; "}${KERNEL_LOG_GRANT}`}`,
  };
}
