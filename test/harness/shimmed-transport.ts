import { shellQuote } from "../../src/transport/shell-quote.ts";
import type {
  ExecOptions,
  ExecResult,
  FollowHandle,
  FollowOptions,
  Transport,
} from "../../src/transport/transport.ts";

/**
 * Runs every script with `dir` first on PATH; the rest is the real SSH transport. A shim there
 * (a `tail` that first does what a test armed) lands a race exactly where the probe calls it.
 */
export class ShimmedTransport implements Transport {
  constructor(
    private readonly inner: Transport,
    private readonly dir: string,
  ) {}

  get description(): string {
    return this.inner.description;
  }

  run(script: string, options?: ExecOptions): Promise<ExecResult> {
    return this.inner.run(`PATH=${shellQuote(this.dir)}:$PATH; export PATH\n${script}`, options);
  }

  follow(options: FollowOptions): Promise<FollowHandle> {
    return this.inner.follow(options);
  }

  close(): Promise<void> {
    return this.inner.close();
  }
}

/** A log line the error rules classify (a host OOM kill), told apart by its marker number. */
export function markerLine(id: number): string {
  return `2026-11-28 10:00:00,000 - __main__ - ERROR - Out of memory: Killed process ${id} (python3) marker-${id}`;
}
