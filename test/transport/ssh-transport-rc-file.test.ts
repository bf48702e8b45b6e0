import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { SshTransport } from "../../src/transport/ssh-transport.ts";
import { TransportTimeoutError } from "../../src/transport/transport.ts";
import { type SshdHarness, startSshd } from "../harness/sshd.ts";

// The login user's ~/.bashrc sleeps (as conda init does) and counts its runs.
let sshd: SshdHarness;
beforeAll(async () => {
  sshd = await startSshd({ loginShellDelayMs: 50 });
});
afterAll(async () => {
  await sshd?.stop();
});

describe("the login shell's rc file", () => {
  it("runs once per connection with the long-lived shell, not once per script", async () => {
    const t = new SshTransport(sshd.runConfigSsh(), { home: sshd.dir });
    try {
      for (let i = 0; i < 10; i++) {
        expect((await t.run("id -un")).stdout.toString()).toBe(`${sshd.user}\n`);
      }
      expect(sshd.rcRunCount()).toBe(1);
    } finally {
      await t.close();
    }
  });

  it("runs for every script with a fresh exec per call (what the long-lived shell avoids)", async () => {
    const before = sshd.rcRunCount();
    const t = new SshTransport(sshd.runConfigSsh(), { home: sshd.dir, persistentShell: false });
    try {
      for (let i = 0; i < 5; i++) await t.run("true");
      expect(sshd.rcRunCount() - before).toBe(5);
    } finally {
      await t.close();
    }
  });

  it("times out while a new shell still runs its slow rc file, then recovers", async () => {
    const t = new SshTransport(sshd.runConfigSsh(), { home: sshd.dir });
    try {
      await t.run("true"); // connected; the next shell start is what must time out
      // A script that kills the long-lived shell fails plainly; the connection stays.
      await expect(t.run("kill $PPID; sleep 1")).rejects.toThrow(/ended while running the script/);
      const error = await t.run("true", { timeoutMs: 10 }).catch((e: Error) => e);
      expect(error).toBeInstanceOf(TransportTimeoutError);
      expect((error as Error).message).toMatch(/ran past 10 ms|within 10 ms/);
      expect((await t.run("echo back")).stdout.toString()).toBe("back\n");
      expect(t.connectCount).toBe(1);
    } finally {
      await t.close();
    }
  });
});
