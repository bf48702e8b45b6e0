import type { EventEmitter } from "node:events";
import type { Duplex, Readable } from "node:stream";

// ssh2 ships no type declarations here; these are the few members trainops uses.

/** An exec channel: stdin/stdout as the duplex, stderr beside it. */
export interface Ssh2Channel extends Duplex {
  stderr: Readable;
  signal(name: string): boolean;
  close(): void;
}

/** A connected ssh2 client. */
export interface Ssh2Client extends EventEmitter {
  exec(
    command: string,
    callback: (error: Error | undefined, channel: Ssh2Channel) => void,
  ): boolean;
  forwardOut(
    srcIP: string,
    srcPort: number,
    dstIP: string,
    dstPort: number,
    callback: (error: Error | undefined, channel: Ssh2Channel) => void,
  ): boolean;
  end(): void;
  destroy(): void;
}

/** Opens an exec channel, rejecting when the connection refuses or is gone. */
export function openExec(client: Ssh2Client, command: string): Promise<Ssh2Channel> {
  return new Promise((resolve, reject) => {
    try {
      client.exec(command, (error, channel) => (error ? reject(error) : resolve(channel)));
    } catch (error) {
      reject(error);
    }
  });
}
