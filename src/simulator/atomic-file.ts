import { renameSync, writeFileSync } from "node:fs";

/**
 * Replaces a file in one step (write a sibling, then rename), so a reader polling it (the
 * fake nvidia-smi, a resuming run) sees the old or the new content, never half of one.
 */
export function writeFileAtomic(path: string, content: string): void {
  const temporary = `${path}.${process.pid}.tmp`;
  writeFileSync(temporary, content);
  renameSync(temporary, path);
}
