import { afterAll, beforeAll, expect, it } from "vitest";
import { ManualClock } from "../../src/core/clock.ts";
import { SshTransport } from "../../src/transport/ssh-transport.ts";
import { TransportConnectError } from "../../src/transport/transport.ts";
import { type SshdHarness, startSshd } from "../harness/sshd.ts";
import { TcpGate } from "../harness/tcp-gate.ts";

let sshd: SshdHarness;
let gate: TcpGate;
beforeAll(async () => {
  sshd = await startSshd();
  gate = await TcpGate.start(sshd.port);
});
afterAll(async () => {
  await gate?.stop();
  await sshd?.stop();
});

function transportThroughGate(clock: ManualClock, random: () => number): SshTransport {
  // known_hosts lists the server under its real port; the gate's port needs a pinned key.
  return new SshTransport(
    {
      ...sshd.runConfigSsh(),
      port: gate.port,
      knownHosts: undefined,
      hostKey: sshd.hostKeyFingerprint,
    },
    { home: sshd.dir, clock, backoff: { initialMs: 1000, maxMs: 4000, random } },
  );
}

/** Calls `run` and says whether it failed without a connection attempt reaching the VM. */
async function failsWithoutTrying(t: SshTransport): Promise<boolean> {
  const before = gate.attempts.length;
  const error = await t.run("true").catch((e: Error) => e);
  expect(error).toBeInstanceOf(TransportConnectError);
  return gate.attempts.length === before;
}

it("a VM that hangs up is tried again only after jittered waits that double up to the cap", async () => {
  const clock = new ManualClock();
  // The lowest draw: each wait is half its ceiling (1, 2, 4, 4 s ceilings).
  const t = transportThroughGate(clock, () => 0);
  gate.open = false;
  try {
    const expected = [500, 1000, 2000, 2000];
    expect(await failsWithoutTrying(t)).toBe(false);
    for (const wait of expected) {
      // Every call before the wait is over fails at once, without a connection attempt.
      clock.advance(wait - 1);
      expect(await failsWithoutTrying(t)).toBe(true);
      await expect(t.run("true")).rejects.toThrow(/next attempt in 1 s/);
      clock.advance(1);
      expect(await failsWithoutTrying(t)).toBe(false);
    }
    expect(gate.attempts).toHaveLength(expected.length + 1);

    // The VM answers again: the next attempt after the wait connects, and the waits start over.
    gate.open = true;
    clock.advance(2000);
    expect((await t.run("echo back")).stdout.toString()).toBe("back\n");
    gate.cutAll();
    await t.run("true").catch(() => undefined);
    expect((await t.run("echo again")).stdout.toString()).toBe("again\n");
    expect(t.connectCount).toBe(2);
  } finally {
    gate.open = true;
    await t.close();
  }
});

it("the highest draw stays within the ceiling", async () => {
  const clock = new ManualClock();
  const t = transportThroughGate(clock, () => 0.999_999);
  gate.open = false;
  try {
    expect(await failsWithoutTrying(t)).toBe(false);
    clock.advance(999);
    expect(await failsWithoutTrying(t)).toBe(true);
    clock.advance(1);
    expect(await failsWithoutTrying(t)).toBe(false);
    clock.advance(1999);
    expect(await failsWithoutTrying(t)).toBe(true);
    clock.advance(1);
    expect(await failsWithoutTrying(t)).toBe(false);
  } finally {
    gate.open = true;
    await t.close();
  }
});
