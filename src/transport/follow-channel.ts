import type { Ssh2Channel } from "./ssh2-types.ts";
import { type FollowHandle, type FollowOptions, TransportConnectError } from "./transport.ts";

/**
 * A follow stream open on a connection. The connection keeps the set of its follows so that,
 * when it drops, each one ends with the cause instead of going silent.
 */
export interface FollowChannel {
  channel: Ssh2Channel;
  end(error?: Error): void;
}

/**
 * Wires an open `tail -f` channel to the caller's callbacks and keeps it in `follows` until it
 * ends. `onEnd` is called at most once, and never after `stop()`: a stop the caller asked for
 * is not news to it.
 */
export function attachFollow(
  channel: Ssh2Channel,
  follows: Set<FollowChannel>,
  options: FollowOptions,
): FollowHandle {
  let ended = false;
  const follow: FollowChannel = {
    channel,
    end: (error) => {
      if (ended) return;
      ended = true;
      follows.delete(follow);
      options.onEnd(error);
    },
  };
  follows.add(follow);
  channel.on("data", (chunk: Buffer) => options.onData(chunk));
  channel.stderr.resume();
  channel.on("close", () =>
    follow.end(new TransportConnectError(`follow of ${options.path} ended`)),
  );
  return {
    stop: async () => {
      ended = true;
      follows.delete(follow);
      try {
        channel.signal("TERM");
        channel.close();
      } catch {
        // Connection already gone.
      }
    },
  };
}
