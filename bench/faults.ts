/**
 * `npm run bench -- faults`: the fault suite. Runs the faults a week-long run meets against
 * the real parts (sshd, SQLite files, a webhook server, SIGKILL) and prints one table row per
 * kind: faults tried, survived, and what each cost (alerts lost or duplicated, log lines missed
 * or doubled, stuck locks, refused starts). `FAULTS_QUICK=1` leaves out the 60 s webhook.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { createAlerting } from "../src/alerts/create-alerting.ts";
import { ManualClock } from "../src/core/clock.ts";
import { acquireInstanceLock } from "../src/daemon/instance-lock.ts";
import { DiscordWebhookSink } from "../src/platforms/discord/discord-webhook-sink.ts";
import { openDatabase } from "../src/store/database.ts";
import { EventsRepo } from "../src/store/events-repo.ts";
import { SamplesRepo } from "../src/store/samples-repo.ts";
import { testConfig } from "../test/alerts/alert-fixture.ts";
import { runLogChaos } from "../test/harness/log-chaos.ts";
import { startSshd } from "../test/harness/sshd.ts";
import { WebhookServer } from "../test/harness/webhook-server.ts";

interface Row {
  fault: string;
  tried: number;
  survived: number;
  lost: number | "-";
  duplicated: number | "-";
  lines: string;
  stuckLocks: number | "-";
  refusedStarts: number | "-";
}

const rows: Row[] = [];
const root = mkdtempSync(join(tmpdir(), "trainops-faults-"));

// 1. Log chaos: appends, partial lines, CRLF, invalid UTF-8, huge lines, rotations,
//    copytruncates and rewrites, with the monitor SIGKILLed and restarted.
{
  const sshd = await startSshd();
  let tried = 0;
  let survived = 0;
  let missed = 0;
  let doubled = 0;
  let markers = 0;
  for (const [seed, follow] of [
    [11, true],
    [12, false],
    [13, true],
  ] as const) {
    const dir = mkdtempSync(join(root, "chaos-"));
    const r = await runLogChaos({ seed, operations: 150, kills: 6, sshd, dir, follow });
    const faults = Object.entries(r.operations)
      .filter(([name]) => name !== "append")
      .reduce((n, [, count]) => n + count, 0);
    tried += faults + r.killed;
    survived += r.missed.length + r.doubled.length + r.stepsBackwards === 0 ? faults + r.killed : 0;
    process.stderr.write(`chaos seed ${seed}: ${JSON.stringify({ ...r, trace: undefined })}\n`);
    missed += r.missed.length;
    doubled += r.doubled.length;
    markers += r.required;
  }
  await sshd.stop();
  rows.push({
    fault: "log rotation/truncation/rewrite + monitor SIGKILL",
    tried,
    survived,
    lost: "-",
    duplicated: "-",
    lines: `${missed} missed, ${doubled} doubled of ${markers}`,
    stuckLocks: "-",
    refusedStarts: "-",
  });
}

// 2. Slow webhooks: the platform posts at once and answers after 5, 15 (and 60) s.
{
  const delays = process.env.FAULTS_QUICK ? [5_000, 15_000] : [5_000, 15_000, 60_000];
  let duplicated = 0;
  let lost = 0;
  for (const delayMs of delays) {
    const server = await WebhookServer.start();
    const db = openDatabase(join(mkdtempSync(join(root, "sink-")), "trainops.db"));
    const clock = new ManualClock(Date.UTC(2026, 10, 28, 12));
    const alerting = createAlerting({
      db,
      config: testConfig(),
      clock,
      sinks: [new DiscordWebhookSink("discord-webhook:0", `${server.url}/api/webhooks/1/t`)],
    });
    server.script({ status: 200, delayMs });
    new SamplesRepo(db).insert({
      run: "exp001",
      at: clock.now() - 60_000,
      reachable: true,
      alive: true,
      step: 10,
      totalSteps: 100,
      epoch: null,
      loss: null,
      stepTimeSeconds: 1,
      stepsPerHour: 3600,
      etaSeconds: 90,
      epochEtaSeconds: null,
      gpus: [],
      hostMemory: null,
      workers: null,
      trainerRssBytes: null,
      diskFreeBytes: null,
    });
    new EventsRepo(db).insert("exp001", clock.now(), {
      kind: "cuda_oom",
      line: "torch.OutOfMemoryError: CUDA out of memory.",
      lineNumber: 1,
      source: "log",
    });
    alerting.evaluate("exp001");
    for (let pass = 0; pass < 4; pass++) {
      await alerting.deliverDue();
      clock.advance(10 * 60_000);
    }
    const posted = [...server.postedPerKey().values()];
    duplicated += posted.reduce((n, c) => n + Math.max(0, c - 1), 0);
    lost += posted.length === 0 ? 1 : 0;
    db.close();
    await server.close();
  }
  rows.push({
    fault: `webhook answering after ${delays.map((d) => `${d / 1000}`).join("/")} s`,
    tried: delays.length,
    survived: delays.length - (duplicated > 0 || lost > 0 ? 1 : 0),
    lost,
    duplicated,
    lines: "-",
    stuckLocks: "-",
    refusedStarts: "-",
  });
}

// 3. A daemon SIGKILLed (or OOM-killed) while it holds the store: does the next one start?
{
  const holder = fileURLToPath(new URL("../test/harness/lock-holder.ts", import.meta.url));
  const store = join(root, "lock.db");
  const kills = 5;
  let refused = 0;
  for (let i = 0; i < kills; i++) {
    const child: ChildProcess = spawn(process.execPath, ["--import", "tsx", holder, store], {
      stdio: ["ignore", "pipe", "inherit"],
    });
    await new Promise<void>((resolve) =>
      child.stdout?.on("data", (c: Buffer) => c.toString().includes("held") && resolve()),
    );
    const gone = new Promise((resolve) => child.once("exit", resolve));
    child.kill("SIGKILL");
    await gone;
    try {
      (await acquireInstanceLock(store)).release();
    } catch {
      refused += 1;
    }
  }
  rows.push({
    fault: "daemon SIGKILL holding the store",
    tried: kills,
    survived: kills - refused,
    lost: "-",
    duplicated: "-",
    lines: "-",
    stuckLocks: refused,
    refusedStarts: refused,
  });
}

rmSync(root, { recursive: true, force: true });
const header =
  "| fault | tried | survived | alerts lost | duplicated | lines missed/doubled | stuck locks | refused starts |";
process.stdout.write(`${header}\n|---|---|---|---|---|---|---|---|\n`);
for (const r of rows) {
  process.stdout.write(
    `| ${r.fault} | ${r.tried} | ${r.survived} | ${r.lost} | ${r.duplicated} | ${r.lines} | ${r.stuckLocks} | ${r.refusedStarts} |\n`,
  );
}
