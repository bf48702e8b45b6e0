import { describe, expect, it } from "vitest";
import { ErrorClassifier } from "../../../src/monitors/parsers/error-classifier.ts";
import { errorKinds, last, progress } from "../../harness/log-reading.ts";

// Hand-made variations of the log families the general reader learnt from the fifth corpus
// batch (Slurm OOM kills, Megatron's NaN check, fastprogress and notebook bars, Keras without a
// target, tqdm bars cut inside their postfix, bar updates piled on one line, metrics printed
// below their step, command lines echoed into the log): other numbers, spacing and wording than
// the real samples, so each rule holds for the family and not for one log. Also the lines each
// rule must leave alone.

describe("Slurm reports a job step killed by its memory cgroup", () => {
  it("reads slurmstepd's wordings across Slurm versions and srun's task line as a host OOM kill", () => {
    for (const line of [
      "slurmstepd: error: Detected 3 oom-kill event(s) in step 4242.0 cgroup. Some of your processes may have been killed by the cgroup out-of-memory handler.",
      "slurmstepd: error: Detected 1 oom_kill event in StepId=77.batch. Some of the step tasks have been OOM Killed.",
      "[2024-05-02T10:11:12.345] error: Detected 12 oom_kill events in StepId=9.0. Some of the step tasks have been OOM Killed.",
      "srun: error: gpu-node-07: tasks 0-3: Out Of Memory",
      "srun: error: a100-12: task 5: Out Of Memory",
    ]) {
      expect({ line, kinds: errorKinds([line]) }).toEqual({ line, kinds: ["host_oom_kill"] });
    }
  });

  it("leaves Slurm's other step endings and the OOM-killer settings alone", () => {
    expect(
      errorKinds([
        "srun: error: node1: task 0: Exited with exit code 1",
        "oom_kill_disable 0",
        "oom_kill 0",
        "#SBATCH --mem=64G  # avoid Out Of Memory on the big shards",
      ]),
    ).toEqual([]);
  });
});

describe("Megatron's NaN check and fastai's bar are NaN losses", () => {
  it("reads the NaN or Inf grad-norm check, whatever the rank, pass and message around it", () => {
    for (const line of [
      "AssertionError: Rank 0: found NaN in local grad norm in backward pass before data-parallel communication collective. Device: 0, node: gpu-3",
      "RuntimeError: Rank 5: found Inf in local grad norm for bucket #0 in backward pass before data-parallel communication collective.",
      "[rank12]: AssertionError: Rank 12: found NaN in local grad norm in backwards pass. Device: 4, node: n-17",
    ]) {
      expect({ line, kinds: errorKinds([line]) }).toEqual({ line, kinds: ["nan_loss"] });
    }
  });

  it("reads a fastprogress bar whose smoothed loss is nan or inf", () => {
    expect(errorKinds(["[1200/5000 10:03<31:50 nan]"])).toEqual(["nan_loss"]);
    expect(errorKinds(["42.10% [3/100 00:01<00:40 inf]"])).toEqual(["nan_loss"]);
  });

  it("stays quiet on a NaN grad norm next to a finite loss, and on a finite bar comment", () => {
    expect(
      errorKinds([
        "Epoch: [3]  [100/1299]  eta: 0:10:00  loss: 6.5993 (6.5971)  grad_norm: 0.3922 (nan)  time: 0.49",
        " iteration       10/     100 | lm loss: 2.1E+00 | loss scale: 1.0 | grad norm: nan | number of nan iterations:   0 |",
        "[1200/5000 10:03<31:50 0.4521]",
      ]),
    ).toEqual([]);
  });
});

describe("torch's NCCL heartbeat monitor ends a rank whose collectives hang", () => {
  it("reads the heartbeat timeout and the stuck watchdog, with the rank, in both torch formats", () => {
    const lines = [
      "[rank3]:[E ProcessGroupNCCL.cpp:1316] [PG 2 Rank 3] Heartbeat monitor timed out! Process will be terminated after dumping debug info. workMetaList_.size()=7",
      "[rank0]:[F1019 01:14:03.356851194 ProcessGroupNCCL.cpp:1224] [PG ID 1 PG GUID 1(tp_group) Rank 0] ProcessGroupNCCL's watchdog got stuck for 1200 seconds without making progress in monitoring enqueued collectives.",
    ];
    for (const line of lines) {
      expect({ line, kinds: errorKinds([line]) }).toEqual({ line, kinds: ["nccl_timeout"] });
    }
    const classifier = new ErrorClassifier();
    const events = [...classifier.push(lines[1] as string, 1), ...classifier.flush()];
    expect(events[0]?.detail).toMatchObject({ rank: 0 });
  });

  it("reads the phrase after a terminal wrapped the line inside a word", () => {
    expect(
      errorKinds([
        "[rank2]:[E0101 00:00:00.000000000 ProcessGroupNCCL.cpp:1743] [PG ID 0 PG GUID 0(default_pg) Rank 2] ProcessGroupNCC",
        "L's watchdog got stuck for 480 seconds without making progress in monitoring enqueued collectives. This typically",
      ]),
    ).toEqual(["nccl_timeout"]);
  });

  it("stays quiet on the settings that name the heartbeat and on other watchdogs", () => {
    expect(
      errorKinds([
        "export TORCH_NCCL_HEARTBEAT_TIMEOUT_SEC=1200 TORCH_NCCL_ENABLE_MONITORING=1",
        "systemd[1]: nvidia-persistenced.service: Watchdog timeout (limit 3min)!",
        "heartbeat monitor started, timeout 600 s",
      ]),
    ).toEqual([]);
  });
});

describe("a command line echoed into the log is settings, not progress", () => {
  it("does not read --epochs or -iters as counters", () => {
    expect(progress(["+ exec python main.py --epochs 400 --lr 0.1"])).toBeNull();
    expect(progress(["torchrun --nproc_per_node 8 train.py -iters 5000 -batch 64"])).toBeNull();
    expect(
      progress(["python train.py --epochs 100 --steps 5000", "step 10/5000 loss 2.0"]),
    ).toEqual({ step: 10, total: 5000, epoch: null, loss: 2 });
  });

  it("still reads a label after a dash that is part of a word or a separator", () => {
    expect(progress(["train-step 12/40 loss 0.5"])).toMatchObject({ step: 12, total: 40 });
    expect(progress(["[INFO] - Epoch 2 - step 7/90 - loss: 0.3"])).toMatchObject({
      step: 7,
      total: 90,
      epoch: 2,
    });
  });
});

describe("a tqdm bar cut inside its postfix is still the bar", () => {
  it("reads the count and keeps postfix keys (global_step=479.0) from becoming counters", () => {
    expect(
      progress([
        "Epoch 2:  40%|████      | 80/200 [01:10<01:45,  1.14it/s, loss=0.512, v_num=3, global_step=479.0, train/loss_step=0.",
      ]),
    ).toEqual({ step: 80, total: 200, epoch: 2, loss: 0.512 });
    expect(
      progress([" 12%|█▏        | 120/1000 [00:30<03:40,  4.00it/s, lr=1e-4, step=119"]),
    ).toMatchObject({ step: 120, total: 1000 });
  });

  it("reads nothing from a bar cut before its rate", () => {
    expect(progress([" 40%|████      | 80/200 [01:10<01:4"])).toBeNull();
    expect(progress([" 40%|████      | 80/200 [01:10<01:45,  1.1"])).toBeNull();
  });
});

describe("bars counted inside their bracket (fastprogress, notebook progress text)", () => {
  it("reads fastai's bar, its comment as the smoothed loss", () => {
    expect(progress(["[120/500 00:31<01:39 1.2345]"])).toEqual({
      step: 120,
      total: 500,
      epoch: null,
      loss: 1.2345,
    });
    expect(progress(["63.00% [63/100 01:02:03<36:20 nan]"])).toMatchObject({ step: 63 });
    expect(Number.isNaN(last(["63.00% [63/100 01:02:03<36:20 nan]"])?.loss)).toBe(true);
    expect(last(["[12/100 00:01<00:10 inf]"])?.loss).toBe(Number.POSITIVE_INFINITY);
  });

  it("reads the notebook bar's fractional epoch and rate, spaces around '<' or not", () => {
    expect(progress(["[ 1500/4000 1:02:11 < 1:43:40, 0.40 it/s, Epoch 1.12/3]"])).toEqual({
      step: 1500,
      total: 4000,
      epoch: 1.12,
      loss: null,
    });
    expect(last(["[ 1500/4000 1:02:11 < 1:43:40, 0.40 it/s, Epoch 1.12/3]"])?.stepTime).toBe(2.5);
    expect(progress(["[30/60 00:10<00:10, 3.00 it/s, Epoch 0.50/1]"])).toMatchObject({
      step: 30,
      epoch: 0.5,
    });
  });

  it("takes the newest of updates piled on one line, and no comment from a cut one", () => {
    expect(
      progress(["[10/50 00:01<00:04 0.9] [11/50 00:01<00:04 0.8] [12/50 00:02<00:04 0.7"]),
    ).toEqual({ step: 12, total: 50, epoch: null, loss: 0.8 });
  });

  it("leaves a loading bar and a time range out of the progress", () => {
    expect(progress(["Downloading shards: [ 3/10 00:01<00:03]"])).toBeNull();
    expect(progress(["window [09:00<17:00] 3 jobs"])).toBeNull();
  });
});

describe("a Keras progbar without a target", () => {
  it("reads N/Unknown as the step with an unknown total, under its epoch", () => {
    expect(
      progress(["Epoch 2/5", "   1200/Unknown - 45s 37ms/step - loss: 0.2100 - accuracy: 0.9300"]),
    ).toEqual({ step: 1200, total: null, epoch: 2, loss: 0.21 });
  });

  it("does not read the word Unknown elsewhere as a bar", () => {
    expect(progress(["model 3/Unknown-layer skipped"])).toBeNull();
  });
});

describe("a bar's redraws piled on one line: the newest is last", () => {
  it("reads the last loss of the same label, not a later validation loss", () => {
    expect(
      progress([
        "  80/Unknown - 3s 40ms/step - loss: 0.9000 - 3s 39ms/step - loss: 0.8500 - 3s 39ms/step - loss: 0.8100",
      ]),
    ).toMatchObject({ step: 80, loss: 0.81 });
    expect(progress(["step 5 loss: 1.25 acc 0.5 val loss: 2.5"])).toMatchObject({ loss: 1.25 });
    expect(progress(["step 5 loss: 1.25 total_loss: 3.5"])).toMatchObject({ loss: 1.25 });
    expect(progress(["step 5 train: loss: 1.25 | valid: loss: 2.5"])).toMatchObject({
      loss: 1.25,
    });
  });

  it("reads the last draw of the same bar on the line as the step", () => {
    expect(
      progress([
        "Epoch 1/3 : |--| [10/100 00:05<00:45 1.5] Epoch 1/3 : |--| [11/100 00:05<00:44 1.4]",
      ]),
    ).toMatchObject({ step: 11, total: 300, epoch: 1, loss: 1.4 });
  });
});

describe("a step printed above its metrics (Composer's console logger)", () => {
  it("gives the first loss below the step line to that step", () => {
    expect(
      progress([
        "[batch=7/2000]:",
        "         Train time/train: 0.0081",
        "         Train loss/train/total: 3.2100",
        "         Train metrics/train/LanguageCrossEntropy: 3.2100",
      ]),
    ).toEqual({ step: 7, total: 2000, epoch: null, loss: 3.21 });
  });

  it("does not let a later loss line overwrite a step's own loss, nor a validation loss in", () => {
    expect(progress(["step 3/10 loss: 0.5", "loss: 9.9"])).toMatchObject({ step: 3, loss: 0.5 });
    expect(
      progress([
        "Train Epoch: 1 [100/600 (17%)]",
        "Test set: Average loss: 0.0341, Accuracy: 9890/10000 (99%)",
      ]),
    ).toMatchObject({ step: 100, loss: null });
    expect(progress(["[batch=2/10]:", "   Eval loss/val/total: 4.0"])).toMatchObject({
      step: 2,
      loss: null,
    });
  });
});
