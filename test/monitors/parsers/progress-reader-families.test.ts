import { describe, expect, it } from "vitest";
import { errorKinds, progress } from "../../harness/log-reading.ts";

// Hand-made variations of the log families the general reader learnt from the second corpus
// batch: other spacing, order, units and number forms than the real samples show, so each rule
// is held to the family and not to the one log it came from. Also lines each rule must leave alone.

describe("an unlabelled i/n right after the epoch is the position in that epoch", () => {
  it("reads a comma, a run of spaces, spaces around the slash and grouped thousands", () => {
    expect(progress(["Epoch 3, 120/500; acc: 41.2; xent: 2.31"])).toEqual({
      step: 120,
      total: 500,
      epoch: 3,
      loss: 2.31,
    });
    expect(progress(["| epoch 002   1,200 / 5,000 loss=1.1 (1.3), wps=900"])).toEqual({
      step: 1200,
      total: 5000,
      epoch: 2,
      loss: 1.1,
    });
  });

  it("makes it the run's step when the epoch count is printed too", () => {
    // Epoch 2 of 10 counted from 1: one epoch of 500 done, then 120.
    expect(progress(["Epoch 2/10, 120/500 loss 0.4"])).toEqual({
      step: 620,
      total: 5000,
      epoch: 2,
      loss: 0.4,
    });
  });

  it("nests nothing after a step label, nor a date after an epoch", () => {
    expect(progress(["step 5 3/10 loss 0.2"])).toMatchObject({ step: 5, total: null });
    // `12/08/2021` is a date: the epoch alone is the progress.
    expect(progress(["Epoch 3 12/08/2021 10:00 loss 0.3"])).toMatchObject({
      step: 3,
      total: null,
      epoch: 3,
    });
  });
});

describe("an unlabelled i/n just before the epoch label", () => {
  it("reads it in brackets, after a pipe, with spaces around the slash", () => {
    expect(progress(["45/1000 (epoch 2), train_loss = 1.5, time/batch = 0.2"])).toEqual({
      step: 45,
      total: 1000,
      epoch: 2,
      loss: 1.5,
    });
    expect(progress([" 45 / 1000 | epoch 2 | loss 1.5"])).toMatchObject({
      step: 45,
      total: 1000,
      epoch: 2,
    });
  });

  it("leaves a year/month and a ratio inside a number alone", () => {
    expect(progress(["2021/12 epoch 3 loss 0.1"])).toMatchObject({ step: 3, total: null });
    expect(progress(["lr 1e-3/2 epoch 3 loss 0.1"])).toMatchObject({ step: 3, total: null });
  });
});

describe("a label after a slash is a unit, unless the key is namespaced", () => {
  it("does not take words/batch or tokens/step for the step", () => {
    const lines = [
      "| epoch 004  300 / 900 loss=2.0 (2.1), wps=960",
      "| epoch 004 | train loss 2.05 | words/batch    906 | tokens/step: 4096 | bsz 32",
    ];
    expect(progress(lines)).toMatchObject({ step: 300, total: 900, epoch: 4 });
  });

  it("takes a namespaced key with its own colon or equals sign", () => {
    expect(progress(["Train time/batch: 16", "Train time/batch: 17"])).toMatchObject({
      step: 17,
    });
    expect(progress(["train/global_step=1200 train/loss=0.5"])).toMatchObject({
      step: 1200,
      loss: 0.5,
    });
  });
});

describe("a count that opens a loss line is the step", () => {
  it("reads Darknet's form, its loss being the number right after it", () => {
    expect(
      progress([
        "  1200: 0.53, 0.61 avg loss, 0.001000 rate, 2.1 seconds, 76800 images",
        " 1201: 0.48, 0.60 avg loss, 0.001000 rate, 2.0 seconds, 76864 images, 5.2 hours left",
      ]),
    ).toEqual({ step: 1201, total: null, epoch: null, loss: 0.48 });
  });

  it("reads it after a logging prefix, the loss labelled", () => {
    expect(
      progress(["[2024-01-01 10:00:00][trainer][INFO] - 12: train loss 0.25 | t: 3.2"]),
    ).toEqual({ step: 12, total: null, epoch: null, loss: 0.25 });
  });

  it("leaves clocks, epochs and lines without a loss alone", () => {
    expect(progress(["10:42:01 loss 0.3"])).toBeNull();
    expect(progress([" 46: 0.5, 0.6 avg, 0.001 rate"])).toBeNull();
    expect(progress(["Epoch 3: train loss 0.2"])).toMatchObject({ step: 3, epoch: 3 });
    // A labelled counter on the line wins.
    expect(progress(["- 5: step 100 loss 0.2"])).toMatchObject({ step: 100 });
  });
});

describe("the loss under other names", () => {
  it("takes the one loss named by a prefix, with or without a colon", () => {
    expect(progress(["Training Iteration: 30  step_loss : 0.48"])).toMatchObject({ loss: 0.48 });
    expect(progress(["Step: 10/965 | 1.2s/batch || Mask_Loss 1.67"])).toMatchObject({
      loss: 1.67,
    });
    expect(progress(["iter 7 lm_loss=2.5e-1"])).toMatchObject({ loss: 0.25 });
  });

  it("takes no loss from several terms, nor from a validation loss", () => {
    expect(progress(["iter 7 box_loss: 0.05 cls_loss: 0.02"])).toMatchObject({ loss: null });
    expect(progress(["iter 7 val_loss: 0.3"])).toMatchObject({ loss: null });
    // The same term twice (value and running mean) is still one loss.
    expect(progress(["iter 7 step_loss: 0.3 step_loss: 0.4"])).toMatchObject({ loss: 0.4 });
  });

  it("takes the cross-entropy when nothing is called loss", () => {
    expect(progress(["Step 3/10; xent: 3.94; ppl: 51.4"])).toMatchObject({ loss: 3.94 });
    expect(progress(["iter 3 cross_entropy=2.1"])).toMatchObject({ loss: 2.1 });
    expect(progress(["iter 3 Cross-Entropy 2.1"])).toMatchObject({ loss: 2.1 });
    expect(progress(["iter 3 loss 1.0 xent 2.0"])).toMatchObject({ loss: 1 });
  });
});

describe("NaN under other names is a NaN loss", () => {
  it("flags a NaN or infinite cross-entropy or perplexity", () => {
    expect(errorKinds(["Step 5/9; acc: 0.1; ppl:   nan; xent:  nan; lr: 0.1"])).toEqual([
      "nan_loss",
    ]);
    expect(errorKinds(["epoch 2 | perplexity=inf"])).toEqual(["nan_loss"]);
    expect(errorKinds(["val 3 Cross-Entropy: -inf"])).toEqual(["nan_loss"]);
  });

  it("flags autograd's anomaly report and Keras' TerminateOnNaN", () => {
    expect(
      errorKinds([
        "Traceback (most recent call last):",
        '  File "train.py", line 9, in <module>',
        "    loss.backward()",
        "RuntimeError: Function 'MulBackward0' returned nan values in its 1st output.",
      ]),
    ).toEqual(["nan_loss"]);
    expect(
      errorKinds(["12/50 [==>....] - loss: 3.1Batch 12: Invalid loss, terminating training"]),
    ).toEqual(["nan_loss"]);
  });

  it("leaves a finite perplexity and a NaN of something else alone", () => {
    expect(errorKinds(["Step 5/9; ppl: 12.5; xent: 2.5"])).toEqual([]);
    expect(errorKinds(["xent_weight: nan means unset"])).toEqual([]);
  });
});

describe("a bar that has not moved", () => {
  it("is the progress while nothing else is", () => {
    expect(progress(["  Training =>:   0%|          | 0/313 [00:05<?, ?it/s]"])).toMatchObject({
      step: 0,
      total: 313,
    });
  });

  it("does not take over from a counter already chosen", () => {
    expect(
      progress([
        "Epoch 1:  50%|█████     | 5/10 [00:05<00:05,  1.00it/s, loss=0.5]",
        "  0%|          | 0/4 [00:00<?, ?it/s]",
      ]),
    ).toMatchObject({ step: 5, total: 10 });
  });
});

describe("the language-model example's pipe table", () => {
  it("reads `| epoch N |  i/ n batches |` with any padding and grouped thousands", () => {
    expect(
      progress([
        "| epoch   3 |   120/ 2983 batches | lr 20.00 | ms/batch 50.10 | loss  5.10 | ppl   164.02",
      ]),
    ).toEqual({ step: 120, total: 2983, epoch: 3, loss: 5.1 });
    expect(progress(["| epoch 12 | 1,200/2,983 batches | loss 4.2 |"])).toMatchObject({
      step: 1200,
      total: 2983,
      epoch: 12,
    });
  });
});

describe("a counter the training and the test lines share", () => {
  it("is the step on the training lines and ignored on the test ones", () => {
    const lines = [
      "Epoch 1 Batch 10/20 - Loss: 1.0",
      "Epoch 1 Batch 10/20 - Val Loss: 0.9",
      "Epoch 1 Batch 20/20 - Loss: 0.8",
      "Epoch 1 Batch 20/20 - Test Loss: 0.7",
    ];
    expect(progress(lines)).toEqual({ step: 20, total: 20, epoch: 1, loss: 0.8 });
  });

  it("stays out when only evaluation lines print it", () => {
    expect(progress(["Validation Batch 5/10 - Loss: 0.3", "Validation Batch 6/10"])).toBeNull();
  });
});

describe("a log of epochs only", () => {
  it("counts a 0-based `Epoch 0/59` as 60 epochs and a 1-based `Epoch 1/60` as 60", () => {
    expect(progress(["Epoch 0/59", "train Loss: 2.7 Acc: 0.4", "Epoch 1/59"])).toMatchObject({
      step: 1,
      total: 60,
    });
    expect(progress(["Epoch 1/60", "train Loss: 2.7 Acc: 0.4", "Epoch 2/60"])).toMatchObject({
      step: 2,
      total: 60,
    });
  });
});

describe("two counters that agree on the step", () => {
  it("take the total from the one that prints it, on one line", () => {
    expect(
      progress(["epoch 0, iteration 7/100 | global_step: 7 | reduced_train_loss: 0.5"]),
    ).toEqual({ step: 7, total: 100, epoch: 0, loss: 0.5 });
  });

  it("take the loss and total from a later line of the same step", () => {
    const lines = [
      "[timer.py:215:stop] epoch=0/micro_step=7/global_step=7, CurrSamplesPerSec=8.0",
      " samples/sec: 7.8 | iteration        7/   10000 | lm_loss: 2.5E+00 |",
      "[Rank 0] step=8, skipped=0, lr=[1e-06]",
    ];
    expect(progress(lines)).toEqual({ step: 7, total: 10000, epoch: 0, loss: 2.5 });
  });

  it("leave a line at another value alone", () => {
    const lines = ["global_step=7 loss=1.0", "iteration 9/100 | lm_loss: 3.0"];
    expect(progress(lines)).toMatchObject({ step: 7, total: null, loss: 1 });
  });
});

describe("a loss named with several prefixes", () => {
  it("takes `reduced_train_loss` and leaves `valid_seg_loss` out", () => {
    expect(progress(["iter 3 | reduced_train_loss: 1.34 | val_loss: 4.1"])).toMatchObject({
      loss: 1.34,
    });
    expect(progress(["iter 3 | valid_seg_loss: 0.3"])).toMatchObject({ loss: null });
  });
});

describe("a native crash", () => {
  it("is a crash in the shell's, bash's and Python's words", () => {
    expect(errorKinds(["Segmentation fault (core dumped)"])).toEqual(["traceback"]);
    expect(errorKinds(["Aborted"])).toEqual(["traceback"]);
    expect(
      errorKinds(["./run.sh: line 5:  4242 Segmentation fault      (core dumped) python train.py"]),
    ).toEqual(["traceback"]);
    expect(errorKinds(["Fatal Python error: Aborted"])).toEqual(["traceback"]);
  });

  it("is the end of a failure just reported, not a second one", () => {
    const lines = [
      "F0903 14:31:26.1 1 syncedmem.cpp:56] Check failed: error == cudaSuccess (2 vs. 0)  out of memory",
      "*** Check failure stack trace: ***",
      "    @     0x7fd08b3a6eca  caffe::Solver<>::Solve()",
      "Aborted (core dumped)",
    ];
    expect(errorKinds(lines)).toEqual(["cuda_oom"]);
  });

  it("leaves words that only look like it alone", () => {
    expect(errorKinds(["Aborted!"])).toEqual([]);
    expect(errorKinds(["Training aborted by the user at step 5"])).toEqual([]);
  });
});

describe("a loss label followed by its mode word", () => {
  it("reads the training loss in litgpt's and other spellings", () => {
    expect(progress(["iter 10 | loss train: 0.5, val: 0.9 | iter time: 20 ms"])).toMatchObject({
      step: 10,
      loss: 0.5,
    });
    expect(progress(["step 3: loss training (smoothed): 1.25 | lr 1e-4"])).toMatchObject({
      step: 3,
      loss: 1.25,
    });
    expect(progress(["step 4: loss (train) = 2.5e-1"])).toMatchObject({ step: 4, loss: 0.25 });
  });

  it("leaves a validation loss out", () => {
    expect(progress(["step 3: loss val: 0.7"])).toMatchObject({ step: 3, loss: null });
  });
});

describe("an epoch written `Ep`", () => {
  it("is the epoch, with or without a separator or a total", () => {
    expect(progress(["Ep 2 | iter 40 | loss 0.3"])).toMatchObject({ step: 40, epoch: 2 });
    expect(progress(["ep: 7 step: 100 loss: 1.0"])).toMatchObject({ step: 100, epoch: 7 });
    expect(progress(["EP 3 | step 12 | loss 0.9"])).toMatchObject({ step: 12, epoch: 3 });
  });

  it("is not the end of another word", () => {
    expect(progress(["sleep 3 step 5 loss 0.1"])).toMatchObject({ step: 5, epoch: null });
    expect(progress(["keep 3 step 6 loss 0.1"])).toMatchObject({ step: 6, epoch: null });
  });
});

describe("a timm-style position behind an epoch with its own total", () => {
  it("takes the epoch from `e/N ( P%)` or `e/N` before the bracket", () => {
    expect(progress(["Train: 2/10 ( 20%) [  99/500 ( 20%)]  Loss: 1.5 (1.6)"])).toEqual({
      step: 99,
      total: 500,
      epoch: 2,
      loss: 1.5,
    });
    expect(progress(["INFO  Train:  3/12 [ 10/100 ]  Loss: 0.75 (0.8)"])).toMatchObject({
      step: 10,
      total: 100,
      epoch: 3,
    });
  });

  it("takes no epoch from a path or a slash-separated word before the bracket", () => {
    expect(progress(["data/2 [5/10] loss 1"])).toMatchObject({ step: 5, total: 10, epoch: null });
  });
});

describe("a distributed worker dead of a crash signal", () => {
  it("is a crash whether the launcher gives the exit code or the signal", () => {
    expect(errorKinds(["  exitcode  : -11 (pid: 77)"])).toEqual(["traceback"]);
    expect(errorKinds(["  traceback : Signal 6 (SIGABRT) received by PID 4242"])).toEqual([
      "traceback",
    ]);
    expect(
      errorKinds([
        "  exitcode  : -8 (pid: 5)",
        "  traceback : Signal 8 (SIGFPE) received by PID 5",
      ]),
    ).toEqual(["traceback"]);
  });

  it("stays a kill for signal 9 and leaves other exit codes alone", () => {
    expect(errorKinds(["  exitcode  : -9 (pid: 5)"])).toEqual(["killed"]);
    expect(
      errorKinds(["exitcode: -60 after retry", "exitcode : 6", "the exit code was 6"]),
    ).toEqual([]);
  });
});
