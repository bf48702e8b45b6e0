import { describe, expect, it } from "vitest";
import type { StepPoint } from "../../../src/model/monitoring.ts";
import { createStepParser } from "../../../src/monitors/parsers/step-parser.ts";

// Hand-made variations of the ways real logs print how long a training step took (the speed in
// the status line, the ETA and the throughput-drop alert stand on it): other numbers, spacing
// and wording than the corpus samples, so each rule holds for the family. A throughput of
// samples, tokens or images is not a step time and must stay unread.

/** The last progress point of `lines`, read as `trainops parse` reads a log. */
function last(lines: string[]): StepPoint | null {
  const parser = createStepParser({ format: "auto" });
  let found: StepPoint | null = null;
  for (const line of lines) found = parser.parseLine(line) ?? found;
  return found;
}

/** Step and seconds per step of the last point. */
function speed(lines: string[]): { step: number; stepTime: number | null } | null {
  const p = last(lines);
  return p === null ? null : { step: p.step, stepTime: p.stepTime };
}

function expectStepTime(lines: string[], step: number, seconds: number | null): void {
  const got = speed(lines);
  expect(got?.step).toBe(step);
  if (seconds === null) expect(got?.stepTime).toBeNull();
  else expect(got?.stepTime).toBeCloseTo(seconds, 9);
}

describe("a time per step in any unit", () => {
  it("reads milli- and microseconds per step with or without a space (Keras, speech recipes)", () => {
    expectStepTime(["120/600 [====>.........] - 41s 310ms/step - loss: 0.41"], 120, 0.31);
    expectStepTime(["88/88 [==============================] - 1s 6us/step - loss: 0.2"], 88, 6e-6);
    expectStepTime(["88/88 [=====] - 1s 12µs/step - loss: 0.2"], 88, 12e-6);
    expectStepTime(["Epoch 3 | Iter 40 | Average Loss 2.1 | 85.25 ms/batch"], 40, 0.08525);
  });

  it("takes the newest of a bar's redraws piled on one line", () => {
    expectStepTime(
      [
        "    57/Unknown - 3s 52ms/step - loss: 0.71 - acc: 0.5 - 3s 50ms/step - loss: 0.69 - acc: 0.5 - 3s 47ms/step - loss: 0.66",
      ],
      57,
      0.047,
    );
  });

  it("keeps the step's own time when a running mean follows it in parentheses", () => {
    expectStepTime(["Train: 4 [ 300/900]  Loss: 2.1  Time: 410ms/step (455ms/step)"], 300, 0.41);
  });

  it("reads the unit printed as a column label before its value", () => {
    expectStepTime(
      ["| epoch   4 |   250/ 2983 batches | lr 10.00 | ms/batch 45.10 | loss  5.12 | ppl   167.3"],
      250,
      0.0451,
    );
    expectStepTime(
      ["Epoch 2/10 : |--| 3.10% [52/1677 00:08<04:20 loss : 1.9, sec/batch : 0.312]"],
      1677 + 52, // batch 52 of epoch 2 as a step of the run
      0.312,
    );
  });

  it("reads seconds per step after a value, in words or a slash label", () => {
    expectStepTime(["INFO:tensorflow:global step 1210: loss = 2.5 (0.184 sec/step)"], 1210, 0.184);
    expectStepTime(
      ["1200/30000 (epoch 2.01), train_loss = 1.2, time/batch = 0.0911s"],
      1200,
      0.0911,
    );
    expectStepTime(["step 30, loss 3.2, time/step = 250ms"], 30, 0.25);
  });

  it("reads a time per iteration with its unit in parentheses or as a suffix, thousands as K", () => {
    expectStepTime(
      [" iteration      410/   90000 | elapsed time per iteration (ms): 2504.6 | lm loss: 3.1"],
      410,
      2.5046,
    );
    expectStepTime(
      ["iteration: 9000 / 20000 | elapsed_time_per_iteration_ms: 2.4K | lm_loss: 2.9"],
      9000,
      2.4,
    );
    expectStepTime(
      ["iteration: 9001 / 20000 | elapsed_time_per_iteration_ms: 812.5 | lm_loss: 2.9"],
      9001,
      0.8125,
    );
  });
});

describe("labelled step timers", () => {
  it("prefers the training step's own timer to the data loader's iter_time", () => {
    expectStepTime(
      [
        "3epoch:train:101-200batch: iter_time=0.003, forward_time=0.02, loss=12.5, train_time=0.061",
      ],
      200,
      0.061,
    );
    expectStepTime(
      ["Training epoch 1, iteration 30/90 | global_step: 120 | train_step_timing in s: 0.412"],
      120,
      0.412,
    );
  });

  it("reads a batch cost as seconds per batch, and an iteration or batch time", () => {
    expectStepTime(
      ["[TRAIN] epoch: 2, iter: 60/400, loss: 0.9, batch_cost: 0.2150, reader_cost: 0.01"],
      60,
      0.215,
    );
    expectStepTime(["epoch: [1/50], global_step: 90, loss: 1.1, avg_batch_cost: 0.95 s"], 90, 0.95);
    expectStepTime(["epoch: 1/10, iter: 40/100, iter_time: 0.412s, data_time: 0.02s"], 40, 0.412);
  });

  it("does not read a total training time as a step time", () => {
    expectStepTime(
      [
        "iter: 7  total_loss: 2.1  lr: 0.01",
        "[07/25 13:14:56 d2.engine.hooks]: Total training time: 0:03:12 (0:00:04 on hooks)",
      ],
      7,
      null,
    );
  });
});

describe("rates of steps, and other throughputs left alone", () => {
  it("inverts a rate of iterations, batches or updates", () => {
    expectStepTime(
      ["I0301 10:00:00.1 1 solver.cpp:218] Iteration 800 (4.0 iter/s, 25s/100 iters), loss = 1.2"],
      800,
      0.25,
    );
    expectStepTime(["Epoch 3: 100%|████| 50/50 [00:20<00:00,  2.50 batch/s, Loss: 0.1]"], 50, 0.4);
    expectStepTime(['{"epoch": 3, "loss": "4.1", "ups": "1.25", "num_updates": "900"}'], 900, 0.8);
  });

  it("reads no step time from samples, tokens or images per second", () => {
    expectStepTime(
      ["INFO:root:Epoch[0] Batch [300]  Speed: 9120.55 samples/sec  acc=0.9"],
      300,
      null,
    );
    expectStepTime(["step: 40  loss:  6.1  memory: 40GiB  tps: 6,120  mfu: 30%"], 40, null);
    expectStepTime(["Step 600/9000; acc: 40.1; xent: 3.2; 4000/300 tok/s;  1250 sec"], 600, null);
    expectStepTime(
      ["epoch: 2, iter: 30/80, loss: 1.2, reader_cost: 0.4, ips: 9.1 samples/s"],
      30,
      null,
    );
    expectStepTime(
      ["| Training Device=xla:0/1 Epoch=1 Step=60 Loss=0.1 Rate=120.5 GlobalRate=90.1"],
      60,
      null,
    );
  });
});

describe("a step time printed beside the step's own line", () => {
  it("gives a step its time from the line just below it", () => {
    expectStepTime(
      ["\titers: 300, epoch: 2 | loss: 0.2201", "\tspeed: 0.0412s/iter; left time: 88.1s"],
      300,
      0.0412,
    );
  });

  it("keeps the step's own time, and takes none from an evaluation's timing", () => {
    expectStepTime(
      ["iter 50: loss 2.1, time 120.5ms", "\tspeed: 0.9s/iter; left time: 10s"],
      50,
      0.1205,
    );
    expectStepTime(["\titers: 300, epoch: 2 | loss: 0.2201", "val speed: 0.0100s/iter"], 300, null);
  });

  it("keeps the time of a step printed again on its own line", () => {
    expectStepTime(
      [
        "I0301 10:00:00.1 1 solver.cpp:218] Iteration 40 (2.0 iter/s, 20s/40 iters), loss = 3.1",
        "I0301 10:00:00.2 1 sgd_solver.cpp:105] Iteration 40, lr = 0.01",
      ],
      40,
      0.5,
    );
    // The next step printed without a time has none: the old one is not carried over.
    expectStepTime(
      [
        "I0301 10:00:00.1 1 solver.cpp:218] Iteration 40 (2.0 iter/s, 20s/40 iters), loss = 3.1",
        "I0301 10:00:20.2 1 solver.cpp:218] Iteration 60, loss = 3.0",
      ],
      60,
      null,
    );
  });

  it("takes the time of another counter reporting the chosen step", () => {
    expectStepTime(
      [
        "[INFO] [timer.py:215:stop] epoch=0/micro_step=12/global_step=12, RunningAvgSamplesPerSec=8.1",
        " samples/sec: 8.05 | iteration       12/    5000 | elapsed time per iteration (ms): 3975.0 | lm_loss: 9.1",
      ],
      12,
      3.975,
    );
  });
});
