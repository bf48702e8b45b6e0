import { runSchema } from "../../src/config/schema.ts";
import type { RunSample } from "../../src/model/monitoring.ts";
import { LogIngestor } from "../../src/monitors/log-ingestor.ts";
import { type Db, openDatabase } from "../../src/store/database.ts";
import { createMonitorStore, type MonitorStore } from "../../src/store/monitor-store.ts";
import { logOnlySample } from "../harness/quiet-probe.ts";
import type { AlertHarness } from "./alert-fixture.ts";

/** The run the feed writes: exp001 with the plan's 4000 steps × 32 epochs. */
const RUN = runSchema.parse({
  name: "exp001",
  ssh: "local",
  workdir: "/tmp/work",
  log: "train.log",
  steps: { perEpoch: 4000, epochs: 32 },
});

/** A `Train step` line as the simulated trainer prints it (with its seconds per step). */
export function stepLine(step: number, loss: number, secondsPerStep: number): string {
  const epoch = Math.floor(step / 4000) + 1;
  const text = Number.isNaN(loss) ? "nan" : loss.toFixed(4);
  return `Train step ${step}/128000 (epoch ${epoch}/32) - loss: ${text} - lr: 1.0e-04 - ${secondsPerStep.toFixed(2)} s/step`;
}

/**
 * Feeds training log lines through the monitor's ingestor into the harness's store, one poll at
 * a time, and stores each poll's sample as the monitor builds it; the process table is stated
 * by `alive` (the probe here reads only the log).
 */
export class HealthLogFeed {
  private readonly db: Db;
  private readonly store: MonitorStore;
  private readonly ingestor: LogIngestor;
  private offset = 0;

  constructor(private readonly h: AlertHarness) {
    this.db = openDatabase(h.path);
    this.store = createMonitorStore(this.db);
    this.ingestor = new LogIngestor({
      run: "exp001",
      store: this.store,
      clock: h.clock,
      steps: { format: "auto" },
    });
  }

  /** One poll at the clock's time that read `lines`; returns its sample. */
  poll(lines: string[], alive: boolean | null = true): RunSample {
    const bytes = Buffer.from(lines.map((l) => `${l}\n`).join(""));
    this.ingestor.ingest({
      inode: "1",
      start: this.offset,
      bytes,
      reset: this.offset === 0 ? "attach" : "none",
    });
    this.offset += bytes.length;
    this.ingestor.storePendingStep();
    const sample = { ...logOnlySample(RUN, this.h.clock.now(), this.store), alive };
    this.store.samples.insert(sample);
    return sample;
  }

  close(): void {
    this.db.close();
  }
}
