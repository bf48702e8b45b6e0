import type { MessageImage } from "../message/message.ts";
import type { AuditRepo } from "../store/audit-repo.ts";
import type { EventsRepo } from "../store/events-repo.ts";
import type { PhasesRepo } from "../store/phases-repo.ts";
import type { SamplesRepo } from "../store/samples-repo.ts";
import type { ChartSource } from "./chart-series.ts";
import type { PhaseComparisonOptions } from "./phase-comparison-chart.ts";
import type { RunChartOptions } from "./run-chart.ts";

/** Chart rendering, injected so a front end (or a test) can swap or switch it off. */
export interface ChartPort {
  render(source: ChartSource, options: RunChartOptions): Promise<MessageImage>;
  /** The plan's step time and throughput per phase as bars; absent, `/train plan` has no chart. */
  comparePhases?(options: PhaseComparisonOptions): Promise<MessageImage>;
}

/** What a chart of a run reads: its samples and events, and its phase boundaries. */
export interface ChartStore {
  samples: SamplesRepo;
  events: EventsRepo;
  audit: AuditRepo;
  /** Phase attempts, drawn as phase boundaries on charts; the audit trail is used without it. */
  phases?: Pick<PhasesRepo, "list">;
}
