import { appendFileSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type RunConfig, runSchema } from "../../src/config/schema.ts";
import { FollowDemux } from "../../src/transport/follow-demux.ts";
import { HostTransportPool } from "../../src/transport/host-transport-pool.ts";
import type { FollowHandle } from "../../src/transport/transport.ts";
import { type SshdHarness, startSshd } from "../harness/sshd.ts";

let sshd: SshdHarness;
let root: string;

beforeAll(async () => {
  // OpenSSH's own limits: 10 sessions per connection.
  sshd = await startSshd({ limits: { maxStartups: "10:30:100", maxSessions: 10 } });
  root = mkdtempSync(join(tmpdir(), "trainops-follows-"));
});

afterAll(async () => {
  await sshd?.stop();
  rmSync(root, { recursive: true, force: true });
});

async function until(condition: () => boolean, what: string, each?: () => void): Promise<void> {
  const deadline = Date.now() + 20_000;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    each?.();
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

describe("FollowDemux", () => {
  it("gives each file its bytes, whatever the chunk edges, and drops tail's headers and separators", () => {
    const stream = Buffer.from(
      "==> /a.log <==\n\n==> /b.log <==\nb1\n\n==> /a.log <==\na1 partial\n\na2\n\n==> /b.log <==\n==> /c.log <== is text\n",
    );
    for (const size of [1, 3, 7, stream.length]) {
      const demux = new FollowDemux(["/a.log", "/b.log"]);
      const got = new Map<string, string>();
      for (let at = 0; at < stream.length; at += size) {
        for (const [path, bytes] of demux.push(stream.subarray(at, at + size))) {
          got.set(path, (got.get(path) ?? "") + bytes.toString("latin1"));
        }
      }
      expect(Object.fromEntries(got)).toEqual({
        "/a.log": "a1 partial\n\na2\n",
        "/b.log": "b1\n==> /c.log <== is text\n",
      });
    }
  });
});

describe("HostFollows over a real sshd with MaxSessions 10", () => {
  it("12 runs of one host follow their logs on one connection; each gets only its own bytes", async () => {
    const pool = new HostTransportPool();
    const runs: RunConfig[] = [];
    const logs: string[] = [];
    for (let i = 0; i < 12; i++) {
      const workdir = join(root, `run${i}`);
      const log = join(root, `run${i}.log`);
      writeFileSync(log, "");
      logs.push(log);
      runs.push(runSchema.parse({ name: `run${i}`, ssh: sshd.runConfigSsh(), workdir, log }));
    }
    const transports = runs.map((run) => pool.get(run));
    const got = logs.map(() => "");
    const ended: Array<Error | undefined> = [];
    const handles: FollowHandle[] = [];
    for (const [i, transport] of transports.entries()) {
      handles.push(
        await transport.follow({
          path: logs[i] as string,
          fromOffset: 0,
          onData: (chunk) => {
            got[i] += chunk.toString("utf8");
          },
          onEnd: (error) => ended.push(error),
        }),
      );
    }
    // The shell is a session too: scripts still run beside the follows.
    expect((await transports[0]?.run("echo ok"))?.stdout.toString().trim()).toBe("ok");
    let n = 0;
    const appendAll = () => {
      n += 1;
      logs.forEach((log, i) => {
        appendFileSync(log, `line ${n} of run${i}\n`);
      });
    };
    await until(
      () => got.every((text) => text.includes("of run")),
      "every follow's bytes",
      appendAll,
    );
    got.forEach((text, i) => {
      expect(text.match(/of run\d+/g)?.every((m) => m === `of run${i}`)).toBe(true);
    });
    expect(sshd.connectionCount()).toBe(1);
    expect(ended).toEqual([]);

    // One run stops following; the others go on.
    await handles[0]?.stop();
    got.fill("");
    await until(
      () => got.slice(1).every((text) => text.includes("of run")),
      "the other follows after one stopped",
      appendAll,
    );
    expect(got[0]).toBe("");
    expect(ended).toEqual([]);
    await Promise.all(transports.map((t) => t.close()));
    await until(() => sshd.connectionCount() === 0, "the connection to close");
  });
});
