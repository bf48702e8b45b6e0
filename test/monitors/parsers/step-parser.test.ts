import { describe, expect, it } from "vitest";
import {
  createStepParser,
  STEP_FORMAT_NAMES,
  StepFormatError,
} from "../../../src/monitors/parsers/step-parser.ts";
import { parseSample } from "./corpus-sample.ts";

describe("step parser on the corpus (expected parse from each header)", () => {
  it("train_01: per-batch lines; after the restart the latest is epoch 0, batch 30/314", () => {
    const { last, format, points } = parseSample(
      "train_01_vesuvius_surface_python_logging_restart.txt",
    );
    expect(format).toMatch(/^auto \(/);
    // The named preset, a shortcut for this format, reads the same.
    expect(
      parseSample("train_01_vesuvius_surface_python_logging_restart.txt", "epoch-batch").last,
    ).toEqual(last);
    expect(last).toEqual({ step: 30, total: 314, epoch: 0, loss: 0.3165, stepTime: null });
    // The first run's last progress before it stopped silently.
    expect(points.find((p) => p.epoch === 12 && p.step === 40)?.loss).toBe(0.156);
    // Epoch summary lines ("Epoch 11 Train - Loss") are not progress points.
    expect(points).toHaveLength(2 + 5 + 4);
  });

  it("train_02: nnU-Net epoch blocks -> epoch 1, train_loss -0.1956, epoch time 293.48 s", () => {
    const { last, format } = parseSample("train_02_nnunetv2_console_torch_compile_warnings.txt");
    expect(format).toMatch(/^auto \(/);
    // The named preset, a shortcut for this format, reads the same.
    expect(
      parseSample("train_02_nnunetv2_console_torch_compile_warnings.txt", "nnunet").last,
    ).toEqual(last);
    expect(last).toEqual({ step: 1, total: null, epoch: 1, loss: -0.1956, stepTime: 293.48 });
  });

  it("train_03: mmcv Iter [2200/320000], loss 3.4234, 0.647 s/iter despite the tab and the eta comma", () => {
    const { last, format } = parseSample("train_03_mmseg0x_mmcv1_textlogger_eta_days.txt");
    expect(format).toMatch(/^auto \(/);
    // The named preset, a shortcut for this format, reads the same.
    expect(parseSample("train_03_mmseg0x_mmcv1_textlogger_eta_days.txt", "mmengine").last).toEqual(
      last,
    );
    expect(last).toEqual({ step: 2200, total: 320000, epoch: null, loss: 3.4234, stepTime: 0.647 });
  });

  it("train_06: detectron2 iter 299, total_loss 0.3553, 1.2533 s/it", () => {
    const { last, format } = parseSample("train_06_detectron2_events_complete_run.txt");
    expect(format).toMatch(/^auto \(/);
    // The named preset, a shortcut for this format, reads the same.
    expect(parseSample("train_06_detectron2_events_complete_run.txt", "detectron2").last).toEqual(
      last,
    );
    expect(last).toEqual({ step: 299, total: null, epoch: null, loss: 0.3553, stepTime: 1.2533 });
  });

  it("train_08: timm epoch 2, batch 150/5004; Test lines are not progress", () => {
    const { last, format, points } = parseSample("train_08_timm_train_epoch_boundary_ema.txt");
    expect(format).toMatch(/^auto \(/);
    // The named preset, a shortcut for this format, reads the same.
    expect(parseSample("train_08_timm_train_epoch_boundary_ema.txt", "timm").last).toEqual(last);
    expect(last).toEqual({ step: 150, total: 5004, epoch: 2, loss: 5.261723, stepTime: 0.453 });
    expect(points.map((p) => p.step)).toEqual([5000, 5003, 0, 50, 100, 150]);
  });

  it("train_09: Lightning s/it bars; the cut-off line is skipped; latest is the new run's 5/18", () => {
    const { last, format, points } = parseSample(
      "train_09_lightning_tqdm_logfile_restart_partial_line.txt",
    );
    expect(format).toMatch(/^auto \(/);
    // The named preset, a shortcut for this format, reads the same.
    expect(
      parseSample("train_09_lightning_tqdm_logfile_restart_partial_line.txt", "lightning").last,
    ).toEqual(last);
    expect(last).toEqual({ step: 5, total: 18, epoch: 0, loss: 9.847, stepTime: 4.14 });
    expect(points.some((p) => p.step === 6)).toBe(false);
    expect(points[0]?.stepTime).toBe(4.47);
  });

  it("train_12: Lightning with unknown total: 150it, 46.84 it/s, total stays unknown", () => {
    const { last, format } = parseSample("train_12_lightning071_tqdm_unknown_total.txt");
    expect(format).toMatch(/^auto \(/);
    // The named preset, a shortcut for this format, reads the same.
    expect(parseSample("train_12_lightning071_tqdm_unknown_total.txt", "lightning").last).toEqual(
      last,
    );
    expect(last?.step).toBe(150);
    expect(last?.total).toBeNull();
    expect(last?.epoch).toBe(8);
    expect(last?.loss).toBe(1.625);
    expect(last?.stepTime).toBeCloseTo(1 / 46.84, 6);
  });

  it("train_13: HF Trainer bars 24/1752 at 2.88 s/it; the metrics dict adds loss 0.0 and epoch 0.01", () => {
    const { last, format, points } = parseSample(
      "train_13_hf_trainer_tqdm_lineno_loss_zero_then_nccl.txt",
    );
    expect(format).toMatch(/^auto \(/);
    // The named preset, a shortcut for this format, reads the same.
    expect(
      parseSample("train_13_hf_trainer_tqdm_lineno_loss_zero_then_nccl.txt", "hf-trainer").last,
    ).toEqual(last);
    expect(last).toEqual({ step: 24, total: 1752, epoch: 0.01, loss: 0, stepTime: 2.88 });
    expect(points.find((p) => p.step === 20 && p.loss === 0)).toBeDefined();
  });

  it("train_15: fairseq epoch 1; the global num_updates 645 is the step, loss 10.902; ups=0.5 -> 2 s", () => {
    const { last, format } = parseSample("train_15_fairseq_legacy_progress_oom_counter.txt");
    // The log prints a global step (num_updates) beside the in-epoch batch 650/1891: the
    // general reader reports the global one.
    expect(format).toBe("auto (num_updates N)");
    expect(last).toEqual({ step: 645, total: null, epoch: 1, loss: 10.902, stepTime: 2 });
    // The fairseq preset keeps reading the in-epoch position.
    expect(parseSample("train_15_fairseq_legacy_progress_oom_counter.txt", "fairseq").last).toEqual(
      { step: 650, total: 1891, epoch: 1, loss: 10.902, stepTime: 2 },
    );
  });

  it("train_17: HF metrics dicts alone carry no step, so no progress point is invented", () => {
    const { last } = parseSample("train_17_hf_trainer_axolotl_memory_keys_gib.txt", "hf-trainer");
    expect(last).toBeNull();
  });

  it("train_19: BasicSR iter with a thousands separator: 4,600 -> 4600, epoch 49", () => {
    const { last, format } = parseSample("train_19_basicsr_style_iter_thousands_comma.txt");
    expect(format).toMatch(/^auto \(/);
    // The named preset, a shortcut for this format, reads the same.
    expect(parseSample("train_19_basicsr_style_iter_thousands_comma.txt", "basicsr").last).toEqual(
      last,
    );
    expect(last?.step).toBe(4600);
    expect(last?.epoch).toBe(49);
  });

  it("err_03: mmengine Epoch(train) [1][ 500/2931] with loss nan", () => {
    const { last, format } = parseSample("err_03_mmengine_epoch_train_loss_nan.txt");
    expect(format).toMatch(/^auto \(/);
    // The named preset, a shortcut for this format, reads the same.
    expect(parseSample("err_03_mmengine_epoch_train_loss_nan.txt", "mmengine").last).toEqual(last);
    expect(last).toMatchObject({ step: 500, total: 2931, epoch: 1, stepTime: 0.0578 });
    expect(last?.loss).toBeNaN();
  });
});

describe("step parser presets on lines not in the corpus", () => {
  const cases: [string, string, object][] = [
    ["step", "step 549/4000 loss=0.4123", { step: 549, total: 4000, loss: 0.4123 }],
    [
      "train-step",
      "2025-01-01 10:00:00 INFO Train step 549 | epoch 0 | loss 0.2104",
      { step: 549, total: null, epoch: 0, loss: 0.2104 },
    ],
    [
      "train-step",
      "Train step 549/4000 loss: 0.31 (18.2 s/step)",
      { step: 549, total: 4000, loss: 0.31, stepTime: 18.2 },
    ],
    [
      "train-step",
      "2026-01-07 17:49:02,190 - __main__ - INFO - Train step 12549/128000 (epoch 3/32) - loss: 0.2104 - lr: 1.00e-04 - 18.21 s/step",
      { step: 12549, total: 128000, epoch: 3, loss: 0.2104, stepTime: 18.21 },
    ],
    ["tqdm", " 45%|████▌     | 450/1000 [17:20<21:11,  2.31it/s]", { step: 450, total: 1000 }],
    [
      "tqdm",
      "Training:  5%|▌  | 50/1000 [15:00<4:45:00, 18.00s/it, loss=0.5]",
      { step: 50, total: 1000, stepTime: 18, loss: 0.5 },
    ],
    [
      "lightning",
      "Epoch 3:  45%|████▌     | 450/1000 [01:02<01:10,  2.31it/s, loss=0.3, v_num=1]",
      { step: 450, total: 1000, epoch: 3, loss: 0.3 },
    ],
    [
      "mmengine",
      "05/01 10:00:00 - mmengine - INFO - Iter(train) [   50/160000]  lr: 1e-4  eta: 1 day, 2:03:04  time: 0.6100  data_time: 0.01  memory: 9000  loss: 1.2345",
      { step: 50, total: 160000, loss: 1.2345, stepTime: 0.61 },
    ],
    [
      "mmengine",
      "2021-01-01 10:00:00,000 - mmdet - INFO - Epoch [1][50/1000]\tlr: 2.000e-02, eta: 3:00:00, time: 0.500, data_time: 0.05, memory: 3000, loss: 2.5",
      { step: 50, total: 1000, epoch: 1, loss: 2.5, stepTime: 0.5 },
    ],
    [
      "timm",
      "Train: 3 [ 100/1251 (  8%)]  Loss: 5.116920 (5.0619)  Time: 0.445s,  575.07/s",
      { step: 100, total: 1251, epoch: 3, stepTime: 0.445 },
    ],
    [
      "basicsr",
      "2022-01-01 10:00:00,000 INFO: [train..][epoch:  2, iter:  12,000, lr:(1.000e-04,)] [eta: 1 day] l_pix: 1.2e-02",
      { step: 12000, epoch: 2, loss: 0.012 },
    ],
    [
      "fairseq",
      "2021-01-01 | INFO | train_inner | epoch 003:    100 / 1500 loss=4.2, ppl=18.4, ups=1.25",
      { step: 100, total: 1500, epoch: 3, loss: 4.2, stepTime: 0.8 },
    ],
    [
      "epoch-batch",
      "Train Epoch: 1 [640/60000 (1%)]\tLoss: 2.301",
      { step: 640, total: 60000, epoch: 1, loss: 2.301 },
    ],
  ];
  for (const [format, line, expected] of cases) {
    it(`${format}: ${line.slice(0, 60)}`, () => {
      expect(createStepParser({ format }).parseLine(line)).toMatchObject(expected);
      const auto = createStepParser({ format: "auto" });
      expect(auto.parseLine(line)).toMatchObject(expected);
      // Auto is the general reader; it names the counter it took as the step.
      expect(auto.format).toMatch(/^auto \(.+\)$/);
    });
  }

  it("strips ANSI colours before matching", () => {
    const parser = createStepParser({ format: "auto" });
    expect(parser.parseLine("\x1b[32mTrain step 12/4000\x1b[0m")).toMatchObject({
      step: 12,
      total: 4000,
    });
  });

  it("auto stays 'auto' until a line is recognised, then keeps that format", () => {
    const parser = createStepParser({ format: "auto" });
    expect(parser.parseLine("loading data")).toBeNull();
    expect(parser.format).toBe("auto");
    parser.parseLine("Train step 3");
    expect(parser.format).toBe("auto (Train step N)");
    // A tqdm bar later (an evaluation loop) does not switch the format.
    expect(parser.parseLine(" 50%|#    | 5/10 [00:01<00:01, 5.00it/s]")).toBeNull();
  });

  it("ignores ordinary lines", () => {
    const parser = createStepParser({ format: "auto" });
    for (const line of [
      "Using device: cuda",
      "Configuration: {'num_epochs': 300, 'batch_size': 2}",
      "Epoch 11 Val - Loss: 0.3188",
      "Test: [   0/195]  Time: 2.276 (2.276)  Loss:  3.5284 (3.5284)",
      "Training: 0it [00:00, ?it/s",
    ]) {
      expect(parser.parseLine(line), line).toBeNull();
    }
  });
});

describe("custom regex format", () => {
  it("reads the named groups", () => {
    const parser = createStepParser({
      format: "regex",
      regex: String.raw`it=(?<step>[\d,]+) of (?<total>\d+) ep=(?<epoch>\d+) L=(?<loss>[\d.]+) dt=(?<stepTime>[\d.]+)`,
    });
    expect(parser.format).toBe("regex");
    expect(parser.parseLine("it=1,200 of 5000 ep=2 L=0.25 dt=1.5")).toEqual({
      step: 1200,
      total: 5000,
      epoch: 2,
      loss: 0.25,
      stepTime: 1.5,
    });
    expect(parser.parseLine("nothing here")).toBeNull();
  });

  it("rejects an invalid regex, a regex without a step group, and a missing regex", () => {
    expect(() => createStepParser({ format: "regex", regex: "step (?<step>\\d+" })).toThrow(
      StepFormatError,
    );
    expect(() => createStepParser({ format: "regex", regex: "step (?<step>\\d+" })).toThrow(
      /not a valid regular expression/,
    );
    expect(() => createStepParser({ format: "regex", regex: "step (\\d+)" })).toThrow(
      /no named group 'step'/,
    );
    expect(() => createStepParser({ format: "regex" })).toThrow(/steps.regex is empty/);
  });
});

describe("format names", () => {
  it("rejects an unknown preset and lists the valid ones", () => {
    expect(() => createStepParser({ format: "tensorboard" })).toThrow(StepFormatError);
    expect(() => createStepParser({ format: "tensorboard" })).toThrow(
      /unknown steps.format 'tensorboard'; use one of: auto, regex, .*hf-trainer.*tqdm/,
    );
  });

  it("lists every preset the issue names", () => {
    for (const name of [
      "step",
      "train-step",
      "tqdm",
      "hf-trainer",
      "lightning",
      "mmengine",
      "detectron2",
      "timm",
      "nnunet",
      "basicsr",
      "fairseq",
    ]) {
      expect(STEP_FORMAT_NAMES).toContain(name);
    }
  });
});

describe("general reader (format auto) on the progress prints the product must read", () => {
  /** The last point a fresh reader gives for these lines, fed in order. */
  function lastOf(lines: string[]) {
    const parser = createStepParser({ format: "auto" });
    let last = null;
    for (const line of lines) last = parser.parseLine(line) ?? last;
    return { last, format: parser.format };
  }

  it("tutorial 'Epoch [e/E] Step [i/n]': a global step (e - 1) x n + i of E x n", () => {
    expect(lastOf(["Epoch [1/3] Step [415/2500] loss: 0.8224"]).last).toMatchObject({
      step: 415,
      total: 7500,
      epoch: 1,
      loss: 0.8224,
    });
    const { last } = lastOf([
      "Epoch [1/3] Step [2500/2500] loss: 0.61",
      "Epoch [2/3] Step [100/2500] loss: 0.58",
    ]);
    expect(last).toMatchObject({ step: 2600, total: 7500, epoch: 2, perEpoch: 2500 });
  });

  const cases: [string, string[], object][] = [
    [
      "Megatron padded iteration",
      [
        " iteration     5427/  250000 | consumed samples:      2778624 | elapsed time per iteration (ms): 1573.5 | lm loss: 2.845058E+00 | loss scale: 131072.0 |",
      ],
      { step: 5427, total: 250000, epoch: null, loss: 2.845058, stepTime: 1.5735 },
    ],
    [
      "nanoGPT iter",
      ["iter 240: loss 1.6524, time 895.31ms, mfu 16.62%"],
      { step: 240, stepTime: 895.31 / 1000 },
    ],
    [
      "Keras progbar under its epoch heading",
      ["Epoch 3/10", " 371/1875 [=====>........] - ETA: 5s - loss: 0.3476 - accuracy: 0.9012"],
      { step: 2 * 1875 + 371, total: 18750, epoch: 3, loss: 0.3476 },
    ],
    [
      "[Train] Epoch: [e][i/n]",
      ["[Train] Epoch: [1][371/4899]  Loss 0.5"],
      { step: 371, total: 4899, epoch: 1 },
    ],
    [
      "a global step beside an in-epoch batch",
      ["epoch: 1, step: 5316, batch : 1565/1876, loss: 0.3"],
      { step: 5316, epoch: 1, total: null },
    ],
    ["Epoch N, batch N", ["Epoch 1, batch 12000"], { step: 12000, epoch: 1 }],
    ["step with its step time", ["Step 900 per-step time 0.4s"], { step: 900, stepTime: 0.4 }],
    ["tqdm with another unit", ["250000step [00:00, ?step/s]"], { step: 250000, total: null }],
    [
      "Lightning bar without pipes reports its epoch",
      ["Epoch 0:  98% 1664/1702 [13:03<00:17,  2.12it/s, loss=0.158, v_num=0]"],
      { step: 1664, total: 1702, epoch: 0, loss: 0.158 },
    ],
    [
      "rich bar behind 'Epoch 0/59' (0-based: 60 epochs)",
      ["Epoch 0/59  ━━━━━━━━━━━━━━━━━━━━ 1664/1702 0:07:51 • 0:00:10 3.53it/s v_num: 0 loss: 0.5"],
      { step: 1664, total: 60 * 1702, epoch: 0 },
    ],
    [
      "YOLO table: the epoch column under its header",
      [
        "      Epoch    GPU_mem   box_loss   cls_loss   dfl_loss  Instances       Size",
        "     72/1000      3.5G     0.9123     0.6543      1.123         45        640",
      ],
      { step: 72, total: 1000, epoch: 72 },
    ],
    [
      "a metrics dict glued to a bar",
      [
        " 10%|█         | 100/1000 [00:30<04:30,  3.30it/s]{'loss': 0.5, 'learning_rate': 1e-05, 'epoch': 0.1}",
      ],
      { step: 100, total: 1000, epoch: 0.1, loss: 0.5 },
    ],
  ];
  for (const [what, lines, expected] of cases) {
    it(what, () => {
      expect(lastOf(lines).last).toMatchObject(expected);
    });
  }

  it("keeps the training bar against an evaluation bar and a dataset map, and says which it took", () => {
    const { last, format } = lastOf([
      "Map: 100%|██████████| 60000/60000 [00:02<00:00, 25000.00 examples/s]",
      " 5%|▌ | 50/1000 [00:15<04:45, 3.33it/s]",
      " 50%|█ | 20/40 [00:02<00:02, 9.5it/s]",
      " 5%|▌ | 51/1000 [00:15<04:45, 3.33it/s]",
    ]);
    expect(last).toMatchObject({ step: 51, total: 1000 });
    expect(format).toBe("auto (tqdm bar N/1000)");
  });

  it("does not take counts of things for counters", () => {
    const { last } = lastOf([
      "  Num Epochs = 3",
      "  Total optimization steps = 1752",
      "  Gradient Accumulation steps = 4",
      "number of skipped iterations:   0 | number of nan iterations:   0 |",
      "Configuration: {'num_epochs': 300, 'batch_size': 2, 'warmup_steps': 10}",
    ]);
    expect(last).toBeNull();
  });

  it("reads a table row once its header names the column, even if the same shape came before", () => {
    const { last } = lastOf([
      "      1/30      13.1G      1.822      21.96     0.5235          9        576",
      "      Epoch    GPU_mem   box_loss   cls_loss   dfl_loss  Instances       Size",
      "      2/30      13.1G      1.822      21.96     0.5235          9        576",
    ]);
    expect(last).toMatchObject({ step: 2, total: 30, epoch: 2 });
  });

  it("a one-off mention does not take over from the series the log keeps printing", () => {
    const { last } = lastOf([
      " 5%|▌ | 49/1000 [00:15<04:45, 3.33it/s]",
      " 5%|▌ | 50/1000 [00:15<04:45, 3.33it/s]",
      "Resuming from global_step=40",
      " 5%|▌ | 51/1000 [00:15<04:45, 3.33it/s]",
    ]);
    expect(last).toMatchObject({ step: 51, total: 1000 });
  });
});
