import { openExec, type Ssh2Channel, type Ssh2Client } from "./ssh2-types.ts";
import type { ExecResult } from "./transport.ts";

/**
 * Runs `script` in a fresh `/bin/sh -s` exec channel and collects its output and exit code.
 * `onOpen` receives the channel as soon as it is open, so that a caller whose timeout fires can
 * kill the script on the VM rather than leave it hanging there.
 */
export async function execScript(
  client: Ssh2Client,
  script: string,
  onOpen: (channel: Ssh2Channel) => void,
): Promise<ExecResult> {
  const ch = await openExec(client, "exec /bin/sh -s");
  onOpen(ch);
  return new Promise<ExecResult>((resolve) => {
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    let code: number | null = null;
    ch.on("data", (chunk: Buffer) => out.push(chunk));
    ch.stderr.on("data", (chunk: Buffer) => err.push(chunk));
    ch.on("exit", (status: number | null) => {
      code = status;
    });
    ch.on("close", () =>
      resolve({
        stdout: Buffer.concat(out),
        stderr: Buffer.concat(err).toString("utf8"),
        code,
      }),
    );
    ch.end(script.endsWith("\n") ? script : `${script}\n`);
  });
}
