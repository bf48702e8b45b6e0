import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { SshTransport } from "../../src/transport/ssh-transport.ts";
import { type SshdHarness, startSshd } from "../harness/sshd.ts";

// A deadline is about the VM's silence, not the daemon's: when the daemon's event loop is held
// up (here by a synchronous busy wait, as a burst of work on a busy CPU would) past a script's
// deadline while the VM's answer arrives, the answer is taken, not thrown away as a timeout.

let sshd: SshdHarness;
beforeAll(async () => {
  sshd = await startSshd();
});
afterAll(async () => {
  await sshd?.stop();
});

/** Holds the event loop for `ms`: nothing else in this process runs meanwhile. */
function holdEventLoop(ms: number): void {
  const until = Date.now() + ms;
  while (Date.now() < until) {
    // busy: the VM answers meanwhile, into the socket
  }
}

describe("a script's deadline while the daemon's event loop is held up", () => {
  it("takes the output that came in time on the long-lived shell, which stays usable", async () => {
    const transport = new SshTransport(sshd.runConfigSsh(), { home: sshd.dir });
    try {
      // Connected, and the shell open: the next script is written out at once.
      expect((await transport.run("echo warm")).stdout.toString("utf8").trim()).toBe("warm");
      const result = transport.run("echo ok", { timeoutMs: 300 });
      // Let the call write its script (it goes out in microtasks on a live connection).
      for (let i = 0; i < 20; i++) await Promise.resolve();
      holdEventLoop(1500);
      expect((await result).stdout.toString("utf8").trim()).toBe("ok");
      // And the shell is still usable: nothing was killed, nothing reconnected.
      expect((await transport.run("echo again")).stdout.toString("utf8").trim()).toBe("again");
      expect(transport.connectCount).toBe(1);
    } finally {
      await transport.close();
    }
  });

  it("still times out a script that did not answer in time", async () => {
    const transport = new SshTransport(sshd.runConfigSsh(), { home: sshd.dir });
    try {
      await transport.run("true");
      const result = transport.run("sleep 5", { timeoutMs: 300 }).catch((e: Error) => e);
      for (let i = 0; i < 20; i++) await Promise.resolve();
      holdEventLoop(1000);
      expect(((await result) as Error).message).toMatch(/ran past 300 ms/);
    } finally {
      await transport.close();
    }
  });
});
