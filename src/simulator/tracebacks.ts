import { torchSize } from "./python-log.ts";
import type { SeededRandom } from "./seeded-random.ts";

/**
 * The interpreter's output when the simulated job dies, worded as PyTorch 2.x prints it, so
 * the monitor's classifier is tested against what real runs write. Frame paths point into
 * the workdir (the user's code) and a conda environment (the libraries).
 */

const SITE = "/opt/conda/envs/vesuvius/lib/python3.11/site-packages";
const PY = "/opt/conda/envs/vesuvius/lib/python3.11";

/** One frame of a traceback as Python prints it: where, then the source line (and its carets). */
function frame(file: string, line: number, fn: string, code: string, ...marks: string[]): string[] {
  return [`  File "${file}", line ${line}, in ${fn}`, `    ${code}`, ...marks];
}

/** The traceback's header and the script's entry point, where every failure starts. */
function entryFrames(workdir: string): string[] {
  return [
    "Traceback (most recent call last):",
    ...frame(`${workdir}/train.py`, 412, "<module>", "main()"),
  ];
}

/** The user-code frames every failure in the training loop passes through. */
function loopFrames(workdir: string): string[] {
  return [
    ...entryFrames(workdir),
    ...frame(`${workdir}/train.py`, 398, "main", "trainer.fit(train_loader, val_loader)"),
    ...frame(`${workdir}/vesuvius/trainer.py`, 163, "fit", "train_loss = self.train_epoch(epoch)"),
  ];
}

/** Sizes reported in a CUDA OOM, in bytes. */
export interface OomFigures {
  triedBytes: number;
  capacityBytes: number;
  freeBytes: number;
  inUseBytes: number;
  allocatedBytes: number;
  reservedUnallocatedBytes: number;
}

const GiB = 1024 ** 3;
/** torch reports an 80 GiB A100 as 79.15 GiB total capacity. */
const USABLE_FRACTION = 79.15 / 80;

/** Plausible allocator figures for an OOM on a GPU of `limitGiB` at a batch size. */
export function oomFigures(limitGiB: number, batchSize: number, random: SeededRandom): OomFigures {
  const capacity = limitGiB * USABLE_FRACTION * GiB;
  const free = random.between(0.2, 0.9) * GiB;
  const inUse = capacity - free;
  const reservedUnallocated = random.between(90, 420) * 1024 ** 2;
  return {
    // The activations of the batch: 4 GiB at batch 8.
    triedBytes: Math.max(0.5 * batchSize, 1) * GiB,
    capacityBytes: capacity,
    freeBytes: free,
    inUseBytes: inUse,
    allocatedBytes: inUse - reservedUnallocated - 0.5 * GiB,
    reservedUnallocatedBytes: reservedUnallocated,
  };
}

/** torch 2.5+ CUDA OOM raised in the backward pass. */
export function cudaOomTraceback(workdir: string, f: OomFigures): string {
  return [
    ...loopFrames(workdir),
    ...frame(
      `${workdir}/vesuvius/trainer.py`,
      214,
      "train_epoch",
      "self.scaler.scale(loss).backward()",
    ),
    ...frame(`${SITE}/torch/_tensor.py`, 626, "backward", "torch.autograd.backward("),
    ...frame(`${SITE}/torch/autograd/__init__.py`, 347, "backward", "_engine_run_backward("),
    ...frame(
      `${SITE}/torch/autograd/graph.py`,
      823,
      "_engine_run_backward",
      "return Variable._execution_engine.run_backward(  # Calls into the C++ engine to run the backward pass",
      "           ^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^",
    ),
    `torch.OutOfMemoryError: CUDA out of memory. Tried to allocate ${torchSize(f.triedBytes)}. ` +
      `GPU 0 has a total capacity of ${torchSize(f.capacityBytes)} of which ${torchSize(f.freeBytes)} is free. ` +
      `Including non-PyTorch memory, this process has ${torchSize(f.inUseBytes)} memory in use. ` +
      `Of the allocated memory ${torchSize(f.allocatedBytes)} is allocated by PyTorch, and ` +
      `${torchSize(f.reservedUnallocatedBytes)} is reserved by PyTorch but unallocated. ` +
      "If reserved but unallocated memory is large try setting " +
      "PYTORCH_CUDA_ALLOC_CONF=expandable_segments:True to avoid fragmentation.  " +
      "See documentation for Memory Management  " +
      "(https://pytorch.org/docs/stable/notes/cuda.html#environment-variables)",
    "",
  ].join("\n");
}

/** A data-loader worker died from a signal (the kernel's OOM killer sends SIGKILL). */
export function workerKilledTraceback(workdir: string, pid: number, signalName: string): string {
  const dl = `${SITE}/torch/utils/data/dataloader.py`;
  return [
    "Traceback (most recent call last):",
    ...frame(
      dl,
      1251,
      "_try_get_data",
      "data = self._data_queue.get(timeout=timeout)",
      "           ^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^",
    ),
    ...frame(`${PY}/queue.py`, 180, "get", "self.not_empty.wait(remaining)"),
    ...frame(
      `${PY}/threading.py`,
      359,
      "wait",
      "gotit = waiter.acquire(True, timeout)",
      "            ^^^^^^^^^^^^^^^^^^^^^^^^^^^^^",
    ),
    ...frame(
      `${SITE}/torch/utils/data/_utils/signal_handling.py`,
      73,
      "handler",
      "_error_if_any_worker_fails()",
    ),
    `RuntimeError: DataLoader worker (pid ${pid}) is killed by signal: ${signalName}. `,
    "",
    "The above exception was the direct cause of the following exception:",
    "",
    ...loopFrames(workdir),
    ...frame(
      `${workdir}/vesuvius/trainer.py`,
      201,
      "train_epoch",
      "for batch_idx, batch in enumerate(self.train_loader):",
    ),
    ...frame(dl, 701, "__next__", "data = self._next_data()", "           ^^^^^^^^^^^^^^^^^"),
    ...frame(
      dl,
      1448,
      "_next_data",
      "idx, data = self._get_data()",
      "                ^^^^^^^^^^^^^^^^",
    ),
    ...frame(
      dl,
      1412,
      "_get_data",
      "success, data = self._try_get_data()",
      "                    ^^^^^^^^^^^^^^^^^^^^",
    ),
    ...frame(
      dl,
      1264,
      "_try_get_data",
      "raise RuntimeError(f'DataLoader worker (pid(s) {pids_str}) exited unexpectedly') from e",
    ),
    `RuntimeError: DataLoader worker (pid(s) ${pid}) exited unexpectedly`,
    "",
  ].join("\n");
}

/** An ordinary bug in the user's loss code (the forced-crash knob). */
export function genericCrashTraceback(workdir: string, step: number): string {
  return [
    ...loopFrames(workdir),
    ...frame(
      `${workdir}/vesuvius/trainer.py`,
      209,
      "train_epoch",
      "loss = self.criterion(logits, target)",
    ),
    ...frame(
      `${SITE}/torch/nn/modules/module.py`,
      1736,
      "_wrapped_call_impl",
      "return self._call_impl(*args, **kwargs)",
    ),
    ...frame(
      `${SITE}/torch/nn/modules/module.py`,
      1747,
      "_call_impl",
      "return forward_call(*args, **kwargs)",
    ),
    ...frame(
      `${workdir}/vesuvius/losses.py`,
      156,
      "forward",
      "dist = self._distance_transform(target)",
    ),
    ...frame(
      `${workdir}/vesuvius/losses.py`,
      98,
      "_distance_transform",
      'raise ValueError(f"empty surface mask in patch {patch_id}")',
    ),
    `ValueError: empty surface mask in patch ${(step * 7919) % 100_000}`,
    "",
  ].join("\n");
}

/** The training YAML could not be used: the script fails before training starts. */
export function configErrorTraceback(workdir: string, exception: string): string {
  return [
    ...entryFrames(workdir),
    ...frame(`${workdir}/train.py`, 371, "main", "config = load_config(args.config)"),
    ...frame(
      `${workdir}/vesuvius/config.py`,
      44,
      "load_config",
      "return validate(yaml.safe_load(handle))",
    ),
    exception,
    "",
  ].join("\n");
}

/** How Python's DataLoader names the signal that killed a worker. */
export function signalName(signal: NodeJS.Signals | null): string {
  const names: Partial<Record<NodeJS.Signals, string>> = {
    SIGKILL: "Killed",
    SIGTERM: "Terminated",
    SIGSEGV: "Segmentation fault",
    SIGBUS: "Bus error",
    SIGABRT: "Aborted",
  };
  return signal === null ? "Unknown signal" : (names[signal] ?? signal);
}
