import type { ChartLayout } from "../../src/charts/chart-layout.ts";
import { drawPhaseComparison } from "../../src/charts/phase-comparison-chart.ts";
import { drawRunChart } from "../../src/charts/run-chart.ts";
import type { MessageImage } from "../../src/message/message.ts";
import { chartStore, DAY, HOUR, MIN, NOW } from "./chart-fixture.ts";

/** A chart drawn from a deterministic store, named after its golden file. */
export interface ChartScenario {
  name: string;
  draw(): { image: MessageImage; layout: ChartLayout };
}

const LIMITS = { gpuMemoryGiB: 80, hostMemoryGiB: 100 };

function withStore<T>(build: (s: ReturnType<typeof chartStore>) => T): T {
  const store = chartStore();
  try {
    return build(store);
  } finally {
    store.close();
  }
}

/** The pictures the golden files hold: each kind of axis, crowding and split people see. */
export const CHART_SCENARIOS: ChartScenario[] = [
  {
    name: "status-overview-2h",
    draw: () =>
      withStore((s) => {
        s.fill(NOW - 2 * HOUR, NOW, 30_000, NOW - 50 * MIN);
        s.oom(NOW - 30 * MIN);
        return drawRunChart(s, {
          run: "exp001",
          from: NOW - 2 * HOUR,
          to: NOW,
          limits: LIMITS,
          markers: [{ at: NOW - 50 * MIN, label: "P1" }],
        });
      }),
  },
  {
    name: "step-time-crowded-markers",
    draw: () =>
      withStore((s) => {
        s.fill(NOW - 6 * HOUR, NOW, 60_000, NOW - 3 * HOUR);
        for (let i = 0; i < 6; i++) s.oom(NOW - 100 * MIN + i * 2 * MIN);
        s.oom(NOW - 2 * MIN);
        return drawRunChart(s, {
          run: "exp001",
          from: NOW - 6 * HOUR,
          to: NOW,
          metrics: ["step_time"],
          markers: [
            { at: NOW - 6 * HOUR + 1 * MIN, label: "P1" },
            { at: NOW - 3 * HOUR, label: "P2" },
            { at: NOW - 3 * HOUR + 4 * MIN, label: "rollback", kind: "rollback" },
            { at: NOW - 3 * HOUR + 8 * MIN, label: "restart", kind: "restart" },
            { at: NOW - 3 * HOUR + 12 * MIN, label: "P3" },
            { at: NOW - 3 * HOUR + 14 * MIN, label: "restart", kind: "restart" },
            { at: NOW - 3 * HOUR + 16 * MIN, label: "P4" },
            { at: NOW - 1 * MIN, label: "P5" },
          ],
        });
      }),
  },
  {
    name: "verdict-phase-focus",
    draw: () =>
      withStore((s) => {
        const startedAt = NOW - 40 * MIN;
        s.fill(NOW - 80 * MIN, NOW, 30_000, startedAt);
        return drawRunChart(s, {
          run: "exp001",
          from: startedAt - 40 * MIN,
          to: NOW + 1,
          focusFrom: startedAt,
          limits: LIMITS,
          markers: [{ at: startedAt, label: "P2" }],
          title: "exp001: Phase 2 passed",
          name: "exp001-phase2-passed.png",
        });
      }),
  },
  {
    name: "window-90s",
    draw: () =>
      withStore((s) => {
        s.fill(NOW - 90_000, NOW, 2_000);
        return drawRunChart(s, {
          run: "exp001",
          from: NOW - 90_000,
          to: NOW,
          metrics: ["gpu_util"],
          width: 640,
          height: 320,
        });
      }),
  },
  {
    name: "window-30d-berlin",
    draw: () =>
      withStore((s) => {
        s.fill(NOW - 30 * DAY, NOW, 10 * MIN, NOW - 9 * DAY);
        // Older samples live in the roll-ups, as in a long-running store.
        while (s.sampleRollups.rollUp("exp001", NOW - 2 * DAY, 24 * 40) > 0);
        return drawRunChart(s, {
          run: "exp001",
          from: NOW - 30 * DAY,
          to: NOW,
          limits: LIMITS,
          markers: [{ at: NOW - 9 * DAY, label: "P1" }],
          timeZone: "Europe/Berlin",
        });
      }),
  },
  {
    name: "throughput-and-loss-25h",
    draw: () =>
      withStore((s) => {
        s.fill(NOW - 25 * HOUR, NOW, 5 * MIN, NOW - 7 * HOUR);
        return drawRunChart(s, {
          run: "exp001",
          from: NOW - 25 * HOUR,
          to: NOW,
          metrics: ["throughput", "loss"],
          markers: [
            { at: NOW - 7 * HOUR, label: "P1" },
            { at: NOW - 3 * HOUR, label: "restart", kind: "restart" },
          ],
        });
      }),
  },
  {
    name: "plan-phase-comparison",
    draw: () =>
      drawPhaseComparison({
        run: "exp001",
        title: "exp001: safe-optimization, step time and throughput per phase",
        throughputUnit: "samples/s",
        phases: [
          { label: "Base", stepTimeSeconds: 18.1, throughput: 1 / 18.1, state: "baseline" },
          { label: "P1", stepTimeSeconds: 9.4, throughput: 1 / 9.4, state: "passed" },
          { label: "P2", stepTimeSeconds: 11.8, throughput: 2 / 11.8, state: "failed" },
          { label: "P3", stepTimeSeconds: 6.1, throughput: 2 / 6.1, state: "measuring" },
          { label: "P4", stepTimeSeconds: null, throughput: null, state: "pending" },
          { label: "P5", stepTimeSeconds: null, throughput: null, state: "pending" },
        ],
      }),
  },
];
