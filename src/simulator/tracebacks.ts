import { torchSize } from "./python-log.ts";
import type { SeededRandom } from "./seeded-random.ts";

/**
 * The interpreter's output when the simulated job dies, worded as PyTorch 2.x prints it, so
 * the monitor's classifier is tested against what real runs write. Frame paths point into
 * the workdir (the user's code) and a conda environment (the libraries).
 */

const SITE = "/opt/conda/envs/vesuvius/lib/python3.11/site-packages";
const PY = "/opt/conda/envs/vesuvius/lib/python3.11";

/** The traceback's header and the script's entry point, where every failure starts. */
function entryFrames(workdir: string): string[] {
  return [
    "Traceback (most recent call last):",
    `  File "${workdir}/train.py", line 412, in <module>`,
    "    main()",
  ];
}

/** The user-code frames every failure in the training loop passes through. */
function loopFrames(workdir: string): string[] {
  return [
    ...entryFrames(workdir),
    `  File "${workdir}/train.py", line 398, in main`,
    "    trainer.fit(train_loader, val_loader)",
    `  File "${workdir}/vesuvius/trainer.py", line 163, in fit`,
    "    train_loss = self.train_epoch(epoch)",
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
    `  File "${workdir}/vesuvius/trainer.py", line 214, in train_epoch`,
    "    self.scaler.scale(loss).backward()",
    `  File "${SITE}/torch/_tensor.py", line 626, in backward`,
    "    torch.autograd.backward(",
    `  File "${SITE}/torch/autograd/__init__.py", line 347, in backward`,
    "    _engine_run_backward(",
    `  File "${SITE}/torch/autograd/graph.py", line 823, in _engine_run_backward`,
    "    return Variable._execution_engine.run_backward(  # Calls into the C++ engine to run the backward pass",
    "           ^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^",
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
    `  File "${dl}", line 1251, in _try_get_data`,
    "    data = self._data_queue.get(timeout=timeout)",
    "           ^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^",
    `  File "${PY}/queue.py", line 180, in get`,
    "    self.not_empty.wait(remaining)",
    `  File "${PY}/threading.py", line 359, in wait`,
    "    gotit = waiter.acquire(True, timeout)",
    "            ^^^^^^^^^^^^^^^^^^^^^^^^^^^^^",
    `  File "${SITE}/torch/utils/data/_utils/signal_handling.py", line 73, in handler`,
    "    _error_if_any_worker_fails()",
    `RuntimeError: DataLoader worker (pid ${pid}) is killed by signal: ${signalName}. `,
    "",
    "The above exception was the direct cause of the following exception:",
    "",
    ...loopFrames(workdir),
    `  File "${workdir}/vesuvius/trainer.py", line 201, in train_epoch`,
    "    for batch_idx, batch in enumerate(self.train_loader):",
    `  File "${dl}", line 701, in __next__`,
    "    data = self._next_data()",
    "           ^^^^^^^^^^^^^^^^^",
    `  File "${dl}", line 1448, in _next_data`,
    "    idx, data = self._get_data()",
    "                ^^^^^^^^^^^^^^^^",
    `  File "${dl}", line 1412, in _get_data`,
    "    success, data = self._try_get_data()",
    "                    ^^^^^^^^^^^^^^^^^^^^",
    `  File "${dl}", line 1264, in _try_get_data`,
    "    raise RuntimeError(f'DataLoader worker (pid(s) {pids_str}) exited unexpectedly') from e",
    `RuntimeError: DataLoader worker (pid(s) ${pid}) exited unexpectedly`,
    "",
  ].join("\n");
}

/** An ordinary bug in the user's loss code (the forced-crash knob). */
export function genericCrashTraceback(workdir: string, step: number): string {
  return [
    ...loopFrames(workdir),
    `  File "${workdir}/vesuvius/trainer.py", line 209, in train_epoch`,
    "    loss = self.criterion(logits, target)",
    `  File "${SITE}/torch/nn/modules/module.py", line 1736, in _wrapped_call_impl`,
    "    return self._call_impl(*args, **kwargs)",
    `  File "${SITE}/torch/nn/modules/module.py", line 1747, in _call_impl`,
    "    return forward_call(*args, **kwargs)",
    `  File "${workdir}/vesuvius/losses.py", line 156, in forward`,
    "    dist = self._distance_transform(target)",
    `  File "${workdir}/vesuvius/losses.py", line 98, in _distance_transform`,
    '    raise ValueError(f"empty surface mask in patch {patch_id}")',
    `ValueError: empty surface mask in patch ${(step * 7919) % 100_000}`,
    "",
  ].join("\n");
}

/** The training YAML could not be used: the script fails before training starts. */
export function configErrorTraceback(workdir: string, exception: string): string {
  return [
    ...entryFrames(workdir),
    `  File "${workdir}/train.py", line 371, in main`,
    "    config = load_config(args.config)",
    `  File "${workdir}/vesuvius/config.py", line 44, in load_config`,
    "    return validate(yaml.safe_load(handle))",
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
