import { afterEach, describe, expect, it } from "vitest";
import type { ErrorKind } from "../../src/model/monitoring.ts";
import {
  type AlertHarness,
  alertHarness,
  fillSamples,
  freshStartSamples,
  GIB,
  MIN,
  sample,
  T0,
} from "./alert-fixture.ts";

let h: AlertHarness;
afterEach(() => h?.close());

/** Healthy samples for the 10 minutes before T0, the clock at T0. */
function healthyUntilNow(): void {
  fillSamples(h, T0 - 10 * MIN, T0 - MIN, (at, i) => sample(at, { step: 540 + i }));
}

const EVENT_CASES: Array<{
  kind: ErrorKind;
  line: string;
  detail?: Record<string, string | number>;
  title: string;
  fix: string;
}> = [
  {
    kind: "cuda_oom",
    line: "torch.OutOfMemoryError: CUDA out of memory. Tried to allocate 2.00 GiB. GPU 0 has a total capacity of 79.15 GiB of which 1.02 GiB is free.",
    title: "exp001: CUDA out of memory",
    fix: "smaller batch (`training.train_batch_size`)",
  },
  {
    kind: "host_oom_kill",
    line: "Out of memory: Killed process 4242 (pt_data_worker) total-vm:9012345kB, anon-rss:7340032kB",
    detail: { pid: 4242, process: "pt_data_worker" },
    title: "exp001: host out of memory: the kernel killed a process",
    fix: "fewer data-loader workers (`training.workers`) or less RAM per worker",
  },
  {
    kind: "worker_killed",
    line: "RuntimeError: DataLoader worker (pid 4242) is killed by signal: Killed.",
    detail: { signal: "Killed" },
    title: "exp001: a data-loader worker was killed",
    fix: "fewer data-loader workers (`training.workers`) or less RAM per worker",
  },
  {
    kind: "shm_exhausted",
    line: "ERROR: Unexpected bus error encountered in worker. This might be caused by insufficient shared memory (shm).",
    title: "exp001: shared memory (/dev/shm) exhausted",
    fix: "a larger /dev/shm",
  },
  {
    kind: "nccl_timeout",
    line: "[Rank 0] Watchdog caught collective operation timeout: WorkNCCL(SeqNum=4811, OpType=ALLREDUCE) ran for 600000 milliseconds before timing out.",
    title: "exp001: NCCL collective timed out",
    fix: "find the rank that hung",
  },
  {
    kind: "gpu_fault",
    line: "NVRM: Xid (PCI:0000:00:04): 79, pid=1234, GPU has fallen off the bus.",
    detail: { xid: 79 },
    title: "exp001: GPU fault (Xid 79)",
    fix: "VM reboot or a GPU replacement",
  },
  {
    kind: "nan_loss",
    line: "Train step 812/4000 loss=nan lr=1.0e-04",
    title: "exp001: loss became NaN",
    fix: "lower learning rate or gradient clipping",
  },
];

describe("error rules", () => {
  it.each(EVENT_CASES)("$kind fires once with the cause, the line and the fix", async (c) => {
    h = alertHarness();
    healthyUntilNow();
    h.addEvent(T0 - 5_000, {
      kind: c.kind,
      line: c.line,
      ...(c.detail ? { detail: c.detail } : {}),
    });
    const report = h.alerting.evaluate("exp001");
    expect(report.fired).toContain(c.kind);
    await h.alerting.deliverDue();
    expect(h.sink.messages).toHaveLength(1);
    const m = h.sink.messages[0]!;
    expect(m.title).toBe(c.title);
    expect(m.severity).toBe("critical");
    expect(m.code).toBe(c.line);
    expect(m.lines?.join("\n")).toContain(c.fix);
    // The same event (and a second one) while the alert is open: no second message.
    h.clock.advance(2 * MIN);
    h.addEvent(h.clock.now(), { kind: c.kind, line: c.line });
    h.alerting.evaluate("exp001");
    await h.alerting.deliverDue();
    expect(h.sink.messages).toHaveLength(1);
  });

  it("cuda_oom quotes VRAM against the run's limit", async () => {
    h = alertHarness();
    healthyUntilNow();
    h.addEvent(T0, { kind: "cuda_oom", line: "torch.OutOfMemoryError: CUDA out of memory." });
    h.alerting.evaluate("exp001");
    await h.alerting.deliverDue();
    expect(h.sink.messages[0]?.lines).toContain("VRAM peak before it: 77.0 GiB of 80.0 GiB.");
  });

  it("an error alert ends quietly once training progresses, and a later one alerts again", async () => {
    h = alertHarness();
    healthyUntilNow();
    h.addEvent(T0, { kind: "cuda_oom", line: "CUDA out of memory (1)" });
    h.alerting.evaluate("exp001");
    await h.alerting.deliverDue();
    fillSamples(h, T0 + MIN, T0 + 5 * MIN, (at, i) => sample(at, { step: 100 + i }));
    h.clock.set(T0 + 5 * MIN);
    const report = h.alerting.evaluate("exp001");
    expect(report.resolved).toContain("cuda_oom");
    h.clock.advance(MIN);
    h.addEvent(h.clock.now(), { kind: "cuda_oom", line: "CUDA out of memory (2)" });
    h.alerting.evaluate("exp001");
    await h.alerting.deliverDue();
    await h.alerting.deliverDue();
    h.clock.advance(MIN);
    await h.alerting.deliverDue();
    const codes = h.sink.messages.map((m) => m.code);
    expect(codes).toEqual(["CUDA out of memory (1)", "CUDA out of memory (2)"]);
    expect(h.sink.messages.some((m) => m.title.includes("resolved"))).toBe(false);
  });
});

describe("errors around a requested restart", () => {
  const SHUTDOWN = "RuntimeError: DataLoader worker (pid(s) 4242) exited unexpectedly";

  it("what the old process logs while being stopped does not alert; the new one's errors do", async () => {
    h = alertHarness();
    healthyUntilNow();
    h.expectedStops.begin("exp001", h.clock.now(), T0 + 10 * MIN);
    // The old process on its way out, before the new one is started.
    h.clock.set(T0 + 1000);
    h.addEvent(h.clock.now(), { kind: "worker_killed", line: SHUTDOWN });
    expect(h.alerting.evaluate("exp001").fired).toEqual([]);
    h.clock.set(T0 + 3000);
    h.expectedStops.started("exp001", h.clock.now());
    expect(h.alerting.evaluate("exp001").fired).toEqual([]);
    // The new config runs out of GPU memory on its first steps: that is news.
    h.clock.set(T0 + 8000);
    h.addEvent(h.clock.now(), {
      kind: "cuda_oom",
      line: "torch.OutOfMemoryError: CUDA out of memory.",
    });
    expect(h.alerting.evaluate("exp001").fired).toEqual(["cuda_oom"]);
  });

  it("an error after the restart window, with no start recorded, alerts as usual", async () => {
    h = alertHarness();
    healthyUntilNow();
    h.expectedStops.begin("exp001", h.clock.now(), T0 + MIN);
    h.clock.set(T0 + 2 * MIN);
    h.addEvent(h.clock.now(), { kind: "worker_killed", line: SHUTDOWN });
    expect(h.alerting.evaluate("exp001").fired).toEqual(["worker_killed"]);
  });
});

describe("process rules", () => {
  it("crashed: the process is gone before the last step, with the last traceback", async () => {
    h = alertHarness();
    fillSamples(h, T0 - 40 * MIN, T0 - 2 * MIN, (at, i) => sample(at, { step: 500 + i }));
    h.addEvent(T0 - 90_000, {
      kind: "traceback",
      line: "ValueError: operands could not be broadcast together with shapes (3,) (4,)",
    });
    h.samples.insert(sample(T0 - MIN, { alive: false, step: 538, workers: null }));
    h.alerting.evaluate("exp001");
    await h.alerting.deliverDue();
    expect(h.sink.messages).toHaveLength(1);
    const m = h.sink.messages[0]!;
    expect(m.title).toBe("exp001: crashed at step 538 of 128000");
    expect(m.code).toContain("ValueError: operands could not be broadcast");
    expect(m.lines?.join("\n")).toContain("`/train restart`");
  });

  it("failed to start: dies in its first steps after a start nobody asked for", async () => {
    h = alertHarness();
    freshStartSamples(h);
    h.samples.insert(sample(T0 - 16 * MIN, { alive: false, step: 3 }));
    h.alerting.evaluate("exp001");
    await h.alerting.deliverDue();
    expect(h.sink.messages.map((m) => m.title)).toEqual([
      "exp001: failed to start: the process died after 2 steps",
    ]);
  });

  it("a stop during a requested restart is not a crash until the window ends", async () => {
    h = alertHarness();
    fillSamples(h, T0 - 40 * MIN, T0 - 2 * MIN, (at, i) => sample(at, { step: 500 + i }));
    h.expectedStops.begin("exp001", h.clock.now(), T0 + 10 * MIN);
    h.samples.insert(sample(T0 - MIN, { alive: false, step: 538 }));
    expect(h.alerting.evaluate("exp001").fired).toEqual([]);
    h.clock.set(T0 + 11 * MIN);
    h.samples.insert(sample(T0 + 11 * MIN, { alive: false, step: 538 }));
    expect(h.alerting.evaluate("exp001").fired).toEqual(["crashed"]);
  });

  it("finished: the last step reached and the process gone", async () => {
    h = alertHarness();
    fillSamples(h, T0 - 5 * MIN, T0 - 2 * MIN, (at, i) =>
      sample(at, { step: 127997 + i, totalSteps: 128000 }),
    );
    h.samples.insert(sample(T0 - MIN, { alive: false, step: 128000, totalSteps: 128000 }));
    h.alerting.evaluate("exp001");
    await h.alerting.deliverDue();
    expect(h.sink.messages).toHaveLength(1);
    expect(h.sink.messages[0]?.title).toBe("exp001: finished: reached step 128000 of 128000");
    expect(h.sink.messages[0]?.severity).toBe("success");
  });

  it("stalled: no new step for max(k × median, floor) while alive; repeats say 'still'", async () => {
    h = alertHarness({ config: undefined });
    fillSamples(h, T0 - 60 * MIN, T0 - 42 * MIN, (at, i) => sample(at, { step: 530 + i }));
    fillSamples(h, T0 - 40 * MIN, T0, (at) => sample(at, { step: 549 }));
    h.alerting.evaluate("exp001");
    await h.alerting.deliverDue();
    expect(h.sink.messages[0]?.title).toBe("exp001: stalled at step 549 for 40 min");
    expect(h.sink.messages[0]?.lines?.[0]).toContain("median step time 18 s; limit 10 min");
    fillSamples(h, T0 + MIN, T0 + 30 * MIN, (at) => sample(at, { step: 549 }));
    h.clock.set(T0 + 30 * MIN);
    h.alerting.evaluate("exp001");
    await h.alerting.deliverDue();
    expect(h.sink.messages[1]?.title).toBe("exp001: still stalled at step 549 for 1 h 10 min");
    h.samples.insert(sample(T0 + 31 * MIN, { step: 550 }));
    h.clock.set(T0 + 31 * MIN);
    h.alerting.evaluate("exp001");
    h.clock.advance(MIN);
    await h.alerting.deliverDue();
    expect(h.sink.messages[2]?.title).toBe("exp001: stall resolved after 1 h 11 min");
    expect(h.sink.messages[2]?.lines).toEqual(["Training is moving again: step 550."]);
  });

  it("a slow but steady run is not stalled", () => {
    h = alertHarness();
    fillSamples(h, T0 - 60 * MIN, T0, (at, i) =>
      sample(at, { step: 500 + Math.floor(i / 5), stepTimeSeconds: 300 }),
    );
    expect(h.alerting.evaluate("exp001").fired).toEqual([]);
  });
});

describe("resource rules", () => {
  it("gpu_idle: under 10% for 10 min while training runs suggests more workers", async () => {
    h = alertHarness();
    for (let m = 0; m <= 10; m++) {
      h.clock.set(T0 + m * MIN);
      h.samples.insert(
        sample(h.clock.now(), {
          step: 549 + m,
          gpus: [{ ...sample(0).gpus[0]!, utilizationPercent: 0 }],
        }),
      );
      const fired = h.alerting.evaluate("exp001").fired;
      expect(fired).toEqual(m === 10 ? ["gpu_idle"] : []);
    }
    await h.alerting.deliverDue();
    const m = h.sink.messages[0]!;
    expect(m.title).toBe("exp001: GPU idle (0% utilisation) for 10 min");
    expect(m.lines?.join("\n")).toContain("data loader is the bottleneck");
    expect(m.lines?.join("\n")).toContain(
      "more data-loader workers (`training.workers`, e.g. 1 → 2)",
    );
    expect(m.lines?.join("\n")).toContain("about 7.0 GiB RAM each");
  });

  it("memory_high: host RAM near the limit with its trend", async () => {
    h = alertHarness();
    // 97.6 → 98.2 GiB over the last hour: +0.6 GiB/h, 1.8 GiB left to 100 GiB.
    fillSamples(
      h,
      T0 - 60 * MIN,
      T0,
      (at, i) =>
        sample(at, {
          step: 500 + i,
          hostMemory: {
            usedBytes: (97.6 + (0.6 * (at - (T0 - 60 * MIN))) / (60 * MIN)) * GIB,
            totalBytes: 128 * GIB,
          },
        }),
      5 * MIN,
    );
    h.alerting.evaluate("exp001");
    h.clock.advance(2 * MIN);
    h.samples.insert(
      sample(h.clock.now(), {
        step: 600,
        hostMemory: { usedBytes: 98.22 * GIB, totalBytes: 128 * GIB },
      }),
    );
    expect(h.alerting.evaluate("exp001").fired).toEqual(["memory_high"]);
    await h.alerting.deliverDue();
    const m = h.sink.messages[0]!;
    expect(m.title).toBe("exp001: host RAM at 98% of 100.0 GiB");
    expect(m.lines?.[0]).toBe(
      "host RAM 98.2 GiB of 100.0 GiB (98%), +0.6 GiB/h: reaches 100 GiB in about 3 h.",
    );
  });

  it("unreachable: N polls without an answer, told apart from dead training", async () => {
    h = alertHarness();
    fillSamples(h, T0 - 10 * MIN, T0 - 4 * MIN, (at, i) => sample(at, { step: 540 + i }));
    for (let i = 3; i >= 1; i--) {
      const at = T0 - i * MIN;
      h.samples.insert({ ...sample(at), reachable: false, alive: null, step: null, gpus: [] });
      h.polls.insert({
        run: "exp001",
        startedAt: at,
        durationMs: 10_000,
        outcome: "unreachable",
        message: "connect ETIMEDOUT 10.0.0.5:22",
      });
    }
    expect(h.alerting.evaluate("exp001").fired).toEqual(["unreachable"]);
    await h.alerting.deliverDue();
    const m = h.sink.messages[0]!;
    expect(m.title).toBe("exp001: VM unreachable for 3 polls");
    expect(m.lines?.[0]).toBe(
      "No answer to 3 polls in a row since 11:57 UTC: connect ETIMEDOUT 10.0.0.5:22.",
    );
    expect(m.lines?.[1]).toContain("not necessarily training");
    expect(m.lines?.[1]).toContain("alive at step 546");
  });

  it("two unreachable polls are not enough by default", () => {
    h = alertHarness();
    fillSamples(h, T0 - 10 * MIN, T0 - 3 * MIN, (at) => sample(at));
    h.samples.insert({ ...sample(T0 - 2 * MIN), reachable: false });
    h.samples.insert({ ...sample(T0 - MIN), reachable: false });
    expect(h.alerting.evaluate("exp001").fired).toEqual([]);
  });

  it("disk_low: free space under the threshold", async () => {
    h = alertHarness();
    h.samples.insert(sample(T0 - MIN, { diskFreeBytes: 5 * GIB }));
    h.alerting.evaluate("exp001");
    await h.alerting.deliverDue();
    expect(h.sink.messages[0]?.title).toBe("exp001: disk almost full: 5.0 GiB free");
    expect(h.sink.messages[0]?.lines?.[0]).toContain("alert under 20 GiB");
  });
});

describe("training-health rules", () => {
  it("loss_diverging: the loss more than doubling over 30 min fires once, with both figures", async () => {
    h = alertHarness();
    for (let m = 0; m <= 30; m++) {
      h.clock.set(T0 + m * MIN);
      // 0.40 for the first 20 minutes, then rising to 1.2.
      const loss = m < 20 ? 0.4 : 0.4 + (m - 19) * 0.08;
      h.samples.insert(sample(h.clock.now(), { step: 549 + m, loss }));
      h.alerting.evaluate("exp001");
    }
    await h.alerting.deliverDue();
    const fired = h.sink.messages.filter((m) => m.title.includes("loss diverging"));
    expect(fired).toHaveLength(1);
    const title = /^exp001: loss diverging: 0\.40 → ([\d.]+) in 30 min$/.exec(
      fired[0]?.title ?? "",
    );
    expect(title, fired[0]?.title).not.toBeNull();
    expect(Number(title?.[1])).toBeGreaterThan(0.8);
    expect(fired[0]?.lines?.[0]).toMatch(/rose \d\.\dx over the last 30 min \(alert above 2x\)/);
    expect(fired[0]?.footer).toContain("diverging loss alert");
  });

  it("loss_diverging: a noisy but flat loss stays quiet; an infinite one fires at once", async () => {
    h = alertHarness();
    for (let m = 0; m <= 30; m++) {
      h.clock.set(T0 + m * MIN);
      h.samples.insert(sample(h.clock.now(), { step: 549 + m, loss: m % 2 ? 0.5 : 0.3 }));
      expect(h.alerting.evaluate("exp001").fired).toEqual([]);
    }
    h.clock.set(T0 + 31 * MIN);
    h.samples.insert(sample(h.clock.now(), { step: 581, loss: Number.POSITIVE_INFINITY }));
    expect(h.alerting.evaluate("exp001").fired).toEqual(["loss_diverging"]);
  });
});
