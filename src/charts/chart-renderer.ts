import type { ChartPort } from "./chart-port.ts";
import { renderPhaseComparison } from "./phase-comparison-chart.ts";
import { renderRunChart } from "./run-chart.ts";

/** The product's charts on the bundled canvas: run charts and the plan's phase comparison. */
export function chartRenderer(): ChartPort {
  return {
    render: (source, options) => renderRunChart(source, options),
    comparePhases: (options) => renderPhaseComparison(options),
  };
}
