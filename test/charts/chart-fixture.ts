import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { ChartSource } from "../../src/charts/chart-series.ts";
import { type Db, openDatabase } from "../../src/store/database.ts";
import { EventsRepo } from "../../src/store/events-repo.ts";
import { SampleRollupsRepo } from "../../src/store/sample-rollups-repo.ts";
import { SamplesRepo } from "../../src/store/samples-repo.ts";
import { gpuSample, runSample } from "../harness/sample-factory.ts";

/** A fixed moment: every chart drawn from this store is the same picture. */
export const NOW = Date.UTC(2026, 11, 7, 14, 2, 0);
export const MIN = 60_000;
export const HOUR = 60 * MIN;
export const DAY = 24 * HOUR;

/** A real SQLite store filled with a deterministic run (no randomness, fixed clock). */
export interface ChartStoreFixture extends ChartSource {
  db: Db;
  samples: SamplesRepo;
  /** Rolls samples past the raw window up, as housekeeping does. */
  sampleRollups: SampleRollupsRepo;
  events: EventsRepo;
  /** Samples every `every` ms over [from, to): step time drops at `fasterFrom`, memory wobbles. */
  fill(from: number, to: number, every: number, fasterFrom?: number): void;
  oom(at: number): void;
  close(): void;
}

export function chartStore(): ChartStoreFixture {
  const dir = mkdtempSync(join(tmpdir(), "trainops-charts-"));
  const db = openDatabase(join(dir, "charts.db"));
  const samples = new SamplesRepo(db);
  const events = new EventsRepo(db);
  return {
    db,
    samples,
    sampleRollups: new SampleRollupsRepo(db),
    events,
    fill(from, to, every, fasterFrom = Number.POSITIVE_INFINITY) {
      const rows = [];
      for (let at = from, i = 0; at < to; at += every, i++) {
        const fast = at >= fasterFrom;
        const stepTimeSeconds = (fast ? 9.4 : 18.1) + 0.4 * Math.sin(i / 7);
        rows.push(
          runSample({
            at,
            stepTimeSeconds,
            stepsPerHour: 3600 / stepTimeSeconds,
            loss: 0.3 + 0.6 * Math.exp(-i / 150) + 0.01 * Math.sin(i / 2),
            gpus: [
              gpuSample({
                memoryUsedMiB: (fast ? 74_000 : 61_000) + 900 * Math.sin(i / 5),
                utilizationPercent: (fast ? 88 : 46) + 6 * Math.sin(i / 3),
              }),
            ],
            hostMemory: {
              usedBytes: (fast ? 52 : 41) * 1024 ** 3 + 2 * 1024 ** 3 * Math.sin(i / 11),
              totalBytes: 128 * 1024 ** 3,
            },
          }),
        );
      }
      samples.insertMany(rows);
    },
    oom(at) {
      events.insert("exp001", at, {
        kind: "cuda_oom",
        line: "torch.OutOfMemoryError: CUDA out of memory",
        lineNumber: 1,
        source: "log",
      });
    },
    close() {
      db.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
