import { appendFileSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runSchema } from "../../src/config/schema.ts";
import { ManualClock } from "../../src/core/clock.ts";
import type { ClassifiedEvent } from "../../src/model/monitoring.ts";
import { RunMonitor } from "../../src/monitors/run-monitor.ts";
import { openDatabase } from "../../src/store/database.ts";
import { createMonitorStore } from "../../src/store/monitor-store.ts";
import { SshTransport } from "../../src/transport/ssh-transport.ts";
import type {
  ExecOptions,
  FollowHandle,
  FollowOptions,
  Transport,
} from "../../src/transport/transport.ts";
import { createFakeRunDir, OOM_TRACEBACK, stepLine } from "../harness/fake-run-dir.ts";
import { type SshdHarness, startSshd } from "../harness/sshd.ts";

let sshd: SshdHarness;
let root: string;

beforeAll(async () => {
  sshd = await startSshd();
  root = mkdtempSync(join(tmpdir(), "trainops-wakes-"));
});

afterAll(async () => {
  await sshd?.stop();
  rmSync(root, { recursive: true, force: true });
});

/** A real SSH transport that counts its scripts and the follow chunks the monitor has handled. */
class CountingTransport implements Transport {
  scripts = 0;
  chunks = 0;
  constructor(private readonly inner: Transport) {}
  get description(): string {
    return this.inner.description;
  }
  run(script: string, options?: ExecOptions) {
    this.scripts += 1;
    return this.inner.run(script, options);
  }
  follow(options: FollowOptions): Promise<FollowHandle> {
    return this.inner.follow({
      ...options,
      onData: (chunk) => {
        options.onData(chunk);
        // After the monitor's handler: a read it decided on has been asked for by now.
        this.chunks += 1;
      },
    });
  }
  close() {
    return this.inner.close();
  }
}

async function until(condition: () => boolean, what: string): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

function setup(followWakes: "errors" | "all") {
  const { workdir, logPath, nvidiaSmi } = createFakeRunDir(
    join(root, followWakes),
    "train.log",
    `${stepLine(1)}\n`,
  );
  const run = runSchema.parse({
    name: `wakes-${followWakes}`,
    ssh: sshd.runConfigSsh(),
    workdir,
    log: "train.log",
    nvidiaSmi,
    followWakes,
  });
  if (run.ssh === "local") throw new Error("unexpected");
  const transport = new CountingTransport(new SshTransport(run.ssh));
  const followed: ClassifiedEvent[] = [];
  const monitor = new RunMonitor({
    run,
    transport,
    store: createMonitorStore(openDatabase(join(workdir, "trainops.db"))),
    clock: new ManualClock(),
    onFollowEvents: (_run, events) => followed.push(...events),
  });
  return { monitor, transport, logPath, followed };
}

describe("follow wake-ups", () => {
  it("with followWakes: errors, progress lines read nothing until the poll; an OOM is read at once", async () => {
    const f = setup("errors");
    try {
      await f.monitor.pollOnce();
      await f.monitor.startFollow();
      const before = f.transport.scripts;
      appendFileSync(f.logPath, `${stepLine(2)}\n${stepLine(3)}\n`);
      // Barrier: the monitor has handled the streamed progress bytes.
      await until(() => f.transport.chunks >= 1, "the progress bytes to stream");
      expect(f.transport.scripts).toBe(before);

      appendFileSync(f.logPath, `${OOM_TRACEBACK.join("\n")}\n`);
      await until(() => f.followed.length > 0, "the OOM from the follow stream");
      expect(f.followed.map((e) => e.kind)).toEqual(["cuda_oom"]);
      expect(f.transport.scripts).toBeGreaterThan(before);
      // The poll still has every progress line.
      expect((await f.monitor.pollOnce()).sample.step).toBe(3);
    } finally {
      await f.monitor.stopFollow();
      await f.transport.close();
    }
  });

  it("with followWakes: all, progress lines are read as they stream", async () => {
    const f = setup("all");
    try {
      await f.monitor.pollOnce();
      await f.monitor.startFollow();
      const before = f.transport.scripts;
      appendFileSync(f.logPath, `${stepLine(2)}\n`);
      await until(() => f.transport.chunks >= 1, "the progress bytes to stream");
      expect(f.transport.scripts).toBe(before + 1);
    } finally {
      await f.monitor.stopFollow();
      await f.transport.close();
    }
  });
});
