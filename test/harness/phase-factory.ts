import type { PhaseMeasure } from "../../src/ops/criteria.ts";
import type { PhaseAttempt } from "../../src/store/phases-repo.ts";

/**
 * A phase attempt to store (`PhasesRepo.create`): phase 2 of exp001's plan, "Test batch size 2"
 * (2 workers, batch 2), passed and waiting for a person, nothing recorded beyond that; with
 * overrides.
 */
export function newPhaseAttempt(
  over: Partial<Omit<PhaseAttempt, "id">> = {},
): Omit<PhaseAttempt, "id"> {
  return {
    run: "exp001",
    plan: "safe",
    phaseIndex: 2,
    kind: "phase",
    name: "Test batch size 2",
    state: "passed",
    startedAt: 0,
    measureFrom: 0,
    endedAt: 1,
    workers: 2,
    batch: 2,
    configBefore: null,
    configAfter: null,
    result: null,
    reason: null,
    rolledBackAt: null,
    paused: true,
    actor: null,
    ...over,
  };
}

/** {@link newPhaseAttempt} as the store gives it back, with id 3; with overrides. */
export function phaseAttempt(over: Partial<PhaseAttempt> = {}): PhaseAttempt {
  return { id: 3, ...newPhaseAttempt(), ...over };
}

/**
 * What the phase engine measured of a phase: 110 steps (100 judged) at 5.44 s, VRAM peak
 * 77.6 GiB, 14 GiB of RAM in the training's processes, GPUs 48 % busy, no OOM or crash; with
 * overrides.
 */
export function phaseMeasure(over: Partial<PhaseMeasure> = {}): PhaseMeasure {
  return {
    samples: 120,
    steps: 110,
    evalSteps: 100,
    stepTimeSeconds: 5.4432,
    wallMsPerStep: 5443,
    vramPeakGiB: 77.6,
    ramPeakGiB: 14,
    ramSource: "processes",
    gpuUtilMeanPercent: 48,
    unreachableTail: 0,
    notAliveTail: 0,
    oom: null,
    crash: null,
    ...over,
  };
}
