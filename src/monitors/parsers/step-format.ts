import type { StepPoint } from "../../model/monitoring.ts";

/**
 * One logger's progress format. A matcher may keep state (for example the last tqdm step, to
 * which a later Hugging Face metrics dict attaches its loss), so each parser makes its own.
 */
export interface StepFormat {
  readonly name: string;
  readonly description: string;
  /** False when `auto` must not pick it (hf-trainer: tqdm detects it by its first dict). */
  readonly autoDetect?: boolean;
  createMatcher(): StepMatcher;
}

/** The stateful half of a {@link StepFormat}. */
export interface StepMatcher {
  /** The format's name; a matcher may refine it (tqdm becomes hf-trainer on a metrics dict). */
  readonly name: string;
  match(line: string): StepPoint | null;
}

/** A progress point; the fields a format does not show are null. */
export function stepPoint(step: number, fields: Partial<Omit<StepPoint, "step">> = {}): StepPoint {
  return {
    step,
    total: fields.total ?? null,
    epoch: fields.epoch ?? null,
    loss: fields.loss ?? null,
    stepTime: fields.stepTime ?? null,
  };
}

/** A named capture; `name2` stands in where an alternative needed a second group. */
export function namedGroup(match: RegExpExecArray | null, name: string): string | undefined {
  return match?.groups?.[name] ?? match?.groups?.[`${name}2`];
}
