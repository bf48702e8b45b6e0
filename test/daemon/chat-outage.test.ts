import { join } from "node:path";
import { afterAll, beforeAll, expect, it } from "vitest";
import { spawnTrainops } from "../harness/cli.ts";
import { FakeDiscord, interactionCallback } from "../harness/fake-discord/fake-discord.ts";
import { type SimulatedRun, startSimulatedRun } from "../harness/simulated-run.ts";
import { waitUntil } from "../harness/wait.ts";

const user = { id: "456000000000000001", username: "ana", roles: [] };

let sim: SimulatedRun<null>;
beforeAll(async () => {
  sim = await startSimulatedRun({
    prefix: "trainops-chat-outage-",
    ssh: "local",
    vm: { timeScale: 200, startupSeconds: 0.5 },
  });
  await sim.vm.start();
});
afterAll(async () => {
  await sim?.stop();
});

it("rides out Discord being unreachable at start, answers once it is back, and stops cleanly while it is down again", async () => {
  const discord = await FakeDiscord.start({ heartbeatIntervalMs: 1000 });
  discord.setUnreachable(true);
  const path = sim.writeConfig(
    {
      store: join(sim.root, "outage.db"),
      runs: [sim.runEntry()],
      alerts: { console: false },
      http: { port: 0 },
      shutdownTimeout: "10s",
      discord: {
        token: discord.token,
        applicationId: discord.applicationId,
        guildId: discord.guildId,
        apiUrl: discord.apiUrl,
      },
    },
    "outage.yaml",
  );
  const daemon = spawnTrainops(["start", "--config", path]);
  try {
    // Logins fail while Discord is unreachable (requests within 100 ms are one login and the
    // REST client's quick retries); the daemon runs on and waits longer before each.
    const logins = () => discord.refusedLogins();
    const starts = await waitUntil(() => logins().length >= 4 && logins(), {
      timeoutMs: 60_000,
      what: "four logins",
    });
    // The default waits: ceilings of 1, 2 and 4 s, each drawn from its upper half.
    [500, 1000, 2000].forEach((floor, i) => {
      expect((starts[i + 1] as number) - (starts[i] as number)).toBeGreaterThanOrEqual(floor - 5);
    });
    expect(daemon.child.exitCode).toBeNull();
    expect(daemon.stderr()).toMatch(/cannot connect to .*trying again in/);

    discord.setUnreachable(false);
    await waitUntil(() => discord.gatewayConnected, { timeoutMs: 60_000, what: "the connection" });
    const interaction = discord.slashCommand({ user, subcommand: "status" });
    const callback = await discord.waitFor(interactionCallback(interaction.id), 30_000);
    expect(callback.status).toBe(204);

    discord.setUnreachable(true);
    await waitUntil(() => discord.gatewayStats.attempts.length >= 2, {
      timeoutMs: 30_000,
      what: "a refused reconnect",
    });
    daemon.child.kill("SIGTERM");
    // 0: every part closed by itself; the shutdown bound did not have to end it (status 1).
    expect(await daemon.exited).toBe(0);
    expect(daemon.stderr()).toContain("trainops stopped");
    expect(discord.sessionLimit.stats.overBudget).toBe(0);
  } finally {
    daemon.child.kill("SIGKILL");
    await discord.close();
  }
}, 180_000);
