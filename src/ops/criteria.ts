import { median as medianOf } from "../core/statistics.ts";
import { formatGiBValue, formatSecondsValue } from "../message/format.ts";
import { describeError, errorKindLabel } from "../model/error-kind-labels.ts";
import type { ErrorKind, RunSample } from "../model/monitoring.ts";
import type { StoredEvent } from "../store/events-repo.ts";
import type { PhaseCriteria } from "./plan-schema.ts";

const GIB = 1024 ** 3;

/** Error kinds that mean memory ran out, of any kind. */
export const OOM_KINDS: ReadonlySet<ErrorKind> = new Set<ErrorKind>([
  "cuda_oom",
  "host_oom_kill",
  "worker_killed",
  "shm_exhausted",
]);

/** Error kinds that mean training crashed (a KeyboardInterrupt from our own stop is not one). */
export const CRASH_KINDS: ReadonlySet<ErrorKind> = new Set<ErrorKind>([
  "traceback",
  "killed",
  "cuda_error",
  "gpu_fault",
  "nccl_timeout",
]);

/** What a phase's own samples and events say. */
export interface PhaseMeasure {
  samples: number;
  /** Steps trained since the phase started (restarts within the window add up). */
  steps: number;
  /** Steps after the warm-up, the ones judged. */
  evalSteps: number;
  /** Median step time after the warm-up, seconds. */
  stepTimeSeconds: number | null;
  /** Wall milliseconds per step after the warm-up; paces the time budget. */
  wallMsPerStep: number | null;
  vramPeakGiB: number | null;
  ramPeakGiB: number | null;
  /**
   * What `ramPeakGiB` measured: the training's own processes (trainer + data-loader workers,
   * resident set) or, when the probe saw none, the whole host's used RAM.
   */
  ramSource: "processes" | "host" | null;
  gpuUtilMeanPercent: number | null;
  /** Consecutive newest samples where the VM did not answer / training was not running. */
  unreachableTail: number;
  notAliveTail: number;
  oom: { kind: ErrorKind; line: string; at: number } | null;
  crash: { kind: ErrorKind; line: string; at: number } | null;
}

/**
 * Measures a phase over its own samples (oldest first) and events. Bounds (VRAM, RAM) look at
 * every sample, warm-up included, because an OOM does not wait for the warm-up; speed and
 * utilisation look only after the first `warmupSteps` steps, when caches and workers settle.
 */
export function measurePhase(
  samples: readonly RunSample[],
  events: readonly StoredEvent[],
  warmupSteps: number,
): PhaseMeasure {
  let steps = 0;
  let lastStep: number | null = null;
  let warmEnd: RunSample | null = null;
  let warmEndSteps = 0;
  const after: RunSample[] = [];
  let vram: number | null = null;
  let ram: number | null = null;
  let ramSource: PhaseMeasure["ramSource"] = null;
  for (const sample of samples) {
    if (sample.step !== null) {
      if (lastStep !== null && sample.step > lastStep) steps += sample.step - lastStep;
      lastStep = sample.step;
    }
    if (warmEnd === null && lastStep !== null && steps >= warmupSteps) {
      warmEnd = sample;
      warmEndSteps = steps;
    } else if (warmEnd !== null) {
      after.push(sample);
    }
    const gpuMax = Math.max(-1, ...sample.gpus.map((g) => g.memoryUsedMiB ?? -1));
    if (gpuMax >= 0) vram = Math.max(vram ?? 0, gpuMax / 1024);
    const job =
      sample.workers !== null || sample.trainerRssBytes !== null
        ? (sample.workers?.rssBytes ?? 0) + (sample.trainerRssBytes ?? 0)
        : (sample.hostMemory?.usedBytes ?? null);
    if (job !== null) {
      ram = Math.max(ram ?? 0, job / GIB);
      ramSource ??=
        sample.workers !== null || sample.trainerRssBytes !== null ? "processes" : "host";
    }
  }
  const evalSteps = warmEnd ? steps - warmEndSteps : 0;
  const times = after.map((s) => s.stepTimeSeconds).filter((v): v is number => v !== null && v > 0);
  const last = after[after.length - 1];
  const wallMsPerStep =
    warmEnd && last && evalSteps > 0 ? (last.at - warmEnd.at) / evalSteps : null;
  const utils = after.flatMap((s) =>
    s.gpus.map((g) => g.utilizationPercent).filter((v): v is number => v !== null),
  );
  const firstOf = (kinds: ReadonlySet<ErrorKind>) => {
    const event = events.find((e) => kinds.has(e.kind));
    // The decisive line can be very long (CUDA's OOM advice); a verdict needs its head.
    const line = event && event.line.length > 160 ? `${event.line.slice(0, 157)}…` : event?.line;
    return event ? { kind: event.kind, line: line as string, at: event.at } : null;
  };
  return {
    samples: samples.length,
    steps,
    evalSteps,
    stepTimeSeconds:
      times.length > 0 ? medianOf(times) : wallMsPerStep !== null ? wallMsPerStep / 1000 : null,
    wallMsPerStep,
    vramPeakGiB: vram,
    ramPeakGiB: ram,
    ramSource,
    gpuUtilMeanPercent: utils.length ? utils.reduce((a, b) => a + b, 0) / utils.length : null,
    unreachableTail: tail(samples, (s) => !s.reachable),
    notAliveTail: tail(samples, (s) => s.reachable && s.alive === false),
    oom: firstOf(OOM_KINDS),
    crash: firstOf(CRASH_KINDS),
  };
}

/** The phase this one is compared with (the last passed one). */
export interface Reference {
  name: string;
  stepTimeSeconds: number | null;
  batch: number | null;
}

/**
 * One criterion and whether it holds: true ✓, false ✗, null not known yet. `text` prints the
 * measure and the bound apart: "GPU util 48% (needs > 50%)"; `measured` is false while there is
 * no figure yet, so a verdict can list what it did not judge instead of a placeholder.
 */
export interface Check {
  ok: boolean | null;
  text: string;
  /** What the check is about, without figures: "GPU util". */
  label?: string;
  /** Whether a figure was measured for it (absent on checks stored before this existed). */
  measured?: boolean;
}

export type Judgement =
  | { verdict: "continue"; state: "warming" | "evaluating"; checks: Check[] }
  | { verdict: "passed" | "failed" | "inconclusive"; reason: string; checks: Check[] };

export interface JudgeInput {
  measure: PhaseMeasure;
  criteria: PhaseCriteria;
  hold: { minSteps: number; maxSteps: number };
  warmupSteps: number;
  batch: number | null;
  reference: Reference | null;
  /** The time budget ran out (inconclusive when minSteps are not reached). */
  overBudget: boolean;
  /** Polls in a row without an answer before the phase is called inconclusive. */
  unreachablePolls?: number;
}

/** Applies a phase's criteria to its measurement. */
export function judgePhase(input: JudgeInput): Judgement {
  const { measure: m, criteria: c, hold } = input;
  const checks = describeChecks(input);
  if (c.noOom && m.oom)
    return { verdict: "failed", reason: `${describeError(m.oom.kind, m.oom.line)}`, checks };
  if (c.noCrash && m.crash)
    return {
      verdict: "failed",
      reason: describeError(m.crash.kind, m.crash.line),
      checks,
    };
  if (c.maxVramGiB !== undefined && m.vramPeakGiB !== null && m.vramPeakGiB >= c.maxVramGiB)
    return {
      verdict: "failed",
      reason: `VRAM peak ${formatGiBValue(m.vramPeakGiB)} (needs < ${c.maxVramGiB} GiB)`,
      checks,
    };
  if (c.maxHostRamGiB !== undefined && m.ramPeakGiB !== null && m.ramPeakGiB >= c.maxHostRamGiB)
    return {
      verdict: "failed",
      reason: `${ramLabel(m.ramSource)} ${formatGiBValue(m.ramPeakGiB)} (needs < ${c.maxHostRamGiB} GiB)`,
      checks,
    };
  // A baseline (noCrash off) waits for training to run instead of failing.
  if (c.noCrash && m.notAliveTail >= 2)
    return { verdict: "failed", reason: "the training process stopped", checks };
  if (m.unreachableTail >= (input.unreachablePolls ?? 3))
    return {
      verdict: "inconclusive",
      reason: `the VM did not answer ${m.unreachableTail} polls in a row`,
      checks,
    };
  if (m.evalSteps >= hold.minSteps) {
    const open = checks.filter((check) => check.ok !== true && check.label !== "steps");
    if (open.length === 0) return { verdict: "passed", reason: "all criteria met", checks };
    if (m.evalSteps >= hold.maxSteps)
      return {
        verdict: "failed",
        reason: `after ${m.evalSteps} steps: ${open.map((o) => o.text).join("; ")}`,
        checks,
      };
  } else if (input.overBudget) {
    return {
      verdict: "inconclusive",
      reason: `only ${m.evalSteps} of ${hold.minSteps} steps within the time budget`,
      checks,
    };
  }

  return {
    verdict: "continue",
    state:
      m.steps < input.warmupSteps || (m.evalSteps === 0 && input.warmupSteps > 0)
        ? "warming"
        : "evaluating",
    checks,
  };
}

function describeChecks(input: JudgeInput): Check[] {
  const { measure: m, criteria: c, hold, reference: ref, batch } = input;
  const out: Check[] = [
    {
      ok: m.evalSteps >= hold.minSteps ? true : null,
      label: "steps",
      measured: true,
      text: `steps ${m.evalSteps} (needs ${hold.minSteps}${input.warmupSteps ? ` after ${input.warmupSteps} warm-up` : ""})`,
    },
  ];
  if (c.noOom)
    out.push({
      ok: m.oom ? false : null,
      label: "no out-of-memory",
      measured: true,
      text: m.oom ? `out of memory: ${errorKindLabel(m.oom.kind)}` : "no out-of-memory",
    });
  if (c.noCrash)
    out.push({
      ok: m.crash ? false : null,
      label: "no crash",
      measured: true,
      text: m.crash ? `crashed: ${errorKindLabel(m.crash.kind)}` : "no crash",
    });
  if (c.maxVramGiB !== undefined) out.push(bound("VRAM peak", m.vramPeakGiB, c.maxVramGiB));
  if (c.maxHostRamGiB !== undefined)
    out.push(bound(ramLabel(m.ramSource), m.ramPeakGiB, c.maxHostRamGiB));
  if (c.maxStepTimeRatio !== undefined) {
    const was = ref?.stepTimeSeconds ?? null;
    const now = m.stepTimeSeconds;
    const limit = was === null ? null : was * c.maxStepTimeRatio;
    const ok = limit === null || now === null ? null : now < limit;
    out.push({
      ok: was === null && now !== null ? true : ok,
      label: "step time",
      measured: now !== null,
      text: `step time ${now === null ? "not measured yet" : `${formatSecondsValue(now)} s`}${limit === null || was === null ? "" : ` (needs < ${formatSecondsValue(limit)} s${relativeTo(c.maxStepTimeRatio, `${formatSecondsValue(was)} s`, ref?.name)})`}`,
    });
  }
  if (c.minThroughputRatio !== undefined) {
    const was = throughput(ref?.batch ?? null, ref?.stepTimeSeconds ?? null);
    const now = throughput(batch, m.stepTimeSeconds);
    const limit = was === null ? null : was * c.minThroughputRatio;
    const ok = limit === null || now === null ? null : now > limit;
    out.push({
      ok: was === null && now !== null ? true : ok,
      label: "throughput",
      measured: now !== null,
      text: `throughput ${now === null ? "not measured yet" : `${now.toFixed(2)} samples/s`}${limit === null || was === null ? "" : ` (needs > ${limit.toFixed(2)}/s${relativeTo(c.minThroughputRatio, `${was.toFixed(2)}/s`, ref?.name)})`}`,
    });
  }
  if (c.minGpuUtilPercent !== undefined) {
    const u = m.gpuUtilMeanPercent;
    out.push({
      ok: u === null ? null : u > c.minGpuUtilPercent,
      label: "GPU util",
      measured: u !== null,
      text: `GPU util ${u === null ? "not measured yet" : `${Math.round(u)}%`} (needs > ${c.minGpuUtilPercent}%)`,
    });
  }
  // Bounds and "no OOM" hold until broken, so they count as met once the steps are in.
  if (m.evalSteps >= hold.minSteps)
    for (const check of out)
      if (check.ok === null && check.measured !== false && !RELATIVE.has(check.label ?? ""))
        check.ok = true;
  return out;
}

/** ": 0.9 × 18.1 s of Baseline", or ", as Baseline" when the bound is the reference itself. */
function relativeTo(ratio: number, was: string, name: string | undefined): string {
  const of = name ? ` of ${name}` : "";
  return ratio === 1 ? (name ? `, as ${name}` : "") : `: ${ratio} × ${was}${of}`;
}

/** Checks that compare with the reference: met only by a figure, never by default. */
const RELATIVE = new Set(["step time", "throughput", "GPU util"]);

/** "training RSS peak" (trainer + data-loader workers) when those were measured, else "host RAM peak". */
export function ramLabel(source: PhaseMeasure["ramSource"]): string {
  return source === "host" ? "host RAM peak" : "training RSS peak";
}

function bound(label: string, value: number | null, max: number): Check {
  const needs = `(needs < ${max} GiB)`;
  if (value === null)
    return { ok: null, label, measured: false, text: `${label} not measured yet ${needs}` };
  return {
    ok: value < max ? null : false,
    label,
    measured: true,
    text: `${label} ${formatGiBValue(value)} ${needs}`,
  };
}

/** Patches (samples) per second: batch / step time. */
export function throughput(batch: number | null, stepTimeSeconds: number | null): number | null {
  if (batch === null || stepTimeSeconds === null || stepTimeSeconds <= 0) return null;
  return batch / stepTimeSeconds;
}

/** Check lines for people while a phase runs, e.g. "✓ VRAM peak 77.6 GiB (needs < 80 GiB)". */
export function checkLines(checks: readonly Check[]): string[] {
  return checks.map((c) => `${c.ok === true ? "✓" : c.ok === false ? "✗" : "…"} ${c.text}`);
}

/**
 * Check lines after a verdict: only what was judged (✓ or ✗), then one line naming what was
 * not, so nothing reads as still pending once the phase has ended.
 */
export function verdictCheckLines(checks: readonly Check[]): string[] {
  const judged = checks.filter((c) => c.ok !== null);
  const open = checks.filter((c) => c.ok === null);
  const lines = checkLines(judged);
  if (open.length)
    lines.push(
      `Not judged: ${open.map((c) => c.label ?? c.text.replace(/ (not measured yet|…).*$/, "")).join(", ")} (the phase ended first).`,
    );
  return lines;
}

function tail(samples: readonly RunSample[], test: (s: RunSample) => boolean): number {
  let n = 0;
  for (let i = samples.length - 1; i >= 0 && test(samples[i] as RunSample); i--) n++;
  return n;
}
