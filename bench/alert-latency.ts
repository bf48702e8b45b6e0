/**
 * Alert latency: from an OOM traceback appended to a run's log "on the VM" (a loopback sshd) to
 * the alert's arrival at a local Discord-style webhook server, through the real path: RunMonitor
 * (poll and follow over one SSH connection) → events in SQLite → alert engine → outbox → sender
 * → HTTP. Median and p95 over repeated trials, with `follow` on and off, and with `follow` on
 * right after another alert on the same run (inside the sender's group window), and with `follow`
 * on and the OOM appended just as a probe goes out on the run's connection.
 * `--trace` prints, for every trial over 100 ms, the path's steps in ms after the append (follow
 * bytes, log read, evaluation, sink call), which tells where a slow trial waited. The machine's
 * load average is printed beside the numbers: a loaded 2-core machine delays every step alike.
 * Each trial's store starts with `--history-h` hours of samples (default 24), as a run that has
 * been going for a day has: the rules read the last day at every evaluation.
 * Run: `npx tsx bench/alert-latency.ts [--trials 20] [--poll-ms 2000] [--history-h 24] [--trace]
 * [--only <part of a case's name>]`.
 */
import { appendFileSync, mkdtempSync, rmSync } from "node:fs";
import { loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { createAlerting } from "../src/alerts/create-alerting.ts";
import { configSchema } from "../src/config/schema.ts";
import { systemClock } from "../src/core/clock.ts";
import { RunMonitor } from "../src/monitors/run-monitor.ts";
import { DiscordWebhookSink } from "../src/platforms/discord/discord-webhook-sink.ts";
import { openDatabase } from "../src/store/database.ts";
import { createMonitorStore } from "../src/store/monitor-store.ts";
import { SshTransport } from "../src/transport/ssh-transport.ts";
import type { Transport } from "../src/transport/transport.ts";
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
/** Hours of samples each trial's store starts with (the rules read the last day of them). */
const historyH = Number(argOf("--history-h", "24"));
/** Print the timeline of every trial over 100 ms (what the path did, in ms after the append). */
const trace = args.includes("--trace");
/** Run only the cases whose name contains this (e.g. `--only probe`). */
const only = argOf("--only", "");

const OOM = `${OOM_TRACEBACK.join("\n")}\n`;
const NCCL =
  "[Rank 0] Watchdog caught collective operation timeout: WorkNCCL(SeqNum=1580, OpType=ALLREDUCE, NumelIn=1, NumelOut=1, Timeout(ms)=600000) ran for 600046 milliseconds before timing out.\n";
const step = (n: number) => `${stepLine(n)}\n`;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Times (performance.now()) of what happened during a trial, by name, in order. */
type Marks = Array<{ name: string; at: number }>;

/** One trial's latency and the marks that tell where its time went. */
interface Trial {
  ms: number;
  t0: number;
  marks: Marks;
}

/**
 * A transport that marks when a script went out and came back, and when follow bytes came;
 * `onProbe` (when set) runs right after a probe was handed to the connection.
 */
function tracedTransport(
  inner: Transport,
  nvidiaSmi: string,
  marks: Marks,
  hooks: { onProbe: (() => void) | null },
): Transport {
  const mark = (name: string) => marks.push({ name, at: performance.now() });
  return {
    description: inner.description,
    run: async (script, options) => {
      const kind = script.includes(nvidiaSmi) ? "probe" : "log read";
      mark(`${kind} sent`);
      try {
        const result = inner.run(script, options);
        if (kind === "probe" && hooks.onProbe) {
          const hook = hooks.onProbe;
          hooks.onProbe = null;
          hook();
        }
        return await result;
      } finally {
        mark(`${kind} back`);
      }
    },
    follow: (options) =>
      inner.follow({
        ...options,
        onData: (chunk) => {
          mark("follow bytes");
          options.onData(chunk);
        },
      }),
    close: () => inner.close(),
  };
}

/** One trial: a fresh run (own log, store and connection), one OOM, time to webhook arrival. */
async function trial(
  sshd: SshdHarness,
  server: WebhookServer,
  root: string,
  i: number,
  follow: boolean,
  afterAnother = false,
  duringProbe = false,
): Promise<Trial> {
  const { workdir, logPath, nvidiaSmi } = createFakeRunDir(
    join(
      root,
      `trial-${follow ? "f" : "p"}${afterAnother ? "a" : ""}${duringProbe ? "d" : ""}${i}`,
    ),
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
  const marks: Marks = [];
  const mark = (name: string) => marks.push({ name, at: performance.now() });
  const db = openDatabase(join(workdir, "trainops.db"));
  const ssh = new SshTransport(run.ssh, { home: sshd.dir });
  const hooks: { onProbe: (() => void) | null } = { onProbe: null };
  const transport = tracedTransport(ssh, nvidiaSmi, marks, hooks);
  const webhook = new DiscordWebhookSink("discord-webhook:0", `${server.url}/api/webhooks/1/t`);
  const alerting = createAlerting({
    db,
    config,
    clock: systemClock,
    sinks: [
      {
        name: webhook.name,
        deliver: async (message, key) => {
          mark("sink called");
          return webhook.deliver(message, key);
        },
      },
    ],
    log: {
      info: () => {},
      warn: (obj, msg) => process.stderr.write(`${msg} ${JSON.stringify(obj)}\n`),
      error: (obj, msg) => process.stderr.write(`${msg} ${JSON.stringify(obj)}\n`),
    },
  });
  const evaluate = (from: string) => {
    const started = performance.now();
    const report = alerting.evaluate("exp001");
    const took = (performance.now() - started).toFixed(0);
    mark(
      `evaluated in ${took} ms (${from}${report.notifications ? `: ${report.fired.join(", ")}` : ""})`,
    );
  };
  const store = createMonitorStore(db);
  const monitor = new RunMonitor({
    run,
    transport,
    store,
    clock: systemClock,
    onFollowEvents: () => evaluate("follow"),
  });
  alerting.senderLoop.start();
  let polling = true;
  try {
    await monitor.pollOnce();
    // A run that has been going for a while: the rules read a day of samples at every
    // evaluation, so the store holds one (one sample per 30 s, as `sampleEvery` keeps them).
    const first = store.samples.latest("exp001");
    if (first && historyH > 0) {
      const n = (historyH * 3_600_000) / 30_000;
      store.samples.insertMany(
        Array.from({ length: n }, (_, k) => ({
          ...first,
          at: first.at - (n - k) * 30_000,
          step: Math.max(0, (first.step ?? 0) - (n - k)),
        })),
      );
    }
    await monitor.startFollow();
    // The poll loop: as the daemon's schedule would, poll then evaluate, never overlapping.
    const loop = (async () => {
      while (polling) {
        const started = Date.now();
        await monitor.pollOnce();
        evaluate("poll");
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
    let t0 = performance.now();
    if (duringProbe) {
      // The OOM lands as the next probe goes out: the worst case for a read that waits for it.
      await new Promise<void>((appended) => {
        hooks.onProbe = () => {
          t0 = performance.now();
          appendFileSync(logPath, OOM);
          appended();
        };
      });
    } else {
      appendFileSync(logPath, OOM);
    }
    let ms = Number.POSITIVE_INFINITY;
    try {
      await server.waitFor(() => server.received.length > before, 10 * pollMs + 5000);
      ms = performance.now() - t0;
    } catch {
      // Counted as missed: the alert did not arrive within ten poll intervals.
    }
    polling = false;
    await loop;
    return { ms, t0, marks: marks.filter((m) => m.at >= t0 && m.at <= t0 + ms) };
  } finally {
    polling = false;
    await alerting.senderLoop.stop();
    await monitor.stopFollow();
    await ssh.close();
    db.close();
  }
}

/** "follow bytes +3 · log read sent +4 · …": where a slow trial's time went. */
function timeline(t: Trial): string {
  return t.marks.map((m) => `${m.name} +${(m.at - t.t0).toFixed(0)}`).join(" · ");
}

function pct(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] as number;
}

const loadStart = loadavg()
  .map((l) => l.toFixed(1))
  .join(" ");
const root = mkdtempSync(join(tmpdir(), "trainops-alert-latency-"));
const sshd = await startSshd();
const server = await WebhookServer.start();
try {
  const rows: string[] = [];
  const cases = [
    { name: "follow on ", follow: true, after: false },
    { name: "follow on, right after another alert", follow: true, after: true },
    { name: "follow on, as a probe goes out", follow: true, after: false, during: true },
    { name: "follow off", follow: false, after: false },
  ];
  for (const { name, follow, after, during } of cases.filter((c) => c.name.includes(only))) {
    const runs: Trial[] = [];
    for (let i = 0; i < trials; i++)
      runs.push(await trial(sshd, server, root, i, follow, after, during ?? false));
    const times = runs.map((t) => t.ms).sort((a, b) => a - b);
    const under = times.filter((t) => t < 100).length;
    const missed = times.filter((t) => !Number.isFinite(t)).length;
    const ms = (v: number) => (Number.isFinite(v) ? v.toFixed(0) : "missed").padStart(6);
    rows.push(
      `${name}  median ${ms(pct(times, 50))} ms   p95 ${ms(pct(times, 95))} ms   max ${ms(times.at(-1) ?? 0)} ms   missed ${missed}/${times.length}   under 100 ms ${under}/${times.length}`,
    );
    if (trace) {
      for (const t of runs.filter((r) => r.ms >= 100))
        rows.push(`  ${t.ms.toFixed(0)} ms: ${timeline(t)}`);
    }
  }
  process.stdout.write(
    `OOM line appended → webhook arrival, ${trials} trials each, poll every ${pollMs} ms, ${historyH} h of samples in the store (loopback sshd); load average ${loadStart} before, ${loadavg()
      .map((l) => l.toFixed(1))
      .join(" ")} after\n`,
  );
  for (const row of rows) process.stdout.write(`${row}\n`);
} finally {
  await server.close();
  await sshd.stop();
  rmSync(root, { recursive: true, force: true });
}
