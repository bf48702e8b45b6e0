import { join } from "node:path";
import { afterAll, beforeAll, expect, it } from "vitest";
import { type Alerting, createAlerting } from "../../src/alerts/create-alerting.ts";
import { DiscordWebhookSink } from "../../src/alerts/sinks/discord-webhook-sink.ts";
import { configSchema } from "../../src/config/schema.ts";
import { systemClock } from "../../src/core/clock.ts";
import { startSimulatedRun } from "../harness/simulated-run.ts";
import { WebhookServer } from "../harness/webhook-server.ts";

let server: WebhookServer;

beforeAll(async () => {
  server = await WebhookServer.start();
});

afterAll(async () => {
  await server?.close();
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
  const sim = await startSimulatedRun({
    prefix: "trainops-alerts-e2e-",
    vm: { timeScale: 200, startupSeconds: 0, batchSize: 8 },
  });
  let alerting: Alerting | null = null;
  try {
    const config = configSchema.parse({
      store: join(sim.root, "oom.db"),
      runs: [sim.runEntry()],
      alerts: { console: false },
    });
    const { db, monitor } = sim.attach(config, {
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
    await monitor.pollOnce();
    await monitor.startFollow();
    await sim.vm.start();
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
    await alerting?.senderLoop.stop();
    await sim.stop();
  }
}, 90_000);
