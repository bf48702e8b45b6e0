import { createServer, type Socket } from "node:net";
import { describe, expect, it } from "vitest";
import { createConnectGate } from "../../src/transport/connect-gate.ts";
import { SshTransport } from "../../src/transport/ssh-transport.ts";
import { TransportConnectError } from "../../src/transport/transport.ts";
import { startSshd } from "../harness/sshd.ts";

describe("createConnectGate", () => {
  it("runs at most max attempts at once, the rest in turn as slots free up, failures included", async () => {
    const gate = createConnectGate(3);
    let inFlight = 0;
    let peak = 0;
    const finishers: Array<(ok: boolean) => void> = [];
    const attempts = Array.from({ length: 8 }, (_, i) =>
      gate(
        () =>
          new Promise<number>((resolve, reject) => {
            inFlight += 1;
            peak = Math.max(peak, inFlight);
            finishers.push((ok) => {
              inFlight -= 1;
              if (ok) resolve(i);
              else reject(new Error(`attempt ${i} failed`));
            });
          }),
      ).then(
        (value) => `ok ${value}`,
        (error: Error) => error.message,
      ),
    );
    // Barrier: each step lets the microtasks run until the next attempt has started.
    const settle = () => new Promise((resolve) => setImmediate(resolve));
    await settle();
    expect(finishers).toHaveLength(3);
    let finished = 0;
    while (finished < 8) {
      const finish = finishers[finished] as (ok: boolean) => void;
      finish(finished % 2 === 0);
      finished += 1;
      await settle();
      expect(inFlight).toBeLessThanOrEqual(3);
    }
    expect(peak).toBe(3);
    expect(await Promise.all(attempts)).toEqual([
      "ok 0",
      "attempt 1 failed",
      "ok 2",
      "attempt 3 failed",
      "ok 4",
      "attempt 5 failed",
      "ok 6",
      "attempt 7 failed",
    ]);
  });

  it("does not count the wait for a slot against a connection's connect timeout", async () => {
    // A VM that accepts TCP and never speaks SSH: its attempt holds the only slot until its
    // own connect timeout ends it.
    const sockets = new Set<Socket>();
    const silent = createServer((socket) => {
      sockets.add(socket);
      socket.on("error", () => {});
    });
    await new Promise<void>((resolve) => silent.listen(0, "127.0.0.1", resolve));
    const silentPort = (silent.address() as { port: number }).port;
    const sshd = await startSshd();
    const gate = createConnectGate(1);
    const hung = new SshTransport(
      { ...sshd.runConfigSsh(), port: silentPort, knownHosts: undefined, connectTimeout: "4s" },
      { home: sshd.dir, connectGate: gate },
    );
    const waiting = new SshTransport(
      { ...sshd.runConfigSsh(), connectTimeout: "3s" },
      { home: sshd.dir, connectGate: gate },
    );
    try {
      const order: string[] = [];
      const first = hung.run("true").then(
        () => order.push("hung connected"),
        (error: Error) => {
          expect(error).toBeInstanceOf(TransportConnectError);
          expect(error.message).toMatch(/within 4 s \(ssh\.connectTimeout\)/);
          order.push("hung timed out");
        },
      );
      const queuedAt = Date.now();
      const second = waiting.run("echo ok").then((result) => {
        order.push("waiting connected");
        return { result, waitedMs: Date.now() - queuedAt };
      });
      const [, { result, waitedMs }] = await Promise.all([first, second]);
      // It waited out the other attempt's 4 s, longer than its own 3 s, and still connected.
      expect(order).toEqual(["hung timed out", "waiting connected"]);
      expect(waitedMs).toBeGreaterThan(3000);
      expect(result.stdout.toString("utf8").trim()).toBe("ok");
    } finally {
      await Promise.all([hung.close(), waiting.close()]);
      for (const socket of sockets) socket.destroy();
      await new Promise((resolve) => silent.close(resolve));
      await sshd.stop();
    }
  });
});
