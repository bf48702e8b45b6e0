import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";

/** The `trainops` entry point of this checkout. */
const TRAINOPS_BIN = fileURLToPath(new URL("../../../bin/trainops.js", import.meta.url));

/**
 * Runs `trainops check --config FILE` as its own process, its table going straight to this
 * process's stdout and stderr, and resolves to its exit code. A separate process checks the
 * file exactly as a later `trainops check` or `trainops start` will read it.
 */
export function runCheckProcess(configPath: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [TRAINOPS_BIN, "check", "--config", configPath], {
      stdio: "inherit",
    });
    child.on("error", reject);
    child.on("exit", (code, signal) => resolve(code ?? (signal ? 1 : 0)));
  });
}
