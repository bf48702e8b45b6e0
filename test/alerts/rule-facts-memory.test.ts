import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";
import { afterEach, describe, expect, it } from "vitest";
import { configSchema } from "../../src/config/schema.ts";
import { gpuSample, runSample } from "../harness/sample-factory.ts";
import { type AlertHarness, alertHarness, GIB, T0 } from "./alert-fixture.ts";

// What the alert rules keep per run must not grow with the run's age: a day of samples held per
// run (2,880 at the default 30 s) is ~1 MB a run, 1 GB at 1,000 runs.
setFlagsFromString("--expose-gc");
const gc = runInNewContext("gc") as () => void;

const RUNS = 4;
/** Polls between two evaluations of a run's rules (they fold in every sample stored since). */
const EVALUATE_EVERY = 10;
const EVERY = 30_000;
const HOUR = 3_600_000;

/** Heap bytes still in use after a full collection. */
function heapUsed(): number {
  gc();
  gc();
  return process.memoryUsage().heapUsed;
}

let h: AlertHarness;
afterEach(() => h?.close());

/** `RUNS` runs on the plan's 8-GPU VM, every rule on. */
function harness(): AlertHarness {
  const runs = Array.from({ length: RUNS }, (_, i) => ({
    name: `run${i}`,
    ssh: "local",
    workdir: `/tmp/work${i}`,
    log: "train.log",
    steps: { perEpoch: 4000, epochs: 32 },
    limits: { gpuMemoryGiB: 80, hostMemoryGiB: 100 },
  }));
  const config = configSchema.parse({
    runs,
    alerts: { console: false, rules: { loss_plateau: { enabled: true } } },
  });
  return alertHarness({ config });
}

/** Poll `n` of a healthy run: steps, loss, speed, ETA, memory and GPUs all moving. */
function poll(run: number, n: number) {
  return runSample({
    run: `run${run}`,
    at: T0 + n * EVERY,
    step: 1000 + n * 2,
    totalSteps: 1_000_000,
    loss: 2 / (1 + n / 500) + (n % 7) * 0.001,
    stepTimeSeconds: 15 + (n % 5) * 0.1,
    stepsPerHour: 240 - (n % 5),
    etaSeconds: 3_600_000 - n * 10,
    hostMemory: { usedBytes: (40 + (n % 50) / 10) * GIB, totalBytes: 128 * GIB },
    gpus: Array.from({ length: 8 }, (_, index) =>
      gpuSample({ index, memoryUsedMiB: 60_000 + (n % 300), utilizationPercent: 80 + (n % 9) }),
    ),
  });
}

describe("the alert rules' memory per run", () => {
  it("stays flat over two days of polls at the default sampleEvery, through the store and the rules", () => {
    h = harness();
    let n = 0;
    /** Polls every run through `hours`, as the monitor records them, each followed by the rules. */
    const runFor = (hours: number) => {
      const end = n + (hours * HOUR) / EVERY;
      for (; n < end; n++) {
        h.clock.set(T0 + n * EVERY);
        for (let r = 0; r < RUNS; r++) {
          h.samples.record(poll(r, n), EVERY);
          if (n % EVALUATE_EVERY !== 0) continue;
          // A healthy run: nothing fires.
          expect(h.alerting.evaluate(`run${r}`).fired).toEqual([]);
        }
      }
    };
    const start = heapUsed();
    // The rules' series fill within the first hours; past that, nothing more may be kept.
    runFor(6);
    const afterSixHours = heapUsed();
    runFor(42);
    const afterTwoDays = heapUsed();
    const perRun = (afterTwoDays - start) / RUNS;
    const growthPerRun = (afterTwoDays - afterSixHours) / RUNS;
    // A day of samples was ~835 B each at 8 GPUs: 2.4 MB a run, 1.8 MB more at 48 h than at 6 h.
    // The facts are tens of KB; the rest of each bound is the engine's compiled code, which
    // grows by a few hundred KB in all as it is optimised, whatever the number of runs.
    expect(perRun, `${Math.round(perRun / 1024)} KB a run after two days`).toBeLessThan(600_000);
    expect(
      growthPerRun,
      `${Math.round(growthPerRun / 1024)} KB a run from 6 h to 48 h`,
    ).toBeLessThan(300_000);
  }, 120_000);
});
