import type { RunConfig } from "../../src/config/schema.ts";
import type { RunSample } from "../../src/model/monitoring.ts";
import type { ProbeOutput } from "../../src/monitors/probe/probe-output.ts";
import { buildSample } from "../../src/monitors/sample-builder.ts";
import type { MonitorStore } from "../../src/store/monitor-store.ts";

/** What a probe prints when it found no log, GPU, process, memory or kernel line. */
export function quietProbeOutput(): ProbeOutput {
  return {
    logRest: null,
    log: { present: false },
    gpu: { text: "", status: null },
    apps: { text: "", status: null },
    meminfo: "",
    self: "",
    scope: "",
    wd: "",
    ps: "",
    args: "",
    kernel: "",
    cgroup: "",
    oom: "",
    disk: "",
    uptime: "",
    units: "",
    trainConfig: "",
  };
}

/**
 * The sample a poll at `at` builds when its probe saw nothing but the log: the steps the test fed
 * the store's ingestor are all it has. For tests of what the log alone tells.
 */
export function logOnlySample(run: RunConfig, at: number, store: MonitorStore): RunSample {
  return buildSample({
    run,
    at,
    output: quietProbeOutput(),
    recentSteps: store.steps.recent(run.name),
  });
}
