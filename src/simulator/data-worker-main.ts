/**
 * Body of one simulated data-loader worker. It runs with the trainer's exact command line
 * (PyTorch workers are forks, so `ps` shows the same args) under the process name
 * `pt_data_worker`, holds some real memory, and exits as soon as its parent is gone.
 */

/** Environment variable that makes main.ts run this instead of the trainer. */
export const WORKER_ROLE_ENV = "TRAINOPS_SIM_ROLE";
/** MiB of memory the worker keeps resident. */
export const WORKER_MEMORY_ENV = "TRAINOPS_SIM_WORKER_MIB";

/** Runs the worker until the parent closes our stdin or goes away. */
export function runDataWorker(): void {
  // PyTorch workers ignore SIGINT: Ctrl-C is the main process's to handle.
  process.on("SIGINT", () => {});
  const mib = Number(process.env[WORKER_MEMORY_ENV] ?? "0");
  // Filled, not just allocated, so the pages are resident and show in RSS.
  const held = Buffer.alloc(Math.max(0, mib) * 1024 * 1024, 1);
  const parent = process.ppid;
  process.stdin.on("end", () => process.exit(0));
  process.stdin.on("error", () => process.exit(0));
  process.stdin.resume();
  // Belt and braces: if the pipe somehow stays open, a changed parent pid still ends us.
  setInterval(() => {
    if (process.ppid !== parent) process.exit(0);
    if (held.length > 0 && held[0] !== 1) process.exit(1);
  }, 500);
}
