import { join } from "node:path";
import { afterAll, beforeAll, expect, it } from "vitest";
import { type Alerting, createAlerting } from "../../src/alerts/create-alerting.ts";
import { configSchema } from "../../src/config/schema.ts";
import { systemClock } from "../../src/core/clock.ts";
import { DiscordWebhookSink } from "../../src/platforms/discord/discord-webhook-sink.ts";
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

/**
 * A simulated run over sshd with alerting delivering to the webhook server, driven by hand:
 * `round()` is one poll, one rule pass and one delivery pass. `bodies()` are the messages the
 * server accepted since it started.
 */
async function alertingOnSimulator(name: string, alerts: Record<string, unknown>) {
  const sim = await startSimulatedRun({
    prefix: `trainops-alerts-${name}-`,
    vm: { timeScale: 200, startupSeconds: 0 },
  });
  const before = server.received.length;
  const config = configSchema.parse({
    store: join(sim.root, `${name}.db`),
    runs: [sim.runEntry({ follow: false })],
    alerts: { console: false, groupWindow: "0s", ...alerts },
  });
  const { db, monitor } = sim.attach(config);
  const alerting = createAlerting({
    db,
    config,
    clock: systemClock,
    sinks: [new DiscordWebhookSink("discord-webhook:0", `${server.url}/api/webhooks/1/t`)],
    tickMs: 50,
  });
  const bodies = () =>
    server.received
      .slice(before)
      .filter((r) => r.outcome === 200)
      .map((r) => JSON.stringify(r.body));
  const round = async () => {
    await new Promise((r) => setTimeout(r, 300));
    await monitor.pollOnce();
    alerting.evaluate("exp001");
    await alerting.deliverDue();
  };
  const until = async (pattern: RegExp, what: string) => {
    const deadline = Date.now() + 30_000;
    while (!bodies().some((b) => pattern.test(b))) {
      if (Date.now() > deadline) throw new Error(`no ${what} alert; got:\n${bodies().join("\n")}`);
      await round();
    }
  };
  return { sim, bodies, round, until, stop: () => sim.stop() };
}

it("a stalled run and then an unreachable VM over sshd: each fires once and resolves", async () => {
  const t = await alertingOnSimulator("stall", {
    rules: { stalled: { k: 0.05, floor: "2s" }, unreachable: { polls: 3 } },
  });
  try {
    // Training stops stepping before step 5 but its process lives on.
    await t.sim.vm.start(["--stall-at-step", "5"]);
    await t.until(/exp001: stalled at step \d+/, "stall");
    // The VM stops answering: told apart from dead training, after three polls.
    await t.sim.sshd?.kill();
    await t.until(/exp001: VM unreachable for 3 polls/, "unreachable");
    await t.sim.sshd?.restart();
    await t.until(/exp001: unreachable VM resolved after/, "unreachable resolved");
    for (let i = 0; i < 3; i++) await t.round();
    const sent = t.bodies();
    expect(sent.filter((b) => /exp001: stalled at step \d+/.test(b))).toHaveLength(1);
    expect(sent.filter((b) => /exp001: VM unreachable for 3 polls/.test(b))).toHaveLength(1);
    expect(sent.filter((b) => /unreachable VM resolved after/.test(b))).toHaveLength(1);
    // An unreachable VM is not a dead run.
    expect(sent.join("\n")).not.toMatch(/crashed|failed to start/);
  } finally {
    await t.stop();
  }
}, 120_000);

it("a data-starved GPU on the simulator: gpu_idle fires once and suggests more workers", async () => {
  const t = await alertingOnSimulator("idle", { rules: { gpu_idle: { for: "1s" } } });
  try {
    // One worker, batch 1: the plan's baseline, where the GPU waits for data.
    await t.sim.vm.start();
    // The data-loader worker forks after the trainer starts (slowly on a loaded machine): the
    // advice names the worker count, so the first poll must see the worker.
    await expect.poll(() => t.sim.vm.workerPids().length, { timeout: 30_000 }).toBeGreaterThan(0);
    await t.until(/exp001: GPU idle/, "gpu_idle");
    for (let i = 0; i < 3; i++) await t.round();
    const idle = t.bodies().filter((b) => b.includes("exp001: GPU idle"));
    expect(idle).toHaveLength(1);
    expect(idle[0]).toContain("the data loader is the bottleneck");
    expect(idle[0]).toContain("more data-loader workers (`training.workers`, e.g. 1 → 2)");
  } finally {
    await t.stop();
  }
}, 90_000);
