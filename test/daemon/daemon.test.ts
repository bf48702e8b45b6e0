import { existsSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { acquireInstanceLock } from "../../src/daemon/instance-lock.ts";
import type { SimulatedVm } from "../../src/simulator/simulated-vm.ts";
import { AlertOutboxRepo } from "../../src/store/alert-outbox-repo.ts";
import { openDatabase } from "../../src/store/database.ts";
import { runTrainops, spawnTrainops, type TrainopsProcess } from "../harness/cli.ts";
import { startDaemonFixture } from "../harness/daemon-fixture.ts";
import { FakeDiscord } from "../harness/fake-discord/fake-discord.ts";
import type { SimulatedRun } from "../harness/simulated-run.ts";
import { waitUntil } from "../harness/wait.ts";
import type { WebhookServer } from "../harness/webhook-server.ts";

const startDaemon = (configPath: string) => spawnTrainops(["start", "--config", configPath]);

/** The port the daemon logged for /metrics (JSON log lines on a non-terminal stderr). */
function metricsPort(daemon: TrainopsProcess): number | null {
  const match = /"port":(\d+)[^\n]*serving \/healthz/.exec(daemon.stderr());
  return match ? Number(match[1]) : null;
}

let sim: SimulatedRun<null>;
let vm: SimulatedVm;
let webhook: WebhookServer;
let configPath: string;
let storePath: string;

beforeAll(async () => {
  ({ sim, webhook, configPath, storePath } = await startDaemonFixture({
    prefix: "trainops-daemon-",
    ssh: "local",
    vm: { timeScale: 200, startupSeconds: 0.5 },
    run: (run) => run.runEntry(),
    groupWindow: "1s",
  }));
  vm = sim.vm;
});

afterAll(async () => {
  await sim?.stop();
  await webhook?.close();
});

describe("trainops start", () => {
  it("serves metrics after a poll, refuses a second instance, and stops cleanly on SIGTERM", async () => {
    const daemon = startDaemon(configPath);
    try {
      await waitUntil(() => metricsPort(daemon) !== null, { what: "the metrics endpoint" });
      const port = metricsPort(daemon) as number;
      const health = await fetch(`http://127.0.0.1:${port}/healthz`);
      expect(health.status).toBe(200);
      let text = "";
      await waitUntil(
        async () => {
          text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
          return /trainops_step\{run="exp001"\} \d+/.test(text);
        },
        { intervalMs: 300, what: "the step metric of exp001" },
      );
      expect(text).toMatch(/trainops_step\{run="exp001"\} \d+/);
      for (const series of [
        'trainops_total_steps{run="exp001"} 128000',
        'trainops_gpu_memory_total_bytes{run="exp001",gpu="0",UUID="GPU-',
        'trainops_workers{run="exp001"} 1',
        'trainops_alive{run="exp001"} 1',
        'trainops_run_up{run="exp001"} 1',
        'trainops_polls_total{run="exp001"}',
        'trainops_build_info{version="',
        "process_cpu_seconds_total",
      ]) {
        expect(text).toContain(series);
      }

      const second = await runTrainops(["start", "--config", configPath], { timeoutMs: 30_000 });
      expect(second.code).toBe(1);
      expect(second.stderr).toMatch(
        new RegExp(`another trainops \\(pid ${daemon.child.pid} on .+\\) is already running`),
      );

      daemon.child.kill("SIGTERM");
      expect(await daemon.exited).toBe(0);
      expect(existsSync(join(sim.root, "trainops.db.lock"))).toBe(false);
    } finally {
      daemon.child.kill("SIGKILL");
    }
  }, 120_000);

  it("starts again on the same store after a SIGKILL: the lock died with its holder", async () => {
    const killed = startDaemon(configPath);
    try {
      await waitUntil(() => metricsPort(killed) !== null, { what: "the first daemon" });
      killed.child.kill("SIGKILL");
      await killed.exited;
    } finally {
      killed.child.kill("SIGKILL");
    }
    const next = startDaemon(configPath);
    try {
      await waitUntil(() => metricsPort(next) !== null, { what: "the daemon after the kill" });
      next.child.kill("SIGTERM");
      expect(await next.exited).toBe(0);
    } finally {
      next.child.kill("SIGKILL");
    }
  }, 120_000);

  it("keeps an alert in the outbox across a SIGTERM while the webhook is down, then sends it once", async () => {
    webhook.script(...Array.from({ length: 200 }, () => ({ status: 503 as const })));
    const first = startDaemon(configPath);
    try {
      await waitUntil(() => metricsPort(first) !== null, { what: "the daemon to start" });
      // The training process dies mid-run: a crash alert is raised and cannot be delivered.
      vm.setExtraArgs([]);
      await vm.stop(0);
      await waitUntil(() => webhook.received.length > 0, {
        timeoutMs: 60_000,
        what: "a delivery attempt",
      });
      first.child.kill("SIGTERM");
      expect(await first.exited).toBe(0);
    } finally {
      first.child.kill("SIGKILL");
    }
    expect(webhook.acceptedTotal()).toBe(0);
    webhook.clearScript(); // recovered: the default answer is 200 from here on
    const second = startDaemon(configPath);
    try {
      await webhook.waitFor(() => webhook.acceptedTotal() >= 1, 60_000);
      // The barrier: the store owes nothing more, and the daemon stops (finishing any send in
      // flight), so no later copy can come.
      const db = openDatabase(storePath);
      try {
        await waitUntil(() => new AlertOutboxRepo(db).backlog() === 0, {
          timeoutMs: 60_000,
          what: "the outbox to be caught up",
        });
      } finally {
        db.close();
      }
      second.child.kill("SIGTERM");
      expect(await second.exited).toBe(0);
      expect([...webhook.accepted.values()].every((n) => n === 1)).toBe(true);
      const texts = webhook.received
        .filter((r) => r.outcome === 200)
        .map((r) => JSON.stringify(r.body));
      expect(texts.join("\n")).toMatch(/exp001/);
    } finally {
      second.child.kill("SIGTERM");
      await second.exited;
    }
  }, 180_000);
});

describe("trainops start with chat credentials", () => {
  it("stops with status 2 and names DISCORD_TOKEN when Discord refuses the token", async () => {
    const discord = await FakeDiscord.start();
    try {
      const path = sim.writeConfig(
        {
          store: join(sim.root, "discord.db"),
          runs: [sim.runEntry()],
          alerts: { console: false },
          http: { port: 0 },
          discord: {
            token: "$" + "{DISCORD_TOKEN}",
            applicationId: discord.applicationId,
            guildId: discord.guildId,
            apiUrl: discord.apiUrl,
          },
        },
        "discord.yaml",
      );
      const out = await runTrainops(["start", "--config", path], {
        env: { DISCORD_TOKEN: "not-the-token" },
        timeoutMs: 60_000,
      });
      expect(out.code).toBe(2);
      expect(out.stderr).toContain("DISCORD_TOKEN");
      expect(existsSync(join(sim.root, "discord.db.lock"))).toBe(false);
    } finally {
      await discord.close();
    }
  }, 90_000);

  it("ends within shutdownTimeout of a SIGTERM while Discord is unreachable", async () => {
    const discord = await FakeDiscord.start({ heartbeatIntervalMs: 500 });
    const path = sim.writeConfig(
      {
        store: join(sim.root, "discord-down.db"),
        runs: [sim.runEntry()],
        alerts: { console: false },
        http: { port: 0 },
        shutdownTimeout: "3s",
        discord: {
          token: discord.token,
          applicationId: discord.applicationId,
          guildId: discord.guildId,
          apiUrl: discord.apiUrl,
        },
      },
      "discord-down.yaml",
    );
    const daemon = startDaemon(path);
    try {
      await waitUntil(() => discord.gatewayConnected && metricsPort(daemon) !== null, {
        timeoutMs: 60_000,
        what: "the daemon connected to Discord",
      });
      // Discord goes away entirely: the gateway reconnects in a loop, REST calls hang or fail.
      await discord.close();
      await waitUntil(() => /reconnect|disconnect|closed|error/i.test(daemon.stderr()), {
        timeoutMs: 30_000,
        what: "the daemon noticing Discord is gone",
      });
      daemon.child.kill("SIGTERM");
      const code = await daemon.exited;
      // 0 when everything closed in time, 1 when the bound had to end it: never a hang.
      expect([0, 1]).toContain(code);
      // However it ended, the lock went with it.
      (await acquireInstanceLock(join(sim.root, "discord-down.db"))).release();
    } finally {
      daemon.child.kill("SIGKILL");
    }
  }, 120_000);
});
