import { chmodSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";

/** What the fake nvidia-smi simulates; see assets/nvidia-smi.sh. */
export type FakeNvidiaSmiMode = "ok" | "driver-failed" | "na" | "hang";

/** The mode file the fake reads from the state dir on every call. */
export const SMI_MODE_FILE = "smi-mode";

const TEMPLATE = new URL("./assets/nvidia-smi.sh", import.meta.url);

/**
 * Writes the fake `nvidia-smi` (a POSIX sh script) to `path`, reading GPU state from
 * `stateDir` (the simulator's --state-dir). `TRAINOPS_SIM_STATE_DIR` overrides it per call.
 */
export function installFakeNvidiaSmi(path: string, stateDir: string): void {
  const script = readFileSync(TEMPLATE, "utf8").replace("@STATE_DIR@", shellSingleQuoted(stateDir));
  mkdirSync(dirname(path), { recursive: true });
  mkdirSync(stateDir, { recursive: true });
  writeFileSync(path, script);
  chmodSync(path, 0o755);
}

/** Switches the fake's behaviour for its next calls (e.g. a failed driver). */
export function setFakeNvidiaSmiMode(stateDir: string, mode: FakeNvidiaSmiMode): void {
  const file = join(stateDir, SMI_MODE_FILE);
  if (mode === "ok") rmSync(file, { force: true });
  else writeFileSync(file, `${mode}\n`);
}

/** A string as one sh word: single quotes, with embedded quotes closed and escaped. */
export function shellSingleQuoted(text: string): string {
  return `'${text.replaceAll("'", `'\\''`)}'`;
}
