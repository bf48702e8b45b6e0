import { randomBytes } from "node:crypto";
import { FrameReader } from "./frame-reader.ts";
import { startIoDeadline } from "./io-deadline.ts";
import { openExec, type Ssh2Channel, type Ssh2Client } from "./ssh2-types.ts";
import type { ExecResult } from "./transport.ts";

/** Raised when the remote shell ends while a script runs (connection lost or shell killed). */
export class RemoteShellClosedError extends Error {
  override readonly name = "RemoteShellClosedError";
}

/** Raised by {@link RemoteShell.run} when the script runs past its time. */
export class RemoteShellTimeoutError extends Error {
  override readonly name = "RemoteShellTimeoutError";
}

/**
 * One long-lived `/bin/sh` on the VM, fed scripts on stdin. The login shell (and its rc
 * file: conda or pyenv init, ~85 ms or more) runs once when the channel opens, not per poll.
 *
 * Each script runs in a child `sh` that reads it from a here-document on fd 3 with stdin from
 * /dev/null, so a script can neither eat the next one nor break the parent with a syntax
 * error. Its stdout and stderr are framed by a random per-call boundary; the parent prints
 * the exit status in the stderr trailer and its own PID in the headers.
 */
export class RemoteShell {
  private closed = false;
  private busy = false;
  private onClose: ((error: Error) => void) | undefined;
  /** PID of the remote sh (known once the first script started). */
  pid: number | undefined;

  private constructor(
    private readonly client: Ssh2Client,
    private readonly channel: Ssh2Channel,
  ) {
    const closed = () => {
      this.closed = true;
      this.onClose?.(new RemoteShellClosedError("the remote shell ended"));
    };
    channel.on("close", closed);
    channel.on("error", closed);
  }

  /** Starts the shell; `exec` so the login shell is replaced by sh and exits with it. */
  static async open(client: Ssh2Client): Promise<RemoteShell> {
    const channel = await openExec(client, "exec /bin/sh");
    return new RemoteShell(client, channel);
  }

  /** Fails the running script (if any) because the connection under the shell is gone. */
  abort(error: Error): void {
    this.closed = true;
    this.onClose?.(error);
  }

  get usable(): boolean {
    return !this.closed && !this.busy;
  }

  /** Runs one script; rejects with RemoteShellTimeoutError after timeoutMs (shell unusable then). */
  run(script: string, timeoutMs: number): Promise<ExecResult> {
    if (this.closed) return Promise.reject(new RemoteShellClosedError("the remote shell ended"));
    if (this.busy) return Promise.reject(new Error("RemoteShell runs one script at a time"));
    this.busy = true;
    const boundary = `TRAINOPS${randomBytes(16).toString("hex")}`;
    const terminator = `TRAINOPS_EOF_${randomBytes(16).toString("hex")}`;
    const body = script.endsWith("\n") ? script : `${script}\n`;
    const wrapper =
      `printf '%s%s;' '${boundary}<' "$$"; printf '%s%s;' '${boundary}<' "$$" >&2\n` +
      `/bin/sh /dev/fd/3 </dev/null 3<<'${terminator}'\n${body}${terminator}\n` +
      `__trainops_rc=$?; printf '%s0;' '${boundary}>'; printf '%s%s;' '${boundary}>' "$__trainops_rc" >&2\n`;
    const out = new FrameReader(boundary);
    const err = new FrameReader(boundary);
    return new Promise<ExecResult>((resolve, reject) => {
      const finish = (error?: Error) => {
        deadline.clear();
        this.channel.removeListener("data", onOut);
        this.channel.stderr.removeListener("data", onErr);
        this.onClose = undefined;
        if (error) {
          // A shell that failed mid-script may still be running it: never reuse it.
          this.closed = true;
          reject(error);
          return;
        }
        this.busy = false;
        const code = Number(err.endField);
        resolve({
          stdout: out.bytes(),
          stderr: err.bytes().toString("utf8"),
          code: Number.isInteger(code) ? code : null,
        });
      };
      const check = () => {
        if (out.startField !== undefined) this.pid ??= Number(out.startField);
        if (out.done && err.done) finish();
      };
      const onOut = (chunk: Buffer) => {
        out.push(chunk);
        check();
      };
      const onErr = (chunk: Buffer) => {
        err.push(chunk);
        check();
      };
      // Output that came in time counts, even if the daemon was too busy to read it then.
      const deadline = startIoDeadline(timeoutMs, () =>
        finish(new RemoteShellTimeoutError(`script ran past ${timeoutMs} ms`)),
      );
      this.onClose = (error) => finish(error);
      this.channel.on("data", onOut);
      this.channel.stderr.on("data", onErr);
      this.channel.write(wrapper);
    });
  }

  /**
   * Ends the shell. After a timeout the script may still run (a hung nvidia-smi), so the
   * shell's process tree is killed through a separate exec; best effort.
   */
  async close(options: { kill?: boolean } = {}): Promise<void> {
    this.closed = true;
    const pid = this.pid;
    if (options.kill && pid && pid > 1) {
      try {
        const killer = await openExec(this.client, killTreeCommand(pid));
        killer.resume();
        killer.stderr.resume();
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, 5000);
          killer.on("close", () => {
            clearTimeout(timer);
            resolve();
          });
        });
      } catch {
        // The connection is gone too; the VM's sshd ends the session's processes' pipes.
      }
    }
    try {
      this.channel.end();
      this.channel.close();
    } catch {
      // Already closed.
    }
  }
}

/**
 * Kills a process and its descendants, found through ps. Not the process group: a training
 * job an earlier script started in the background keeps the shell's group after its parent
 * exits, and must survive.
 */
export function killTreeCommand(pid: number): string {
  const awk = `{ parent[$1] = $2 } END { for (p in parent) { q = p; while ((q in parent) && q != root && q > 1) q = parent[q]; if (q == root) print p } }`;
  return `kill -KILL $(ps -eo pid=,ppid= | awk -v root=${pid} '${awk}') 2>/dev/null; true`;
}
