import { type ChildProcessWithoutNullStreams, spawn } from "node:child_process";
import { fileURLToPath } from "node:url";

/** Absolute path of the `trainops` executable (bin/trainops.js) of this checkout. */
export const TRAINOPS_BIN = fileURLToPath(new URL("../../bin/trainops.js", import.meta.url));

/** What one `trainops` process printed and how it exited. */
export interface CliResult {
  /** Exit status; null when a signal ended it (a timeout included). */
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Options of {@link spawnTrainops} and {@link runTrainops}. */
export interface CliOptions {
  /** Working directory (default: the test process's). */
  cwd?: string;
  /** Added to (and overriding) the test process's environment. */
  env?: NodeJS.ProcessEnv;
  /** Leave stdin open for the test to write to; by default it is closed at once (EOF). */
  keepStdinOpen?: boolean;
}

/** A `trainops` process started by a test, with what it printed so far. */
export interface TrainopsProcess {
  child: ChildProcessWithoutNullStreams;
  stdout(): string;
  stderr(): string;
  /** stdout and stderr interleaved in the order the chunks arrived. */
  output(): string;
  /** The exit status (null when a signal ended it), known when the process exits. */
  exited: Promise<number | null>;
  /** The exit status once stdout and stderr are closed too: the output is then complete. */
  closed: Promise<number | null>;
}

/**
 * Starts `node bin/trainops.js ...args`, as a user would from a shell, capturing its output. It
 * runs the bundle in dist/, which vitest's global set-up (test/build-cli.global-setup.ts) builds
 * from the sources before the first test file: as edited, and much quicker to start than the
 * sources through tsx. `env: { TRAINOPS_FROM_SOURCE: "1" }` runs the sources instead.
 */
export function spawnTrainops(args: string[], options: CliOptions = {}): TrainopsProcess {
  const child = spawn(process.execPath, [TRAINOPS_BIN, ...args], {
    cwd: options.cwd,
    env: { ...process.env, TRAINOPS_FROM_SOURCE: "0", ...options.env },
    stdio: "pipe",
  });
  if (!options.keepStdinOpen) child.stdin.end();
  let stdout = "";
  let stderr = "";
  let output = "";
  child.stdout.on("data", (chunk: Buffer) => {
    stdout += chunk.toString("utf8");
    output += chunk.toString("utf8");
  });
  child.stderr.on("data", (chunk: Buffer) => {
    stderr += chunk.toString("utf8");
    output += chunk.toString("utf8");
  });
  const exited = new Promise<number | null>((resolve, reject) => {
    child.on("error", reject);
    child.on("exit", (code) => resolve(code));
  });
  const closed = new Promise<number | null>((resolve, reject) => {
    child.on("error", reject);
    child.on("close", (code) => resolve(code));
  });
  // A spawn error reaches whoever awaits either promise; the other must not go unhandled.
  for (const status of [exited, closed]) status.catch(() => {});
  return {
    child,
    stdout: () => stdout,
    stderr: () => stderr,
    output: () => output,
    exited,
    closed,
  };
}

/**
 * Runs `node bin/trainops.js ...args` to the end. With `timeoutMs`, a process still running then
 * gets SIGTERM and the result has code null, so a hang fails the test's exit-code assertion.
 */
export async function runTrainops(
  args: string[],
  options: CliOptions & { timeoutMs?: number } = {},
): Promise<CliResult> {
  const proc = spawnTrainops(args, options);
  const timer =
    options.timeoutMs === undefined
      ? undefined
      : setTimeout(() => proc.child.kill("SIGTERM"), options.timeoutMs);
  try {
    const code = await proc.closed;
    return { code, stdout: proc.stdout(), stderr: proc.stderr() };
  } finally {
    clearTimeout(timer);
  }
}
