import { parseLogNumber } from "./log-number.ts";
import { namedGroup, type StepFormat, type StepMatcher, stepPoint } from "./step-format.ts";

/** A stateless format: one regex with named groups, plus optional extra field regexes. */
export function regexFormat(spec: {
  name: string;
  description: string;
  pattern: RegExp;
  loss?: RegExp;
  epoch?: RegExp;
  stepTime?: RegExp;
  /** Applied to `stepTime`'s capture (for rates like `ups=0.5` → 2 s). */
  invertStepTime?: boolean;
  /** Text every matching line contains: a cheap test that spares most lines the regex. */
  requires?: string;
  /** Text a line needs before the `stepTime` regex is worth running. */
  stepTimeRequires?: readonly string[];
}): StepFormat {
  const matcher: StepMatcher = {
    name: spec.name,
    match(line) {
      if (spec.requires !== undefined && !line.includes(spec.requires)) return null;
      const m = spec.pattern.exec(line);
      if (!m) return null;
      const step = parseLogNumber(namedGroup(m, "step"));
      if (step === null || !Number.isFinite(step)) return null;
      const lossText = namedGroup(m, "loss") ?? namedGroup(spec.loss?.exec(line) ?? null, "loss");
      const timeWorthTrying =
        spec.stepTimeRequires === undefined || spec.stepTimeRequires.some((t) => line.includes(t));
      let stepTime = parseLogNumber(
        namedGroup(m, "stepTime") ??
          (timeWorthTrying ? namedGroup(spec.stepTime?.exec(line) ?? null, "stepTime") : undefined),
      );
      if (stepTime !== null && spec.invertStepTime) stepTime = stepTime > 0 ? 1 / stepTime : null;
      return stepPoint(step, {
        total: parseLogNumber(namedGroup(m, "total")),
        epoch: parseLogNumber(
          namedGroup(m, "epoch") ?? namedGroup(spec.epoch?.exec(line) ?? null, "epoch"),
        ),
        loss: parseLogNumber(lossText),
        stepTime,
      });
    },
  };
  return { name: spec.name, description: spec.description, createMatcher: () => matcher };
}
