import { describe, expect, it } from "vitest";
import { ErrorClassifier } from "../../../src/monitors/parsers/error-classifier.ts";
import { errorKinds, last, progress } from "../../harness/log-reading.ts";

// Hand-made variations of the log families the general reader learnt from the eighth corpus
// batch (Keras' one line per epoch, a banner's total of steps, `per epoch` as a unit, an
// ellipsis after the label, CLU's bracketed step with its rate of steps, Lightning 2's bars of
// unknown length, the step's bar redrawn as the next epoch opens, detection evaluation bars,
// NCCL's CUDA failures, native crashes glued to a bar or in another locale): other numbers,
// spacing and wording than the real samples, so each rule holds for the family and not for one
// log. Also the lines each rule must leave alone.

describe("Keras' one line per epoch (verbose=2)", () => {
  it("reads the count before the epoch's time as the bar, run-wide, with its ms/step", () => {
    const lines = [
      "Epoch 1/4",
      "250/250 - 3s - loss: 0.6931 - accuracy: 0.5012 - 3s/epoch - 12ms/step",
      "Epoch 2/4",
      "250/250 - 2s - loss: 0.5120 - accuracy: 0.7400 - val_loss: 0.5502 - 2s/epoch - 9ms/step",
    ];
    expect(progress(lines)).toEqual({ step: 500, total: 1000, epoch: 2, loss: 0.512 });
    expect(last(lines)?.stepTime).toBeCloseTo(0.009, 9);
  });

  it("reads Keras 3's order (time, ms/step, then the metrics) and a time in minutes", () => {
    expect(progress(["Epoch 3/10", "1563/1563 - 1m - 41ms/step - loss: 0.3321"])).toEqual({
      step: 3 * 1563,
      total: 15630,
      epoch: 3,
      loss: 0.3321,
    });
    expect(
      progress(["Epoch 7/7", "40/40 - 12s - 301ms/step - accuracy: 0.91 - loss: 0.2411"]),
    ).toEqual({ step: 280, total: 280, epoch: 7, loss: 0.2411 });
  });

  it("leaves a date range and a dash list with fractions alone", () => {
    expect(progress(["period 2020/2021 - 12s - see notes"])).toBeNull();
    expect(progress(["ratio 3/4 - fine - 2 cases"])).toBeNull();
  });
});

describe("a start-up banner's total of steps is the run's total", () => {
  it("lends the announced total to a step that prints none, in each trainer's wording", () => {
    for (const banner of [
      "  Total optimization steps = 1,200",
      "[INFO|trainer.py:2128] 2024-01-02 10:00:00,000 >>   Total optimization steps = 1200",
      "01/02/2024 10:00:00 - INFO - __main__ -   Total optimization steps = 1200",
      "max_steps: 1200",
      "  train_iters ..................................... 1200",
    ]) {
      const p = progress([
        banner,
        "{'loss': 2.31, 'learning_rate': 1e-05, 'epoch': 0.4, 'step': 480}",
      ]);
      expect({ banner, p }).toEqual({
        banner,
        p: { step: 480, total: 1200, epoch: 0.4, loss: 2.31 },
      });
    }
  });

  it("takes a restarted run's new banner, and never a total the step has passed", () => {
    expect(
      progress([
        "  Total optimization steps = 100",
        "step 90 loss 1.5",
        "  Total optimization steps = 300",
        "step 120 loss 1.4",
      ]),
    ).toEqual({ step: 120, total: 300, epoch: null, loss: 1.4 });
    expect(progress(["  Total optimization steps = 100", "step 150 loss 1.2"])).toEqual({
      step: 150,
      total: null,
      epoch: null,
      loss: 1.2,
    });
  });

  it("leaves other counts alone: per-epoch steps, warm-up steps, steps in a sentence", () => {
    for (const banner of [
      "  Steps per epoch = 188",
      "  warmup_steps = 1200",
      "  Num Epochs = 3",
      "We use max_steps: 1200 in the paper, see table 2",
      "  Total optimization steps = 1200 (was 900)",
    ]) {
      const p = progress([banner, "step 480 loss 2.31"]);
      expect({ banner, p }).toEqual({
        banner,
        p: { step: 480, total: null, epoch: null, loss: 2.31 },
      });
    }
  });
});

describe("`per <label>` is the unit of a rate, not a counter", () => {
  it("reads no epoch or step from `X per epoch = N`, `per step: N`, `time_per_iteration N`", () => {
    expect(progress(["  Steps per epoch = 188"])).toBeNull();
    expect(progress(["Batches per epoch: 512", "Samples per step: 64"])).toBeNull();
    expect(progress(["avg time_per_iteration 3"])).toBeNull();
  });

  it("still reads a label after other words ending in `per`", () => {
    expect(progress(["[upper] step 7 loss 0.5"])).toEqual({
      step: 7,
      total: null,
      epoch: null,
      loss: 0.5,
    });
  });
});

describe("a label followed by an ellipsis or an opening parenthesis", () => {
  it("reads diffusers' Flax epoch line in other spacings and labels", () => {
    expect(progress(["Epoch... (3/20 | Loss: 0.25)", "Epoch... (4/20 | Loss: 0.2125)"])).toEqual({
      step: 4,
      total: 20,
      epoch: 4,
      loss: 0.2125,
    });
    expect(progress(["Step…(1,500/10,000 | Loss: 0.9)"])).toEqual({
      step: 1500,
      total: 10000,
      epoch: null,
      loss: 0.9,
    });
    expect(progress(["Epoch (2/5) loss 1.1"])).toEqual({ step: 2, total: 5, epoch: 2, loss: 1.1 });
  });

  it("leaves a parenthesis that holds no fraction alone", () => {
    expect(progress(["Epoch... (see the schedule, 3 of them)"])).toBeNull();
    expect(progress(["step (12 warmup) ok"])).toBeNull();
  });
});

describe("CLU metric writers: a bracketed step opening key=value metrics", () => {
  it("reads the step, the train loss and the rate of steps, behind any logging prefix", () => {
    const lines = [
      "I0512 09:00:01.000001 140000 logging_writer.py:48] [200] steps_per_second=4.0, train_loss=3.25",
      "[400] learning_rate=0.001, steps_per_second=5.0, train_loss=3.1",
      "2024-05-12 09:00:09 - INFO - [600] train/loss=2.9, train/steps_per_sec=2.5",
    ];
    expect(progress(lines)).toEqual({ step: 600, total: null, epoch: null, loss: 2.9 });
    expect(last(lines)?.stepTime).toBeCloseTo(0.4, 9);
    expect(last(lines.slice(0, 2))?.stepTime).toBeCloseTo(0.2, 9);
  });

  it("takes an evaluation's write for an evaluation, and its epoch only when training names none", () => {
    const lines = [
      "I0512 09:00:01.000001 1 logging_writer.py:48] [300] steps_per_second=3.0, train_loss=4.0",
      "I0512 09:01:01.000001 1 logging_writer.py:48] [312] eval_accuracy=0.10, eval_loss=4.2",
      "I0512 09:01:01.000002 1 train.py:415] eval epoch: 1, loss: 4.2000, accuracy: 10.00",
    ];
    expect(progress(lines)).toEqual({ step: 300, total: null, epoch: null, loss: 4 });
    expect(
      progress([
        ...lines,
        "I0512 09:02:01.000001 1 logging_writer.py:48] [400] steps_per_second=3.0, train_loss=3.9",
      ]),
    ).toEqual({ step: 400, total: null, epoch: 1, loss: 3.9 });
    expect(
      progress([
        "Epoch 3 train step 40 loss 0.7",
        "eval epoch: 9, loss: 0.6",
        "Epoch 3 train step 41 loss 0.69",
      ]),
    ).toEqual({ step: 41, total: null, epoch: 3, loss: 0.69 });
  });

  it("leaves a bracketed number without metrics, and a samples rate, alone", () => {
    expect(progress(["[2] Loading shards from /data/part-2"])).toBeNull();
    expect(progress(["warning [3] retrying"])).toBeNull();
    expect(last(["step 10 loss 1.0 samples_per_second=512.0"])?.stepTime).toBeNull();
  });
});

describe("Lightning 2's bar of unknown length (`N/?`)", () => {
  it("reads the count, its rate and its epoch, with text glued after the bracket", () => {
    const lines = [
      "Epoch 2: |          | 120/? [00:31<00:00,  3.87it/s, v_num=3, train_loss=0.411]",
      "Epoch 2: |          | 180/? [00:46<00:00,  3.90it/s, v_num=3, train_loss=0.398]Saving ckpt",
    ];
    expect(progress(lines)).toEqual({ step: 180, total: null, epoch: 2, loss: 0.398 });
    expect(last(lines)?.stepTime).toBeCloseTo(1 / 3.9, 9);
  });

  it("leaves a question mark that is no bar alone", () => {
    expect(progress(["why 3/? [see 12:30 notes/s]"])).toBeNull();
  });
});

describe("the step's bar redrawn at 0 as the next epoch opens", () => {
  it("reports the new epoch at 0 after the evaluation bars in between", () => {
    expect(
      progress([
        "Training Epoch 4: 100% 50/50 [00:40<00:00,  1.25it/s]",
        "Detecting objects: 100% 8/8 [00:02<00:00,  3.10it/s]",
        "Computing mAP: 100% 1/1 [00:00<00:00, 900.00it/s]",
        "Training Epoch 5:   0% 0/50 [00:00<?, ?it/s]",
      ]),
    ).toEqual({ step: 0, total: 50, epoch: 5, loss: null });
  });

  it("counts a known number of epochs run-wide, and waits for a redraw within the same epoch", () => {
    expect(
      progress([
        "Epoch 1/3: 100%|██████████| 20/20 [00:10<00:00,  2.00it/s, loss=0.5]",
        "Epoch 2/3:   0%|          | 0/20 [00:00<?, ?it/s]",
      ]),
    ).toEqual({ step: 20, total: 60, epoch: 2, loss: 0.5 });
    expect(
      progress([
        "Epoch 1: 40%|████      | 8/20 [00:04<00:06,  2.00it/s, loss=0.7]",
        "Epoch 1:  0%|          | 0/20 [00:00<?, ?it/s]",
      ]),
    ).toEqual({ step: 8, total: 20, epoch: 1, loss: 0.7 });
  });

  it("never takes a detection evaluation bar for the step", () => {
    expect(
      progress([
        "Detecting objects: 100% 13/13 [00:04<00:00,  2.66it/s]",
        "Computing AP: 100% 1/1 [00:00<00:00, 1576.81it/s]",
      ])?.step,
    ).not.toBe(1);
  });
});

describe("NCCL's words for a failed CUDA call are a CUDA error", () => {
  it("reads each wording, whatever the prefix", () => {
    for (const line of [
      "  what():  NCCL Error 1: unhandled cuda error",
      "RuntimeError: NCCL error in: /opt/pytorch/torch/lib/c10d/ProcessGroupNCCL.cpp:825, unhandled cuda error, NCCL version 2.10.3",
      "[rank3]: torch.distributed.DistBackendError: NCCL error in: ../torch/csrc/distributed/c10d/NCCLUtils.hpp:275, unhandled cuda error (run with NCCL_DEBUG=INFO for details), NCCL version 2.20.5",
      "node-3:4411:4502 [2] include/alloc.h:103 NCCL WARN Cuda failure 2 'out of memory'",
    ]) {
      expect({ line, kinds: errorKinds([line]) }).toEqual({
        line,
        kinds: line.includes("'out of memory'") ? ["cuda_oom"] : ["cuda_error"],
      });
    }
  });

  it("reports torch's two-line form once: the NCCL error, then its NCCL error code", () => {
    expect(
      errorKinds([
        "RuntimeError: NCCL error in: ../torch/csrc/distributed/c10d/NCCLUtils.hpp:121, unhandled cuda error, NCCL version 2.14.3",
        "ncclUnhandledCudaError: Call to CUDA function failed.",
      ]),
    ).toEqual(["cuda_error"]);
  });

  it("leaves NCCL's other failures to their own kinds, and its INFO lines alone", () => {
    expect(errorKinds(["NCCL INFO Channel 00/32 :    0   1"])).toEqual([]);
    expect(errorKinds(["NCCL WARN Call to connect returned Connection refused, retrying"])).toEqual(
      [],
    );
  });
});

describe("a native crash glued to a progress bar, or in the shell's own language", () => {
  it("reads a crash after a bar that never broke its line", () => {
    for (const line of [
      "Epoch 3: |     | 812/? [01:02<00:00, 13.1it/s]Fatal Python error: Segmentation fault",
      " 45%|████▌     | 45/100 [00:09<00:11,  4.9it/s]Segmentation fault (core dumped)",
      "Epoch 1:  12%|█▏        | 12/100 [00:03<00:22,  3.9it/s, loss=2.1] Aborted (core dumped)",
      "Fatal Python error: Aborted",
    ]) {
      expect({ line, kinds: errorKinds([line]) }).toEqual({ line, kinds: ["traceback"] });
    }
  });

  it("reads the shell's Aborted and Segmentation fault in other locales", () => {
    for (const line of [
      "已放弃 (核心已转储)",
      "段错误 (核心已转储)",
      "段错误",
      "Speicherzugriffsfehler (Speicherabzug geschrieben)",
      "Abgebrochen (Speicherabzug geschrieben)",
      "Violación de segmento (`core' generado)",
      "セグメンテーション違反です (コアダンプ)",
      "Ошибка сегментирования (стек памяти сброшен на диск)",
    ]) {
      expect({ line, kinds: errorKinds([line]) }).toEqual({ line, kinds: ["traceback"] });
    }
  });

  it("folds the abort into the failure just reported", () => {
    expect(
      errorKinds([
        "terminate called after throwing an instance of 'std::runtime_error'",
        "  what():  NCCL Error 1: unhandled cuda error",
        "已放弃 (核心已转储)",
      ]),
    ).toEqual(["cuda_error"]);
  });

  it("leaves the words inside a sentence, a table cell or a file name alone", () => {
    expect(
      errorKinds([
        "Abandon the run if the loss does not drop",
        "job 42 was Aborted by the user before it started, see the notes",
        "| run-7 | Abgebrochen | 3 h |",
        "saved to /ckpt/segmentation_fault_repro/",
        "中止条件: loss < 0.01",
      ]),
    ).toEqual([]);
  });
});

describe("a translated crash names itself in the event", () => {
  it("keeps the shell's word as the crash's signal", () => {
    const classifier = new ErrorClassifier();
    const events = [...classifier.push("段错误 (核心已转储)", 1), ...classifier.flush()];
    expect(events.map((e) => [e.kind, e.detail?.signal])).toEqual([["traceback", "段错误"]]);
  });
});
