import { mkdirSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";

/** The lines of a CUDA out-of-memory traceback, as PyTorch 2 prints it. */
export const OOM_TRACEBACK = [
  "Traceback (most recent call last):",
  '  File "train.py", line 210, in <module>',
  "    loss.backward()",
  "torch.OutOfMemoryError: CUDA out of memory. Tried to allocate 2.00 GiB. GPU 0 has a total capacity of 79.15 GiB of which 1.02 GiB is free.",
];

/** One python-logging progress line of the trainer (without the newline). */
export function stepLine(step: number, total = 4000): string {
  return `2026-11-28 10:00:00,000 - __main__ - INFO - Train step ${step}/${total} loss=0.4213 time=18.1s`;
}

/** A training workdir made of plain files, for tests that write the log themselves. */
export interface FakeRunDir {
  workdir: string;
  /** Absolute path of the log. */
  logPath: string;
  /** Absolute path of an nvidia-smi script that reports one A100 80 GB, nearly full. */
  nvidiaSmi: string;
}

/**
 * Creates `workdir` with the log at `log` (relative, parent folders made) holding `content`,
 * and a fake nvidia-smi beside it; no simulator runs, so the test decides every log byte.
 */
export function createFakeRunDir(workdir: string, log: string, content = ""): FakeRunDir {
  const logPath = join(workdir, log);
  mkdirSync(dirname(logPath), { recursive: true });
  writeFileSync(logPath, content);
  const nvidiaSmi = join(workdir, "nvidia-smi");
  writeFileSync(
    nvidiaSmi,
    '#!/bin/sh\ncase "$*" in *query-gpu*) echo "0, NVIDIA A100-SXM4-80GB, 78822, 81920, 7, 36, 83.10";; *) ;; esac\n',
    { mode: 0o755 },
  );
  return { workdir, logPath, nvidiaSmi };
}
