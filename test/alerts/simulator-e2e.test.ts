import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, expect, it } from "vitest";
import { type Alerting, createAlerting } from "../../src/alerts/create-alerting.ts";
import { DiscordWebhookSink } from "../../src/alerts/sinks/discord-webhook-sink.ts";
import { configSchema } from "../../src/config/schema.ts";
import { systemClock } from "../../src/core/clock.ts";
import { RunMonitor } from "../../src/monitors/run-monitor.ts";
import { SshTransport } from "../../src/monitors/transport/ssh-transport.ts";
import { createSimulatedVm, type SimulatedVm } from "../../src/simulator/simulated-vm.ts";
import { openDatabase } from "../../src/store/database.ts";
import { createMonitorStore } from "../../src/store/monitor-store.ts";
import { type SshdHarness, startSshd } from "../harness/sshd.ts";
import { WebhookServer } from "../harness/webhook-server.ts";

let sshd: SshdHarness;
let server: WebhookServer;
let root: string;
const vms: SimulatedVm[] = [];

beforeAll(async () => {
  sshd = await startSshd();
  server = await WebhookServer.start();
  root = mkdtempSync(join(tmpdir(), "trainops-alerts-e2e-"));
});

afterAll(async () => {
  for (const vm of vms) await vm.stop(500).catch(() => {});
  await server?.close();
  await sshd?.stop();
  rmSync(root, { recursive: true, force: true });
});

/** Every alert title the webhook accepted, grouped messages unpacked into their items. */
function titles(): string[] {
  return server.received
    .filter((r) => r.outcome === 200)
    .flatMap((r) => {
      const embed = (r.body as { embeds: Array<{ title: string; description?: string }> })
        .embeds[0];
      if (!embed?.title.includes(" alerts (")) return [embed?.title ?? ""];
      return (embed.description ?? "")
        .split("\n")
        .filter((l) => l.startsWith("• "))
        .map((l) => l.slice(2).split(" — ")[0] ?? "");
    });
}

it("an over-sized batch on the simulator over sshd: CUDA OOM and the failed start, each once", async () => {
  const vm = await createSimulatedVm({
    root: join(root, "oom"),
    timeScale: 200,
    startupSeconds: 0,
    batchSize: 8,
  });
  vms.push(vm);
  const config = configSchema.parse({
    runs: [
      {
        name: "exp001",
        ssh: sshd.runConfigSsh(),
        workdir: vm.workdir,
        log: vm.log,
        trainConfig: vm.trainConfig,
        nvidiaSmi: vm.nvidiaSmiPath,
        steps: { perEpoch: 4000, epochs: 32 },
        limits: { gpuMemoryGiB: 80, hostMemoryGiB: 100 },
      },
    ],
    alerts: { console: false },
  });
  const run = config.runs[0]!;
  if (run.ssh === "local") throw new Error("expected ssh");
  const db = openDatabase(join(root, "oom.db"));
  const transport = new SshTransport(run.ssh);
  let alerting: Alerting | null = null;
  const monitor = new RunMonitor({
    run,
    transport,
    store: createMonitorStore(db),
    clock: systemClock,
    onFollowEvents: (name) => alerting?.evaluate(name),
  });
  alerting = createAlerting({
    db,
    config,
    clock: systemClock,
    sinks: [new DiscordWebhookSink("discord-webhook:0", `${server.url}/api/webhooks/1/t`)],
    tickMs: 50,
  });
  alerting.senderLoop.start();
  try {
    await monitor.pollOnce();
    await monitor.startFollow();
    await vm.start();
    const deadline = Date.now() + 40_000;
    while (Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 300));
      await monitor.pollOnce();
      alerting.evaluate("exp001");
      await alerting.deliverDue();
      const t = titles();
      if (
        t.some((x) => x.includes("CUDA out of memory")) &&
        t.some((x) => /failed to start|crashed/.test(x))
      )
        break;
    }
    // A few more rounds: nothing may be sent twice.
    for (let i = 0; i < 3; i++) {
      await new Promise((r) => setTimeout(r, 200));
      await monitor.pollOnce();
      alerting.evaluate("exp001");
      await alerting.deliverDue();
    }
    const all = titles();
    const bodies = server.received.map((r) => JSON.stringify(r.body)).join("\n");
    expect(bodies).toContain("exp001: CUDA out of memory");
    expect(bodies).toContain("torch.OutOfMemoryError: CUDA out of memory.");
    expect(bodies).toMatch(
      /exp001: (failed to start: the process died after \d+ steps?|crashed at step \d+)/,
    );
    expect(new Set(all).size).toBe(all.length);
    expect(all.filter((t) => t === "exp001: CUDA out of memory")).toHaveLength(1);
  } finally {
    await alerting.senderLoop.stop();
    await monitor.stopFollow();
    await transport.close();
    db.close();
  }
}, 90_000);
