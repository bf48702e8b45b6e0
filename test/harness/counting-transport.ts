import type {
  ExecOptions,
  ExecResult,
  FollowHandle,
  FollowOptions,
  Transport,
} from "../../src/transport/transport.ts";

/**
 * A real transport that counts what goes through it: the scripts it runs (each one exec on the
 * VM's shell) and the follow chunks the monitor has handled.
 */
export class CountingTransport implements Transport {
  /** Scripts run so far. */
  scripts = 0;
  /** Follow chunks whose handler has returned. */
  chunks = 0;

  constructor(private readonly inner: Transport) {}

  get description(): string {
    return this.inner.description;
  }

  run(script: string, options?: ExecOptions): Promise<ExecResult> {
    this.scripts += 1;
    return this.inner.run(script, options);
  }

  follow(options: FollowOptions): Promise<FollowHandle> {
    return this.inner.follow({
      ...options,
      onData: (chunk) => {
        options.onData(chunk);
        // After the monitor's handler: a read it decided on has been asked for by now.
        this.chunks += 1;
      },
    });
  }

  close(): Promise<void> {
    return this.inner.close();
  }
}
