/**
 * How the monitor reaches a VM. The SSH and local implementations live beside this file; core
 * code depends on this interface only.
 */

/** What one script run returned. */
export interface ExecResult {
  stdout: Buffer;
  stderr: string;
  /** Exit status of the script; null when it was killed. */
  code: number | null;
}

export interface ExecOptions {
  /** Abort and reject with a TransportTimeoutError after this many milliseconds. */
  timeoutMs?: number;
  /**
   * Run beside a script in flight rather than after it: on a connection with a long-lived
   * shell, urgent scripts (a follow stream's read of news) have a second shell of their own,
   * one at a time, so an error line never waits for a probe (one more of sshd's sessions).
   */
  urgent?: boolean;
}

/** A live stream of bytes appended to a remote file. */
export interface FollowHandle {
  stop(): Promise<void>;
}

export interface FollowOptions {
  /** Absolute path of the file on the VM. */
  path: string;
  /** Byte offset to start from (0-based); bytes before it are not sent. */
  fromOffset: number;
  /** Called with raw bytes as they arrive. */
  onData: (chunk: Buffer) => void;
  /** Called once when the stream ends for any reason other than stop(). */
  onEnd: (error?: Error) => void;
}

/** Raised when a script runs past its timeout; the channel it ran on is discarded. */
export class TransportTimeoutError extends Error {
  override readonly name = "TransportTimeoutError";
}

/** Raised when the VM cannot be reached or the connection is refused (incl. host key mismatch). */
export class TransportConnectError extends Error {
  override readonly name = "TransportConnectError";
}

/** Several files followed on one stream (see Transport.followMany). */
export interface FollowManyOptions {
  /** Absolute paths on the VM. */
  paths: readonly string[];
  /** Called with bytes appended to one of the files, as they arrive. */
  onData: (path: string, chunk: Buffer) => void;
  /** Called once when the stream ends for any reason other than stop(). */
  onEnd: (error?: Error) => void;
}

export interface Transport {
  /** A short description for messages: `dylant@10.0.0.5:22` or `local`. */
  readonly description: string;
  /** Runs a POSIX sh script on the VM in one round trip. */
  run(script: string, options?: ExecOptions): Promise<ExecResult>;
  /** Streams appended bytes of a file (`tail -f` on the file as opened: a rotation ends nothing, the poll notices it and reopens) on the same connection. */
  follow(options: FollowOptions): Promise<FollowHandle>;
  /**
   * Streams bytes appended to any of several files (by name: a rotated file is followed anew)
   * on ONE channel, from their ends at the start. The bytes are meant as wake-ups, not as the
   * files' content: a stream started late misses what came before. Optional.
   */
  followMany?(options: FollowManyOptions): Promise<FollowHandle>;
  /** Closes the connection; further calls reconnect. */
  close(): Promise<void>;
}
