/**
 * Alert latency: from an OOM traceback appended to a run's log "on the VM" (a loopback sshd) to
 * the alert's arrival at a local Discord-style webhook server, through the real path: RunMonitor
 * (poll and follow over one SSH connection) → events in SQLite → alert engine → outbox → sender
 * → HTTP. Median and p95 over repeated trials, with `follow` on and off, and with `follow` on
 * right after another alert on the same run (inside the sender's group window).
 * Run: `npx tsx bench/alert-latency.ts [--trials 20] [--poll-ms 2000]`.
 */
import { appendFileSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createAlerting } from "../src/alerts/create-alerting.ts";
import { configSchema } from "../src/config/schema.ts";
import { systemClock } from "../src/core/clock.ts";
import { RunMonitor } from "../src/monitors/run-monitor.ts";
import { DiscordWebhookSink } from "../src/platforms/discord/discord-webhook-sink.ts";
import { openDatabase } from "../src/store/database.ts";
import { createMonitorStore } from "../src/store/monitor-store.ts";
import { SshTransport } from "../src/transport/ssh-transport.ts";
import { createFakeRunDir, OOM_TRACEBACK, stepLine } from "../test/harness/fake-run-dir.ts";
import { type SshdHarness, startSshd } from "../test/harness/sshd.ts";
import { WebhookServer } from "../test/harness/webhook-server.ts";

const args = process.argv.slice(2);
const argOf = (name: string, fallback: string) => {
  const i = args.indexOf(name);
  return i >= 0 && args[i + 1] ? (args[i + 1] as string) : fallback;
};
const trials = Number(argOf("--trials", "20"));
const pollMs = Number(argOf("--poll-ms", "2000"));

const OOM = `${OOM_TRACEBACK.join("\n")}\n`;
const NCCL =
  "[Rank 0] Watchdog caught collective operation timeout: WorkNCCL(SeqNum=1580, OpType=ALLREDUCE, NumelIn=1, NumelOut=1, Timeout(ms)=600000) ran for 600046 milliseconds before timing out.\n";
const step = (n: number) => `${stepLine(n)}\n`;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** One trial: a fresh run (own log, store and connection), one OOM, time to webhook arrival. */
async function trial(
  sshd: SshdHarness,
  server: WebhookServer,
  root: string,
  i: number,
  follow: boolean,
  afterAnother = false,
): Promise<number> {
  const { workdir, logPath, nvidiaSmi } = createFakeRunDir(
    join(root, `trial-${follow ? "f" : "p"}${afterAnother ? "a" : ""}${i}`),
    "train.log",
    step(1) + step(2),
  );
  const config = configSchema.parse({
    runs: [
      {
        name: "exp001",
        ssh: sshd.runConfigSsh(),
        workdir,
        log: "train.log",
        nvidiaSmi,
        follow,
      },
    ],
    alerts: { console: false },
  });
  const run = config.runs[0]!;
  if (run.ssh === "local") throw new Error("expected ssh");
  const db = openDatabase(join(workdir, "trainops.db"));
  const transport = new SshTransport(run.ssh, { home: sshd.dir });
  const alerting = createAlerting({
    db,
    config,
    clock: systemClock,
    sinks: [new DiscordWebhookSink("discord-webhook:0", `${server.url}/api/webhooks/1/t`)],
    log: {
      info: () => {},
      warn: (obj, msg) => process.stderr.write(`${msg} ${JSON.stringify(obj)}\n`),
      error: (obj, msg) => process.stderr.write(`${msg} ${JSON.stringify(obj)}\n`),
    },
  });
  const monitor = new RunMonitor({
    run,
    transport,
    store: createMonitorStore(db),
    clock: systemClock,
    onFollowEvents: (name) => alerting.evaluate(name),
  });
  alerting.senderLoop.start();
  let polling = true;
  try {
    await monitor.pollOnce();
    await monitor.startFollow();
    // The poll loop: as the daemon's schedule would, poll then evaluate, never overlapping.
    const loop = (async () => {
      while (polling) {
        const started = Date.now();
        await monitor.pollOnce();
        alerting.evaluate("exp001");
        await sleep(Math.max(0, pollMs - (Date.now() - started)));
      }
    })();
    // Land the append at a random point of the poll cycle, after the follow stream is up.
    await sleep(500 + Math.random() * pollMs);
    if (afterAnother) {
      // A first alert on the run (another rule: a second OOM would join the open OOM alert),
      // then the measured one a moment later, inside the first one's group window.
      const first = server.received.length;
      appendFileSync(logPath, NCCL + step(3));
      await server.waitFor(() => server.received.length > first, 10 * pollMs + 5000);
      await sleep(100 + Math.random() * 400);
    }
    const before = server.received.length;
    const t0 = performance.now();
    appendFileSync(logPath, OOM);
    let ms = Number.POSITIVE_INFINITY;
    try {
      await server.waitFor(() => server.received.length > before, 10 * pollMs + 5000);
      ms = performance.now() - t0;
    } catch {
      // Counted as missed: the alert did not arrive within ten poll intervals.
    }
    polling = false;
    await loop;
    return ms;
  } finally {
    polling = false;
    await alerting.senderLoop.stop();
    await monitor.stopFollow();
    await transport.close();
    db.close();
  }
}

function pct(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] as number;
}

const root = mkdtempSync(join(tmpdir(), "trainops-alert-latency-"));
const sshd = await startSshd();
const server = await WebhookServer.start();
try {
  const rows: string[] = [];
  const cases = [
    { name: "follow on ", follow: true, after: false },
    { name: "follow on, right after another alert", follow: true, after: true },
    { name: "follow off", follow: false, after: false },
  ];
  for (const { name, follow, after } of cases) {
    const times: number[] = [];
    for (let i = 0; i < trials; i++) times.push(await trial(sshd, server, root, i, follow, after));
    times.sort((a, b) => a - b);
    const missed = times.filter((t) => !Number.isFinite(t)).length;
    const ms = (v: number) => (Number.isFinite(v) ? v.toFixed(0) : "missed").padStart(6);
    rows.push(
      `${name}  median ${ms(pct(times, 50))} ms   p95 ${ms(pct(times, 95))} ms   max ${ms(times.at(-1) ?? 0)} ms   missed ${missed}/${times.length}`,
    );
  }
  process.stdout.write(
    `OOM line appended → webhook arrival, ${trials} trials each, poll every ${pollMs} ms (loopback sshd)\n`,
  );
  for (const row of rows) process.stdout.write(`${row}\n`);
} finally {
  await server.close();
  await sshd.stop();
  rmSync(root, { recursive: true, force: true });
}
