import type { PhaseBar, PhaseBarState } from "../../charts/phase-comparison-chart.ts";
import type { MessageImage } from "../../message/message.ts";
import { throughput } from "../../ops/criteria.ts";
import type { PlanView } from "../../ops/run-operations.ts";
import type { CommandContext } from "./command-context.ts";

/**
 * `/train plan`'s chart: step time and throughput per phase against the baseline, or null when
 * charts are off, nothing is measured yet, or drawing failed (the table goes out regardless).
 * Throughput is samples/s (batch / step time) when every measured phase has a batch size, else
 * steps/h, so all bars share one unit.
 */
export async function planChart(ctx: CommandContext, view: PlanView): Promise<MessageImage | null> {
  const draw = ctx.options.charts?.comparePhases;
  if (!draw) return null;
  const measured = view.phases.filter((p) => p.stepTimeSeconds !== null);
  if (!measured.length) return null;
  const perSample = measured.every((p) => p.batch !== null);
  const phases: PhaseBar[] = view.phases.map((p) => ({
    label: p.index === 0 ? "Base" : `P${p.index}`,
    stepTimeSeconds: p.stepTimeSeconds,
    throughput:
      p.stepTimeSeconds === null || p.stepTimeSeconds <= 0
        ? null
        : perSample
          ? throughput(p.batch, p.stepTimeSeconds)
          : 3600 / p.stepTimeSeconds,
    state: barState(p),
  }));
  try {
    return await draw.call(ctx.options.charts, {
      run: view.run,
      title: `${view.run}: ${view.planName}, step time and throughput per phase`,
      phases,
      throughputUnit: perSample ? "samples/s" : "steps/h",
      name: `${view.run}-plan.png`,
    });
  } catch {
    return null;
  }
}

function barState(p: PlanView["phases"][number]): PhaseBarState {
  if (p.index === 0) return "baseline";
  switch (p.state) {
    case "passed":
      return "passed";
    case "failed":
      return "failed";
    case "inconclusive":
      return "inconclusive";
    case "applying":
    case "warming":
    case "evaluating":
      return "measuring";
    case "pending":
      return "pending";
  }
}
