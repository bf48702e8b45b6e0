import { appendFileSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, expect, it } from "vitest";
import { runSchema } from "../../src/config/schema.ts";
import { ManualClock } from "../../src/core/clock.ts";
import type { ClassifiedEvent } from "../../src/model/monitoring.ts";
import { RunMonitor } from "../../src/monitors/run-monitor.ts";
import { openDatabase } from "../../src/store/database.ts";
import { createMonitorStore } from "../../src/store/monitor-store.ts";
import { SshTransport } from "../../src/transport/ssh-transport.ts";
import { createFakeRunDir, OOM_TRACEBACK, stepLine } from "../harness/fake-run-dir.ts";
import { type SshdHarness, startSshd } from "../harness/sshd.ts";
import { TcpGate } from "../harness/tcp-gate.ts";
import { waitUntil } from "../harness/wait.ts";

const BACKOFF = { initialMs: 200, maxMs: 1600 };
/** The smallest wait the back-off may draw before reopen n (1-based) of a failing run. */
const floorMs = (n: number) => Math.min(BACKOFF.maxMs, BACKOFF.initialMs * 2 ** (n - 1)) / 2;

let sshd: SshdHarness;
let gate: TcpGate;
let root: string;
beforeAll(async () => {
  sshd = await startSshd();
  gate = await TcpGate.start(sshd.port);
  root = mkdtempSync(join(tmpdir(), "trainops-follow-reopen-"));
});
afterAll(async () => {
  await gate?.stop();
  await sshd?.stop();
  rmSync(root, { recursive: true, force: true });
});

it("a follow stream cut off from its VM is reopened with growing waits and streams again once the VM is back", async () => {
  const { workdir, logPath, nvidiaSmi } = createFakeRunDir(join(root, "run"), "logs/train.log");
  const ssh = {
    ...sshd.runConfigSsh(),
    port: gate.port,
    knownHosts: undefined,
    hostKey: sshd.hostKeyFingerprint,
  };
  const run = runSchema.parse({
    name: "exp001",
    ssh,
    workdir,
    log: "logs/train.log",
    nvidiaSmi,
    follow: true,
    steps: { perEpoch: 4000, epochs: 32 },
  });
  // Connection attempts themselves may go as fast as the follow asks: its pacing is measured.
  const transport = new SshTransport(ssh, { home: sshd.dir, backoff: { initialMs: 1, maxMs: 1 } });
  const errors: number[] = [];
  const followed: ClassifiedEvent[] = [];
  const monitor = new RunMonitor({
    run,
    transport,
    store: createMonitorStore(openDatabase(join(workdir, "trainops.db"))),
    clock: new ManualClock(),
    followBackoff: BACKOFF,
    onFollowEvents: (_run, events) => followed.push(...events),
    onFollowError: () => errors.push(Date.now()),
  });
  try {
    writeFileSync(logPath, `${stepLine(1)}\n`);
    expect((await monitor.pollOnce()).outcome).toBe("ok");
    await monitor.startFollow();

    gate.open = false;
    gate.cutAll();
    await waitUntil(() => errors.length >= 5, { timeoutMs: 30_000, what: "four failed reopens" });
    const gaps = errors.slice(1, 5).map((at, i) => at - (errors[i] as number));
    gaps.forEach((gap, i) => {
      expect(gap).toBeGreaterThanOrEqual(floorMs(i + 1) - 5);
    });

    gate.open = true;
    const attemptsWhenOpened = gate.attempts.length;
    await waitUntil(() => gate.attempts.length > attemptsWhenOpened, {
      timeoutMs: 30_000,
      what: "the reopen after the VM is back",
    });
    // No poll from here on: the OOM can only arrive through the reopened stream (tail starts
    // at the stored offset, so lines written while it opens are read too).
    appendFileSync(logPath, `${OOM_TRACEBACK.join("\n")}\n`);
    await waitUntil(() => followed.length > 0, { timeoutMs: 30_000, what: "the streamed OOM" });
    expect(followed.map((e) => e.kind)).toEqual(["cuda_oom"]);
  } finally {
    await monitor.stopFollow();
    await transport.close();
  }
}, 60_000);
