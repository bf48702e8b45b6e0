import { appendFileSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createAlerting } from "../../src/alerts/create-alerting.ts";
import { renderRunChart } from "../../src/bot/charts/run-chart.ts";
import { alertingPort } from "../../src/bot/core/alerting-adapter.ts";
import { type BotCoreService, createBotCore } from "../../src/bot/core/bot-core.ts";
import { transportLogTail } from "../../src/bot/core/transport-log-tail.ts";
import { type Config, configSchema } from "../../src/config/schema.ts";
import { systemClock } from "../../src/core/clock.ts";
import { RunMonitor } from "../../src/monitors/run-monitor.ts";
import { createTransport } from "../../src/monitors/transport/create-transport.ts";
import type { Transport } from "../../src/monitors/transport/transport.ts";
import { createRunOperations } from "../../src/ops/operations.ts";
import { createSimulatedVm, type SimulatedVm } from "../../src/simulator/simulated-vm.ts";
import { AuditRepo } from "../../src/store/audit-repo.ts";
import { ConfirmationsRepo } from "../../src/store/confirmations-repo.ts";
import { type Db, openDatabase } from "../../src/store/database.ts";
import { EventsRepo } from "../../src/store/events-repo.ts";
import { createMonitorStore } from "../../src/store/monitor-store.ts";
import { PhasesRepo } from "../../src/store/phases-repo.ts";
import { SamplesRepo } from "../../src/store/samples-repo.ts";
import { type SshdHarness, startSshd } from "../harness/sshd.ts";
import { CONSOLE, DISCORD_VIEWER, RecordingResponder, req, textOf } from "./bot-fixture.ts";

/**
 * The command layer over the real pieces: the simulator as the VM behind a real sshd, the real
 * monitor polling it, the real run operations editing and restarting, the real alerting engine.
 */

let sshd: SshdHarness;
let root: string;
let vm: SimulatedVm;
let db: Db;
let transport: Transport;
let monitor: RunMonitor;
let core: BotCoreService;

beforeAll(async () => {
  sshd = await startSshd();
  root = mkdtempSync(join(tmpdir(), "trainops-bot-e2e-"));
  vm = await createSimulatedVm({ root: join(root, "vm"), timeScale: 200, startupSeconds: 20 });
  const config: Config = configSchema.parse({
    store: join(root, "store.db"),
    runs: [
      {
        name: "exp001",
        ssh: sshd.runConfigSsh(),
        workdir: vm.workdir,
        log: vm.log,
        trainConfig: vm.trainConfig,
        process: join(vm.workdir, "train.py"),
        start: vm.startCommand,
        nvidiaSmi: vm.nvidiaSmiPath,
        steps: { perEpoch: 4000, epochs: 32 },
        limits: { gpuMemoryGiB: 80, hostMemoryGiB: 100 },
        backfillBytes: 4096,
        follow: false,
        restart: { interruptTimeout: "8s", terminateTimeout: "4s", confirmTimeout: "30s" },
      },
    ],
  });
  const run = config.runs[0] as Config["runs"][number];
  db = openDatabase(config.store);
  transport = createTransport(run);
  monitor = new RunMonitor({ run, transport, store: createMonitorStore(db), clock: systemClock });
  const alerting = createAlerting({ db, config, clock: systemClock, sinks: [] });
  core = createBotCore({
    config,
    db: {
      samples: new SamplesRepo(db),
      events: new EventsRepo(db),
      confirmations: new ConfirmationsRepo(db),
      audit: new AuditRepo(db),
      phases: new PhasesRepo(db),
    },
    operations: createRunOperations({
      db,
      config,
      transportFor: () => transport,
      clock: systemClock,
      checkEveryMs: 200,
    }),
    alerts: alertingPort(alerting),
    logs: transportLogTail(config.runs, () => transport),
    clock: systemClock,
    charts: { render: renderRunChart },
  });
  await vm.start();
}, 60_000);

afterAll(async () => {
  await vm?.stop(1000).catch(() => {});
  await transport?.close();
  db?.close();
  await sshd?.stop();
  rmSync(root, { recursive: true, force: true });
});

async function pollUntilSteps(): Promise<void> {
  const deadline = Date.now() + 30_000;
  while (Date.now() < deadline) {
    const report = await monitor.pollOnce();
    if (report.outcome === "ok" && (report.sample.step ?? 0) > 0) return;
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error("the simulated run logged no step within 30 s");
}

describe("/train over the simulator and sshd", () => {
  it("status, logs, set with confirmation, mute, and the audit trail", async () => {
    const responder = new RecordingResponder();
    await pollUntilSteps();

    const status = await core.execute(req("status", {}, DISCORD_VIEWER), responder);
    const text = textOf(status);
    expect(status.title).toMatch(/^exp001: step \d[\d,]*\/128,000, epoch 1\/32$/);
    expect(text).toMatch(/VRAM: GPU0 \d+\.\d\/80 GiB/);
    expect(text).toMatch(/\d+ workers? RSS/);
    expect(text).toContain("Phase: no plan configured");
    expect(status.images?.[0]?.png.subarray(1, 4).toString()).toBe("PNG");

    appendFileSync(
      vm.logPath,
      "wandb: login with WANDB_API_KEY=abcdef0123456789 token ghp_abcdefghijklmnopqrstuvwxyz0123456789\n",
    );
    const logs = await core.execute(req("logs", { lines: "5" }, DISCORD_VIEWER), responder);
    expect(logs.code).toContain("[redacted]");
    expect(logs.code).not.toContain("ghp_abc");
    expect(logs.code).not.toContain("abcdef0123456789");

    const preview = await core.execute(req("set", { workers: "2" }), responder);
    expect(preview.code).toMatch(/workers: 1[\s\S]*workers: 2/);
    const confirmId = preview.buttons?.[0]?.id as string;
    const applying = await core.press({ buttonId: confirmId, invoker: CONSOLE }, responder);
    expect(applying.title).toMatch(/^Applying: /);
    await core.idle();
    const done = responder.messages.at(-1);
    expect(done?.severity, textOf(done ?? { title: "", severity: "info" })).toBe("success");
    expect(readFileSync(vm.trainConfigPath, "utf8")).toMatch(/workers: 2/);

    const mute = await core.execute(
      req("mute", { rule: "gpu_idle", duration: "1h", reason: "testing" }),
      responder,
    );
    expect(mute.title).toBe("Muted gpu_idle of exp001 for 1 h");
    await pollUntilSteps();
    const after = textOf(await core.execute(req("status"), responder));
    expect(after).toMatch(/🔇 gpu_idle muted for (59 min|1 h) by ops: testing/);
    expect((await core.execute(req("unmute", { rule: "gpu_idle" }), responder)).lines).toEqual([
      "1 silence ended; alerts flow again.",
    ]);

    const outcomes = new AuditRepo(db)
      .list({ run: "exp001" })
      .map((e) => `${e.command}:${e.outcome}`);
    expect(outcomes.reverse()).toEqual([
      "set:requested",
      "set:confirmed",
      "set:applied",
      "mute:done",
      "unmute:done",
    ]);
  }, 180_000);
});
