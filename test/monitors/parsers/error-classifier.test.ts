import { describe, expect, it } from "vitest";
import type { ClassifiedEvent } from "../../../src/model/monitoring.ts";
import {
  classifyKernelLine,
  ErrorClassifier,
} from "../../../src/monitors/parsers/error-classifier.ts";
import { classifySample, sampleLines } from "./corpus-sample.ts";

function classify(text: string): ClassifiedEvent[] {
  const classifier = new ErrorClassifier();
  const events = text.split("\n").flatMap((line, i) => classifier.push(line, i + 1));
  return [...events, ...classifier.flush()];
}

function kinds(events: ClassifiedEvent[]): string[] {
  return events.map((e) => e.kind);
}

describe("error classifier on the corpus (expected parse from each header)", () => {
  it("err_01: detectron2 FloatingPointError traceback is one nan_loss event; the truncated re-raise adds none", () => {
    const events = classifySample("err_01_detectron2_nan_floatingpointerror.txt");
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({
      kind: "nan_loss",
      lineNumber: 9,
      line: "FloatingPointError: Loss became infinite or NaN at iteration=2!",
      detail: { type: "FloatingPointError", iteration: 2 },
    });
  });

  it("err_03: an mmengine progress line with loss: nan", () => {
    expect(classifySample("err_03_mmengine_epoch_train_loss_nan.txt")).toMatchObject([
      { kind: "nan_loss", lineNumber: 1 },
    ]);
  });

  it("err_04: a 50-line traceback whose first line has a prefix is one cuda_oom on the exception line", () => {
    const events = classifySample("err_04_oom_torch2x_full_traceback_prefixed.txt");
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({
      kind: "cuda_oom",
      lineNumber: 50,
      detail: { type: "torch.OutOfMemoryError", triedToAllocate: "324.00 MiB", gpu: 0 },
    });
    expect(events[0]?.line.startsWith("torch.OutOfMemoryError: CUDA out of memory.")).toBe(true);
  });

  it("err_06 / err_08: OOM wordings without an exception class and with the 'capacty' typo", () => {
    expect(classifySample("err_06_oom_pytorch1x_reserved_wording.txt")).toMatchObject([
      { kind: "cuda_oom", detail: { triedToAllocate: "2.26 GiB", gpu: 0 } },
    ]);
    expect(classifySample("err_08_oom_torch21_capacty_typo.txt")).toMatchObject([
      { kind: "cuda_oom", lineNumber: 2, detail: { triedToAllocate: "55.57 GiB" } },
    ]);
  });

  it("err_10: a chained traceback is one worker_killed event with pid 1817 and signal Killed", () => {
    expect(classifySample("err_10_dataloader_killed_chained_traceback.txt")).toEqual([
      {
        kind: "worker_killed",
        line: "RuntimeError: DataLoader worker (pid 1817) is killed by signal: Killed.",
        lineNumber: 10,
        source: "log",
        detail: {
          pid: 1817,
          signal: "Killed",
          type: "RuntimeError",
          message: "DataLoader worker (pid 1817) is killed by signal: Killed.",
        },
      },
    ]);
  });

  it("err_12: the worker's bus-error line and the main traceback are one shm_exhausted event", () => {
    const events = classifySample("err_12_bus_error_shm_mmseg_docker.txt");
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({
      kind: "shm_exhausted",
      lineNumber: 14,
      detail: { pid: 7579, type: "RuntimeError" },
    });
  });

  it("err_14: hard-wrapped OOM-killer lines are one host_oom_kill with pid, comm and anon-rss", () => {
    const events = classifySample("err_14_kernel_oom_dmesg_hardwrapped.txt");
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({
      kind: "host_oom_kill",
      detail: { pid: 25315, process: "python3", anonRssKiB: 31451456 },
    });
  });

  it("err_16: the old 'Kill process' wording; two runs are two events", () => {
    const events = classifySample("err_16_kernel_oom_old_kernel_kill_process_score.txt");
    expect(events.map((e) => [e.kind, e.detail?.pid])).toEqual([
      ["host_oom_kill", 25635],
      ["host_oom_kill", 9666],
    ]);
    expect(events[0]?.detail?.anonRssKiB).toBe(23902876);
  });

  it("err_19: a bare Killed after a 100% bar", () => {
    expect(classifySample("err_19_shell_killed_after_tqdm_100pct.txt")).toMatchObject([
      { kind: "killed", lineNumber: 4, line: "Killed" },
    ]);
  });

  it("err_20 / err_22: NCCL watchdog timeouts from several ranks are one event each", () => {
    expect(classifySample("err_20_nccl_watchdog_torch1x_format.txt")).toMatchObject([
      {
        kind: "nccl_timeout",
        lineNumber: 1,
        detail: { rank: 1, seqNum: 469508, op: "ALLREDUCE", timeoutMs: 1800000, repeats: 5 },
      },
    ]);
    expect(classifySample("err_22_nccl_watchdog_torch25_rank_prefix_lineno.txt")).toMatchObject([
      { kind: "nccl_timeout", detail: { seqNum: 1580, timeoutMs: 600000, repeats: 4 } },
    ]);
  });

  it("err_23: Xid 13 (three lines) and Xid 109 (pt_main_thread) are two gpu_fault events; the peermem line is none", () => {
    const events = classifySample("err_23_xid_13_109_dmesg_ctime_pt_main_thread.txt");
    expect(events.map((e) => e.detail?.xid)).toEqual([13, 109]);
    expect(kinds(events)).toEqual(["gpu_fault", "gpu_fault"]);
    expect(events[1]?.detail).toMatchObject({
      pid: 1797828,
      process: "pt_main_thread",
      pci: "0000:cb:00",
    });
  });

  it("err_25: fallen off the bus without any Xid", () => {
    expect(classifySample("err_25_gpu_fallen_off_bus_multiline_no_xid.txt")).toMatchObject([
      { kind: "gpu_fault", lineNumber: 3, detail: { pci: "0000:b3:00.0" } },
    ]);
  });

  it("err_27: illegal memory access through a custom logger", () => {
    expect(classifySample("err_27_illegal_memory_access_custom_logger.txt")).toMatchObject([
      {
        kind: "cuda_error",
        lineNumber: 1,
        detail: { type: "RuntimeError", message: "an illegal memory access was encountered" },
      },
    ]);
  });

  it("err_29: docker compose prefix, literal ESC colour codes and a hard wrap inside the key phrase", () => {
    const events = classifySample("err_29_illegal_memory_access_docker_compose_ansi_wrapped.txt");
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({
      kind: "cuda_error",
      lineNumber: 1,
      detail: { rank: 1, message: "an illegal memory access was encountered" },
    });
    expect(events[0]?.line).not.toContain("ESC[");
    expect(events[0]?.line).not.toContain("llm-inference");
  });

  it("train_13: a metrics dict with loss exactly 0.0 is flagged, and the NCCL watchdog cut mid-word after a bar", () => {
    const events = classifySample("train_13_hf_trainer_tqdm_lineno_loss_zero_then_nccl.txt");
    expect(kinds(events)).toEqual(["nan_loss", "nccl_timeout"]);
    expect(events[1]).toMatchObject({ lineNumber: 20, detail: { rank: 5 } });
  });

  it("train_15: fairseq's oom=0 counter is not an OOM; no training log in the corpus raises anything else", () => {
    for (const name of [
      "train_01_vesuvius_surface_python_logging_restart.txt",
      "train_02_nnunetv2_console_torch_compile_warnings.txt",
      "train_03_mmseg0x_mmcv1_textlogger_eta_days.txt",
      "train_06_detectron2_events_complete_run.txt",
      "train_08_timm_train_epoch_boundary_ema.txt",
      "train_09_lightning_tqdm_logfile_restart_partial_line.txt",
      "train_12_lightning071_tqdm_unknown_total.txt",
      "train_15_fairseq_legacy_progress_oom_counter.txt",
      "train_17_hf_trainer_axolotl_memory_keys_gib.txt",
      "train_19_basicsr_style_iter_thousands_comma.txt",
    ]) {
      expect(classifySample(name), name).toEqual([]);
    }
  });
});

describe("kernel lines", () => {
  it("classifies OOM-killer, Xid and fallen-off-the-bus lines with source kernel", () => {
    expect(
      classifyKernelLine(
        "[2059991.491542] Out of memory: Killed process 25315 (python3) total-vm:53312244kB, anon-rss:31451456kB",
      ),
    ).toEqual({
      kind: "host_oom_kill",
      line: "[2059991.491542] Out of memory: Killed process 25315 (python3) total-vm:53312244kB, anon-rss:31451456kB",
      lineNumber: null,
      source: "kernel",
      detail: { pid: 25315, process: "python3", anonRssKiB: 31451456 },
    });
    expect(
      classifyKernelLine(
        "[ 12.3] Memory cgroup out of memory: Killed process 4242 (pt_data_worker) total-vm:1kB",
      ),
    ).toMatchObject({
      kind: "host_oom_kill",
      detail: { pid: 4242, process: "pt_data_worker" },
    });
    const xid = sampleLines("err_23_xid_13_109_dmesg_ctime_pt_main_thread.txt").map(
      classifyKernelLine,
    );
    expect(xid.map((e) => e?.detail?.xid ?? null)).toEqual([null, 13, 13, 13, 109]);
    expect(
      classifyKernelLine("NVRM: fallen off the bus and is not responding to commands.")?.kind,
    ).toBe("gpu_fault");
  });

  it("ignores other kernel chatter, the oom_reaper follow-up and log-only kinds", () => {
    for (const line of [
      "[2059992.056260] oom_reaper: reaped process 25315 (python3), now anon-rss:0kB",
      "[    0.000000] Linux version 5.15.0-141-generic",
      "[ 1843.439669] NVRM: loading NVIDIA UNIX Open Kernel Module for x86_64  570.158.01",
      "[ 99.1] python[123]: segfault at 0 ip 00007f",
      "CUDA out of memory. Tried to allocate 2.00 GiB",
    ]) {
      expect(classifyKernelLine(line), line).toBeNull();
    }
  });
});

describe("tracebacks", () => {
  it("a plain exception is a traceback event with its type and message", () => {
    const events = classify(
      [
        "epoch 1 step 10",
        "Traceback (most recent call last):",
        '  File "train.py", line 10, in <module>',
        "    main()",
        '  File "train.py", line 5, in main',
        "    raise ValueError('bad shape [1, 2]')",
        "ValueError: bad shape [1, 2]",
        "next run starts",
      ].join("\n"),
    );
    expect(events).toEqual([
      {
        kind: "traceback",
        line: "ValueError: bad shape [1, 2]",
        lineNumber: 7,
        source: "log",
        detail: { type: "ValueError", message: "bad shape [1, 2]" },
      },
    ]);
  });

  it("KeyboardInterrupt is interrupted, not a crash", () => {
    const events = classify(
      [
        "Traceback (most recent call last):",
        '  File "train.py", line 3, in <module>',
        "    loop()",
        "KeyboardInterrupt",
      ].join("\n"),
    );
    expect(events).toMatchObject([
      { kind: "interrupted", lineNumber: 4, detail: { type: "KeyboardInterrupt" } },
    ]);
  });

  it("strips a per-line timestamp prefix and takes the most specific cause of a chain", () => {
    const lines = [
      "2024-05-01 10:00:01,123 ERROR Traceback (most recent call last):",
      '2024-05-01 10:00:01,124 ERROR   File "train.py", line 9, in step',
      "2024-05-01 10:00:01,124 ERROR     loss.backward()",
      "2024-05-01 10:00:01,125 ERROR torch.OutOfMemoryError: CUDA out of memory. Tried to allocate 1.00 GiB",
      "2024-05-01 10:00:01,125 ERROR ",
      "2024-05-01 10:00:01,126 ERROR During handling of the above exception, another exception occurred:",
      "2024-05-01 10:00:01,126 ERROR ",
      "2024-05-01 10:00:01,127 ERROR Traceback (most recent call last):",
      '2024-05-01 10:00:01,127 ERROR   File "train.py", line 20, in main',
      "2024-05-01 10:00:01,128 ERROR RuntimeError: checkpoint save failed",
    ];
    const events = classify(lines.join("\n"));
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({
      kind: "cuda_oom",
      lineNumber: 4,
      detail: { type: "torch.OutOfMemoryError" },
    });
  });

  it("ANSI-coloured docker compose lines form one traceback", () => {
    const p = "trainer-1  | \x1b[31m";
    const events = classify(
      [
        `${p}Traceback (most recent call last):\x1b[0m`,
        `${p}  File "t.py", line 1, in <module>\x1b[0m`,
        `${p}ZeroDivisionError: division by zero\x1b[0m`,
      ].join("\n"),
    );
    expect(events).toMatchObject([
      {
        kind: "traceback",
        line: "ZeroDivisionError: division by zero",
        detail: { type: "ZeroDivisionError" },
      },
    ]);
  });

  it("two unrelated tracebacks are two events", () => {
    const tb = (type: string) => [
      "Traceback (most recent call last):",
      '  File "a.py", line 1, in f',
      `${type}: boom`,
    ];
    expect(
      kinds(classify([...tb("KeyError"), "", "restarting", ...tb("OSError")].join("\n"))),
    ).toEqual(["traceback", "traceback"]);
  });

  it("shutdown noise after 'Exception ignored in' is dropped", () => {
    const events = classify(
      [
        "Exception ignored in: <function _MultiProcessingDataLoaderIter.__del__ at 0x7f>",
        "Traceback (most recent call last):",
        '  File "dataloader.py", line 1, in __del__',
        "AttributeError: '_MultiProcessingDataLoaderIter' object has no attribute '_shutdown'",
      ].join("\n"),
    );
    expect(events).toEqual([]);
  });

  it("keeps a traceback open across pushes until its exception line arrives, and flush ends it", () => {
    const classifier = new ErrorClassifier();
    expect(classifier.push("Traceback (most recent call last):", 1)).toEqual([]);
    expect(classifier.push('  File "t.py", line 1, in <module>', 2)).toEqual([]);
    expect(classifier.push("RuntimeError: CUDA error: device-side assert triggered", 3)).toEqual(
      [],
    );
    expect(classifier.flush()).toMatchObject([{ kind: "cuda_error", lineNumber: 3 }]);
    expect(classifier.flush()).toEqual([]);
  });

  it("emits a traceback after a few unrelated lines without waiting for flush", () => {
    const classifier = new ErrorClassifier();
    const lines = [
      "Traceback (most recent call last):",
      '  File "t.py", line 1, in <module>',
      "OSError: disk full",
      "a",
      "b",
      "c",
    ];
    const events = lines.flatMap((line, i) => classifier.push(line, i + 1));
    expect(events).toMatchObject([
      { kind: "traceback", lineNumber: 3, detail: { type: "OSError", message: "disk full" } },
    ]);
  });
});

describe("single-line signatures", () => {
  const positives: [string, string][] = [
    ["cuda_oom", "RuntimeError: CUDA error: out of memory"],
    ["cuda_oom", "torch.cuda.OutOfMemoryError: CUDA out of memory. Tried to allocate 20.00 MiB"],
    [
      "host_oom_kill",
      "[1234.5] Out of memory: Killed process 999 (python) total-vm:1kB, anon-rss:2kB",
    ],
    ["worker_killed", "RuntimeError: DataLoader worker (pid(s) 1817, 1818) exited unexpectedly"],
    [
      "shm_exhausted",
      "ERROR: Unexpected bus error encountered in worker. This might be caused by insufficient shared memory (shm).",
    ],
    [
      "shm_exhausted",
      "RuntimeError: unable to write to file </torch_123_456_0>: No space left on device (28)",
    ],
    ["shm_exhausted", "Bus error (core dumped)"],
    [
      "nccl_timeout",
      "[E ProcessGroupNCCL.cpp:475] [Rank 2] Watchdog caught collective operation timeout: WorkNCCL(SeqNum=5, OpType=BROADCAST, Timeout(ms)=1800000)",
    ],
    ["gpu_fault", "[ 99.0] NVRM: Xid (PCI:0000:3b:00): 79, pid=1234, GPU has fallen off the bus."],
    ["cuda_error", "RuntimeError: CUDA error: an illegal memory access was encountered"],
    ["cuda_error", "RuntimeError: CUDA error: device-side assert triggered"],
    [
      "cuda_error",
      "RuntimeError: CUDA error: CUBLAS_STATUS_EXECUTION_FAILED when calling `cublasSgemm`",
    ],
    ["nan_loss", "step 120 | loss: nan | lr 1e-4"],
    ["nan_loss", "{'loss': nan, 'grad_norm': nan, 'learning_rate': 1e-05, 'epoch': 0.3}"],
    ["nan_loss", "Loss is nan, stopping training"],
    ["nan_loss", "train_loss=inf val_loss=0.5"],
    ["killed", "Killed"],
    ["killed", "Getötet"],
    ["killed", "Processus arrêté"],
    ["killed", "已杀死"],
    [
      "killed",
      "./run.sh: line 12: 48213 Killed                  python train.py --config exp001.yaml",
    ],
    ["killed", "[1]+  Killed                  nohup python train.py > train.log 2>&1"],
    ["killed", "Signal 9 (SIGKILL) received by PID 4242"],
    ["interrupted", "KeyboardInterrupt"],
  ];
  for (const [kind, line] of positives) {
    it(`${kind}: ${line.slice(0, 70)}`, () => {
      expect(kinds(classify(line))).toEqual([kind]);
    });
  }

  // Lines that merely contain the words: each matches the plan's
  // grep -i 'error\|killed\|oom\|exception', none is an error.
  const negatives = [
    "epoch 3 val_error=0.1 train_error=0.08",
    "no exception raised during validation",
    "/usr/lib/python3/site-packages/torch/utils/data/dataloader.py:558: UserWarning: This DataLoader will create 8 worker processes",
    "metric error_rate: 0.023",
    "config: {'oom_score_adj': 0, 'num_workers': 4}",
    "| epoch 001:    450 / 1891 loss=11.521, clip=0%, oom=0, loss_scale=2.000",
    "Killed 3 stale checkpoints older than 7 days",
    "killed_workers: 0",
    "room temperature: 21C",
    "Zoom factor 2.0 applied to augmentation",
    "Exception raised from c10_cuda_check_implementation at ../c10/cuda/CUDAException.cpp:43",
    "INFO: no OOM observed with batch size 4",
    "Using error feedback compression (ErrorFeedback)",
    "W0623 16:22:06.753000 837 site-packages/torch/_inductor/utils.py:1250] Not enough SMs to use max_autotune_gemm mode",
    "loss_scale: inf -> 65536.0",
    "nan_to_num applied to inputs; loss: 0.312",
    "{'loss': 0.0123, 'grad_norm': 1.1, 'epoch': 0.5}",
    "export NCCL_TIMEOUT=1800",
    "ERROR_LOG_PATH=/var/log/train_errors.log",
    "OutOfMemory handling: enabled" /* not the exception class */,
    "The process was not killed; continuing",
    "exception_handler registered for SIGTERM",
    "2025-06-23 16:29:16.698571: Epoch time: 293.48 s",
  ];
  it("none of the negative lines raises an event, although the plan's grep matches most", () => {
    const grep = /error|killed|oom|exception/i;
    expect(negatives.filter((line) => grep.test(line)).length).toBeGreaterThanOrEqual(15);
    for (const line of negatives) {
      expect(classify(line), line).toEqual([]);
    }
  });
});

describe("signatures across framework versions", () => {
  const cases: [string, string][] = [
    [
      "RuntimeError: cuda runtime error (2) : out of memory at /pytorch/aten/src/THC/generic/THCStorage.cu:58",
      "cuda_oom",
    ],
    [
      "THCudaCheck FAIL file=/pytorch/aten/src/THC/THCCachingAllocator.cpp line=510 error=2 : out of memory",
      "cuda_oom",
    ],
    [
      "tensorflow.python.framework.errors_impl.ResourceExhaustedError: OOM when allocating tensor with shape[64,256,56,56] and type float on /job:localhost/replica:0/task:0/device:GPU:0 by allocator GPU_0_bfc",
      "cuda_oom",
    ],
    [
      "jaxlib.xla_extension.XlaRuntimeError: RESOURCE_EXHAUSTED: Out of memory while trying to allocate 17179869184 bytes.",
      "cuda_oom",
    ],
    [
      "RuntimeError: CUDA error: CUBLAS_STATUS_ALLOC_FAILED when calling `cublasCreate(handle)`",
      "cuda_oom",
    ],
    ["RuntimeError: cuDNN error: CUDNN_STATUS_ALLOC_FAILED", "cuda_oom"],
    ["RuntimeError: cuDNN error: CUDNN_STATUS_NOT_INITIALIZED", "cuda_oom"],
    [
      "ERROR:torch.distributed.elastic.multiprocessing.api:failed (exitcode: -9) local_rank: 0 (pid: 5678) of binary: /usr/bin/python3",
      "killed",
    ],
    ["  traceback : Signal 9 (SIGKILL) received by PID 5678", "killed"],
    ["Detected KeyboardInterrupt, attempting graceful shutdown...", "interrupted"],
    ["[Loss] nan", "nan_loss"],
    ["Epoch 3 iter 200 loss=nan", "nan_loss"],
    ["{'loss': inf, 'learning_rate': 1e-05, 'epoch': 0.5}", "nan_loss"],
    ["2025-06-23 16:29:13.153991: train_loss nan", "nan_loss"],
    [" 45%|████▌     | 450/1000 [17:20<21:11,  2.31it/s]Killed", "killed"],
  ];
  for (const [line, kind] of cases) {
    it(`${kind}: ${line.slice(0, 70)}`, () => {
      expect(kinds(classify(line))).toEqual([kind]);
    });
  }

  it("reads torchrun's SIGKILL summary as one killed event with its pid and signal", () => {
    const events = classify(
      [
        "ERROR:torch.distributed.elastic.multiprocessing.api:failed (exitcode: -9) local_rank: 0 (pid: 5678) of binary: /usr/bin/python3",
        "  exitcode  : -9 (pid: 5678)",
        "  traceback : Signal 9 (SIGKILL) received by PID 5678",
      ].join("\n"),
    );
    expect(kinds(events)).toEqual(["killed"]);
    expect(events[0]?.detail).toMatchObject({ pid: 5678 });
  });

  it("stays quiet on benign look-alikes", () => {
    const quiet = [
      "error_rate: 0.12",
      "Train Error: 0.0321",
      "[ 1234.5678] pcieport 0000:00:01.0: PCIe Bus Error: severity=Corrected, type=Physical Layer, (Receiver ID)",
      "[2023-01-01 10:00:00,000] [INFO] [stage_1_and_2.py:1700:step] [deepspeed] OVERFLOW! Rank 0 Skipping step. Attempted loss scale: 65536, reducing to 32768",
      "Gradient overflow.  Skipping step, loss scaler 0 reducing loss scale to 32768.0",
      "/usr/lib/python3/dist-packages/torch/optim/lr_scheduler.py:129: UserWarning: Detected call of `lr_scheduler.step()` before `optimizer.step()`; the loss may be nan",
      " iteration     5427/  250000 | lm loss: 2.845058E+00 | loss scale: 131072.0 | number of skipped iterations:   0 | number of nan iterations:   0 |",
    ];
    expect(classify(quiet.join("\n"))).toEqual([]);
  });
});
