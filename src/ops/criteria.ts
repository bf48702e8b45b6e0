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
    if (job !== null) ram = Math.max(ram ?? 0, job / GIB);
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
      times.length > 0 ? median(times) : wallMsPerStep !== null ? wallMsPerStep / 1000 : null,
    wallMsPerStep,
    vramPeakGiB: vram,
    ramPeakGiB: ram,
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

/** One criterion and whether it holds: true ✓, false ✗, null not known yet. */
export interface Check {
  ok: boolean | null;
  text: string;
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
    return { verdict: "failed", reason: `${m.oom.kind}: ${m.oom.line}`, checks };
  if (c.noCrash && m.crash)
    return { verdict: "failed", reason: `${m.crash.kind}: ${m.crash.line}`, checks };
  if (c.maxVramGiB !== undefined && m.vramPeakGiB !== null && m.vramPeakGiB >= c.maxVramGiB)
    return {
      verdict: "failed",
      reason: `VRAM peak ${gib(m.vramPeakGiB)} GiB ≥ ${c.maxVramGiB}`,
      checks,
    };
  if (c.maxHostRamGiB !== undefined && m.ramPeakGiB !== null && m.ramPeakGiB >= c.maxHostRamGiB)
    return {
      verdict: "failed",
      reason: `RAM peak ${gib(m.ramPeakGiB)} GiB ≥ ${c.maxHostRamGiB}`,
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
    const open = checks.filter((check) => check.ok !== true && !check.text.startsWith("steps"));
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
      text: `steps ${m.evalSteps}/${hold.minSteps}${input.warmupSteps ? ` (after ${input.warmupSteps} warm-up)` : ""}`,
    },
  ];
  if (c.noOom)
    out.push({ ok: m.oom ? false : null, text: m.oom ? `OOM: ${m.oom.kind}` : "no OOM" });
  if (c.noCrash)
    out.push({ ok: m.crash ? false : null, text: m.crash ? `crash: ${m.crash.kind}` : "no crash" });
  if (c.maxVramGiB !== undefined) out.push(bound("VRAM peak", m.vramPeakGiB, c.maxVramGiB));
  if (c.maxHostRamGiB !== undefined) out.push(bound("RAM peak", m.ramPeakGiB, c.maxHostRamGiB));
  if (c.maxStepTimeRatio !== undefined) {
    const was = ref?.stepTimeSeconds ?? null;
    const now = m.stepTimeSeconds;
    const ok = was === null || now === null ? null : now < was * c.maxStepTimeRatio;
    out.push({
      ok: was === null && now !== null ? true : ok,
      text: `step time ${now === null ? "…" : `${secs(now)} s`}${was === null ? "" : ` vs ${secs(was)} s`}`,
    });
  }
  if (c.minThroughputRatio !== undefined) {
    const was = throughput(ref?.batch ?? null, ref?.stepTimeSeconds ?? null);
    const now = throughput(batch, m.stepTimeSeconds);
    const ok = was === null || now === null ? null : now > was * c.minThroughputRatio;
    out.push({
      ok: was === null && now !== null ? true : ok,
      text: `throughput ${now === null ? "…" : `${now.toFixed(2)}/s`}${was === null ? "" : ` vs ${was.toFixed(2)}/s`}`,
    });
  }
  if (c.minGpuUtilPercent !== undefined) {
    const u = m.gpuUtilMeanPercent;
    out.push({
      ok: u === null ? null : u > c.minGpuUtilPercent,
      text: `GPU util ${u === null ? "…" : `${Math.round(u)}%`} > ${c.minGpuUtilPercent}%`,
    });
  }
  // Bounds and "no OOM" hold until broken, so they count as met once the steps are in.
  if (m.evalSteps >= hold.minSteps)
    for (const check of out)
      if (check.ok === null && !/step time|throughput|GPU util/.test(check.text)) check.ok = true;
  return out;
}

function bound(label: string, value: number | null, max: number): Check {
  if (value === null) return { ok: null, text: `${label} … < ${max} GiB` };
  return value < max
    ? { ok: null, text: `${label} ${gib(value)} < ${max} GiB` }
    : { ok: false, text: `${label} ${gib(value)} ≥ ${max} GiB` };
}

/** Patches (samples) per second: batch / step time. */
export function throughput(batch: number | null, stepTimeSeconds: number | null): number | null {
  if (batch === null || stepTimeSeconds === null || stepTimeSeconds <= 0) return null;
  return batch / stepTimeSeconds;
}

/** Check lines for people, e.g. "✓ VRAM peak 77.6 < 80 GiB". */
export function checkLines(checks: readonly Check[]): string[] {
  return checks.map((c) => `${c.ok === true ? "✓" : c.ok === false ? "✗" : "…"} ${c.text}`);
}

export function gib(value: number): string {
  return value.toFixed(1);
}

export function secs(value: number): string {
  return value >= 10 ? value.toFixed(1) : value.toFixed(2).replace(/0$/, "");
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2
    ? (sorted[mid] as number)
    : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
}

function tail(samples: readonly RunSample[], test: (s: RunSample) => boolean): number {
  let n = 0;
  for (let i = samples.length - 1; i >= 0 && test(samples[i] as RunSample); i--) n++;
  return n;
}
