import { appendFileSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { BotCoreService } from "../../src/bot/core/bot-core.ts";
import { type Config, configSchema } from "../../src/config/schema.ts";
import type { RunMonitor } from "../../src/monitors/run-monitor.ts";
import type { SimulatedVm } from "../../src/simulator/simulated-vm.ts";
import type { AuditRepo } from "../../src/store/audit-repo.ts";
import { daemonPiecesOver } from "../harness/command-layer.ts";
import { type SimulatedRun, startSimulatedRun } from "../harness/simulated-run.ts";
import { waitUntil } from "../harness/wait.ts";
import { CONSOLE, DISCORD_VIEWER, RecordingResponder, req, textOf } from "./bot-fixture.ts";

/**
 * The command layer over the real pieces: the simulator as the VM behind a real sshd, the real
 * monitor polling it, the real run operations editing and restarting, the real alerting engine.
 */

let sim: SimulatedRun;
let vm: SimulatedVm;
let monitor: RunMonitor;
let core: BotCoreService;
let audit: AuditRepo;

beforeAll(async () => {
  sim = await startSimulatedRun({
    prefix: "trainops-bot-e2e-",
    vm: { timeScale: 200, startupSeconds: 20 },
  });
  vm = sim.vm;
  const config: Config = configSchema.parse({
    store: join(sim.root, "store.db"),
    runs: [sim.restartableRunEntry()],
  });
  const attached = sim.attach(config);
  monitor = attached.monitor;
  ({ core, audit } = daemonPiecesOver(config, attached, { checkEveryMs: 200 }));
  await vm.start();
}, 60_000);

afterAll(() => sim?.stop());

/** Polls like the daemon until the run has logged a step. */
const pollUntilSteps = () =>
  waitUntil(
    async () => {
      const report = await monitor.pollOnce();
      return report.outcome === "ok" && (report.sample.step ?? 0) > 0;
    },
    { intervalMs: 200, what: "the simulated run to log a step" },
  );

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
    expect(mute.title).toBe("Muted idle GPU alerts of exp001 for 1 h");
    await pollUntilSteps();
    const after = textOf(await core.execute(req("status"), responder));
    expect(after).toMatch(/🔇 idle GPU muted for (59 min|1 h) by ops: testing/);
    expect((await core.execute(req("unmute", { rule: "gpu_idle" }), responder)).lines).toEqual([
      "1 silence ended; alerts flow again.",
    ]);

    const outcomes = audit.list({ run: "exp001" }).map((e) => `${e.command}:${e.outcome}`);
    expect(outcomes.reverse()).toEqual([
      "set:requested",
      "set:confirmed",
      "set:applied",
      "mute:done",
      "unmute:done",
    ]);
  }, 180_000);
});
