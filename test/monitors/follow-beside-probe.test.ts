import { execFileSync } from "node:child_process";
import { appendFileSync, existsSync, mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createAlerting } from "../../src/alerts/create-alerting.ts";
import { configSchema } from "../../src/config/schema.ts";
import { systemClock } from "../../src/core/clock.ts";
import type { ClassifiedEvent } from "../../src/model/monitoring.ts";
import { pollHost } from "../../src/monitors/host-poll.ts";
import { RunMonitor } from "../../src/monitors/run-monitor.ts";
import { DiscordWebhookSink } from "../../src/platforms/discord/discord-webhook-sink.ts";
import { openDatabase } from "../../src/store/database.ts";
import { createMonitorStore, type MonitorStore } from "../../src/store/monitor-store.ts";
import { HostTransportPool } from "../../src/transport/host-transport-pool.ts";
import { shellQuote } from "../../src/transport/shell-quote.ts";
import { SshTransport } from "../../src/transport/ssh-transport.ts";
import type {
  ExecOptions,
  FollowHandle,
  FollowManyOptions,
  FollowOptions,
  Transport,
} from "../../src/transport/transport.ts";
import { OOM_TRACEBACK, stepLine } from "../harness/fake-run-dir.ts";
import { useSshdRunDirs } from "../harness/sshd-run-dirs.ts";
import { waitUntil } from "../harness/wait.ts";
import { WebhookServer } from "../harness/webhook-server.ts";

// Under load a probe takes most of a second on the VM. These tests hold one in flight for as
// long as they need: the run's nvidia-smi, when armed, says so and then blocks on a FIFO until
// the test writes to it. What happens meanwhile is what happens while any slow probe is out.

const dirs = useSshdRunDirs("trainops-beside-probe-");
let server: WebhookServer;

beforeAll(async () => {
  server = await WebhookServer.start();
});

afterAll(async () => {
  await server?.close();
});

function until(condition: () => boolean, what: string): Promise<boolean> {
  return waitUntil(condition, { what, intervalMs: 10 });
}

/** An nvidia-smi that, once armed, holds the probe that runs it until released. */
interface HeldProbe {
  nvidiaSmi: string;
  /** The next nvidia-smi call blocks until {@link release}. */
  arm(): void;
  /** True once an armed call is blocking. */
  inFlight(): boolean;
  release(): void;
}

function heldProbe(dir: string): HeldProbe {
  const hold = join(dir, "hold");
  const inflight = join(dir, "inflight");
  const fifo = join(dir, "release.fifo");
  mkdirSync(dir, { recursive: true });
  execFileSync("mkfifo", [fifo]);
  const nvidiaSmi = join(dir, "nvidia-smi-held");
  // fd 9 opened read-write never blocks, so the test's write finds a reader once "inflight" is there.
  writeFileSync(
    nvidiaSmi,
    `#!/bin/sh
if mv -- ${shellQuote(hold)} ${shellQuote(`${hold}.taken`)} 2>/dev/null; then
  exec 9<>${shellQuote(fifo)}
  : > ${shellQuote(inflight)}
  read -r _ <&9
fi
case "$*" in *query-gpu*) echo "0, NVIDIA A100-SXM4-80GB, 78822, 81920, 7, 36, 83.10";; *) ;; esac
`,
    { mode: 0o755 },
  );
  return {
    nvidiaSmi,
    arm: () => writeFileSync(hold, ""),
    inFlight: () => existsSync(inflight),
    release: () => writeFileSync(fifo, "go\n"),
  };
}

/** A real SSH transport that counts the bytes its host-wide follow stream delivered. */
class CountingFollows implements Transport {
  chunks = 0;
  constructor(private readonly inner: SshTransport) {}
  get description(): string {
    return this.inner.description;
  }
  run(script: string, options?: ExecOptions) {
    return this.inner.run(script, options);
  }
  follow(options: FollowOptions): Promise<FollowHandle> {
    return this.inner.follow(options);
  }
  followMany(options: FollowManyOptions): Promise<FollowHandle> {
    return this.inner.followMany({
      ...options,
      onData: (path, chunk) => {
        this.chunks += 1;
        options.onData(path, chunk);
      },
    });
  }
  close() {
    return this.inner.close();
  }
}

function oomEvents(store: MonitorStore, run: string): number {
  return store.events.recent(run, 1000).filter((e) => e.kind === "cuda_oom").length;
}

describe("a follow stream's read beside a probe in flight", () => {
  it("an OOM appended while the host's probe is held reaches the webhook before the probe returns, and is stored once", async () => {
    const held = heldProbe(join(dirs.root, "host-smi"));
    const runs = ["a", "b"].map((name) =>
      dirs.runDir(`host-${name}`, {
        name,
        log: "train.log",
        content: `${stepLine(1)}\n`,
        nvidiaSmi: held.nvidiaSmi,
        follow: true,
      }),
    );
    const config = configSchema.parse({
      runs: runs.map((r) => r.run),
      alerts: { console: false },
    });
    const db = openDatabase(join(dirs.root, "host.db"));
    const store = createMonitorStore(db);
    let connection: CountingFollows | null = null;
    const pool = new HostTransportPool((run, options) => {
      if (run.ssh === "local") throw new Error("unexpected");
      connection = new CountingFollows(new SshTransport(run.ssh, options));
      return connection;
    });
    const alerting = createAlerting({
      db,
      config,
      clock: systemClock,
      sinks: [new DiscordWebhookSink("discord-webhook:0", `${server.url}/api/webhooks/1/t`)],
    });
    const monitors = config.runs.map(
      (run) =>
        new RunMonitor({
          run,
          transport: pool.get(run),
          store,
          clock: systemClock,
          onFollowEvents: (name) => alerting.evaluate(name),
        }),
    );
    const before = server.received.length;
    alerting.senderLoop.start();
    try {
      await pollHost(monitors, { store, clock: systemClock });
      for (const monitor of monitors) await monitor.startFollow();
      // Barrier: the host's one follow stream is up (it streams appends from its start only).
      const a = runs[0] as (typeof runs)[number];
      for (let step = 2; (connection as CountingFollows | null)?.chunks === 0; step++) {
        appendFileSync(a.logPath, `${stepLine(step)}\n`);
        await new Promise((resolve) => setTimeout(resolve, 50));
        if (step > 300) throw new Error("the host's follow stream never streamed");
      }
      expect(pool.size).toBe(1);

      held.arm();
      let settled = false;
      const polling = pollHost(monitors, { store, clock: systemClock }).finally(() => {
        settled = true;
      });
      await until(held.inFlight, "the host's probe to be held in nvidia-smi");
      appendFileSync(a.logPath, `${OOM_TRACEBACK.join("\n")}\n`);
      await until(() => server.received.length > before, "the OOM alert at the webhook");
      // The probe is still out: the alert did not wait for it.
      expect(settled).toBe(false);
      expect(JSON.stringify(server.received.at(-1)?.body)).toContain("CUDA out of memory");

      held.release();
      const reports = await polling;
      expect(reports.map((r) => r.outcome)).toEqual(["ok", "ok"]);
      // The probe read the OOM too, from the offset it was built with: it is not stored twice.
      expect(reports.flatMap((r) => r.events).map((e) => e.kind)).not.toContain("cuda_oom");
      expect(oomEvents(store, "a")).toBe(1);
      expect(alerting.evaluate("a").notifications).toBe(0);
    } finally {
      await alerting.senderLoop.stop();
      for (const monitor of monitors) await monitor.stopFollow();
      for (const monitor of monitors) await monitor.transport.close();
      db.close();
    }
  });

  it("a follow read that sees a copytruncate while the probe is held: the probe's older read is dropped, no line twice", async () => {
    const held = heldProbe(join(dirs.root, "copytruncate-smi"));
    const { logPath, run } = dirs.runDir("copytruncate", {
      name: "ct",
      log: "train.log",
      nvidiaSmi: held.nvidiaSmi,
      follow: true,
    });
    const marker = (id: number) =>
      `2026-11-28 10:00:00,000 - __main__ - ERROR - Out of memory: Killed process ${id} (python3) marker-${id}`;
    writeFileSync(logPath, `${stepLine(1)}\n${marker(1)}\n${stepLine(2)}\n`);
    const transport = new SshTransport(run.ssh);
    const store = createMonitorStore(openDatabase(join(dirs.root, "copytruncate.db")));
    const followed: ClassifiedEvent[] = [];
    const monitor = new RunMonitor({
      run,
      transport,
      store,
      clock: systemClock,
      onFollowEvents: (_run, events) => followed.push(...events),
    });
    const stored = () => {
      const counts: Record<number, number> = {};
      for (const event of store.events.recent(run.name, 1000)) {
        const id = Number(/marker-(\d+)/.exec(event.line)?.[1] ?? Number.NaN);
        if (Number.isFinite(id)) counts[id] = (counts[id] ?? 0) + 1;
      }
      return counts;
    };
    try {
      await monitor.pollOnce();
      await monitor.startFollow();
      appendFileSync(logPath, `${marker(2)}\n${stepLine(3)}\n`);
      await until(() => stored()[2] === 1, "marker 2 from the follow stream");

      held.arm();
      let settled = false;
      // The probe reads the log first, then is held in nvidia-smi with what it read.
      const polling = monitor.pollOnce().finally(() => {
        settled = true;
      });
      await until(held.inFlight, "the probe to be held in nvidia-smi");
      appendFileSync(logPath, `${marker(3)}\n`);
      await until(() => stored()[3] === 1, "marker 3 from the follow stream");
      // logrotate's copytruncate, then the training writes on, shorter than before.
      writeFileSync(`${logPath}.1`, execFileSync("cat", [logPath]));
      writeFileSync(logPath, `${marker(4)}\n`);
      await until(() => stored()[4] === 1, "marker 4 from the follow stream");
      expect(settled).toBe(false);

      held.release();
      expect((await polling).outcome).toBe("ok");
      appendFileSync(logPath, `${marker(5)}\n`);
      await monitor.pollOnce();
      expect(stored()).toEqual({ 1: 1, 2: 1, 3: 1, 4: 1, 5: 1 });
      expect(followed.length).toBeGreaterThan(0);
    } finally {
      await monitor.stopFollow();
      await transport.close();
    }
  });
});
