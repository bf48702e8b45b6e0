import { afterEach, describe, expect, test } from "vitest";
import {
  createDiscordFrontEnd,
  type DiscordFrontEnd,
} from "../../../src/platforms/discord/discord-front-end.ts";
import { FakeDiscord, interactionCallback } from "../../harness/fake-discord/fake-discord.ts";
import { waitUntil } from "../../harness/wait.ts";
import { configFor, MemoryLog } from "./discord-setup.ts";
import { TestCore } from "./test-core.ts";

const user = { id: "456000000000000001", username: "ana", roles: [] };

/** @discordjs/ws waits this long after a close before it reconnects, on top of the back-off. */
const LIBRARY_PAUSE_MS = 500;
/** Short waits so a test sees several attempts: 200 ms doubling to 1.6 s. */
const BACKOFF = { initialMs: 200, maxMs: 1600 };
/** The smallest wait the back-off may draw before attempt n (1-based) of a failing run. */
const floorMs = (n: number) => Math.min(BACKOFF.maxMs, BACKOFF.initialMs * 2 ** (n - 1)) / 2;

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

function frontEnd(fake: FakeDiscord, log = new MemoryLog()): DiscordFrontEnd {
  const bot = createDiscordFrontEnd({
    config: configFor(fake),
    core: new TestCore(),
    log,
    deferAfterMs: 150,
    backoff: BACKOFF,
  });
  cleanups.push(async () => {
    await bot.stop();
    await fake.close();
  });
  return bot;
}

async function answered(fake: FakeDiscord): Promise<number> {
  const interaction = fake.slashCommand({ user, subcommand: "help" });
  return (await fake.waitFor(interactionCallback(interaction.id))).status;
}

describe("reconnecting to Discord", () => {
  test("a gateway that stays down is retried with growing waits, then resumed service", async () => {
    const fake = await FakeDiscord.start({ heartbeatIntervalMs: 1000 });
    const bot = frontEnd(fake);
    await bot.start();
    const before = fake.gatewayStats.attempts.length;

    fake.setUnreachable(true);
    const attempts = await waitUntil(
      () => {
        const since = fake.gatewayStats.attempts.slice(before);
        return since.length >= 5 && since;
      },
      { timeoutMs: 30_000, what: "five reconnect attempts" },
    );
    // Each gap is at least the library's pause plus the back-off's floor for that attempt:
    // 0.6, 0.7, 0.9, 1.3 s here, where the library alone retries every 0.5 s for ever.
    const gaps = attempts.slice(1).map((at, i) => at - (attempts[i] as number));
    gaps.forEach((gap, i) => {
      expect(gap).toBeGreaterThanOrEqual(LIBRARY_PAUSE_MS + floorMs(i + 2) - 5);
    });

    fake.setUnreachable(false);
    await waitUntil(() => fake.gatewayConnected, { timeoutMs: 30_000, what: "the reconnect" });
    expect(await answered(fake)).toBe(204);
    expect(fake.sessionLimit.stats.overBudget).toBe(0);
    expect(fake.sessionLimit.stats.overConcurrency).toBe(0);
  }, 60_000);

  test("Discord unreachable at start: the bot keeps trying with back-off and connects when it is back", async () => {
    const fake = await FakeDiscord.start({ heartbeatIntervalMs: 1000 });
    fake.setUnreachable(true);
    const log = new MemoryLog();
    const bot = frontEnd(fake, log);
    let outcome = "pending";
    const starting = bot.start().then(
      () => {
        outcome = "started";
      },
      (error: Error) => {
        outcome = `failed: ${error.message}`;
      },
    );
    // Each login asks GET /gateway/bot (requests less than 100 ms apart are one login and the
    // REST client's quick retries).
    const logins = () => fake.refusedLogins();
    const starts = await waitUntil(() => logins().length >= 4 && logins(), {
      timeoutMs: 30_000,
      what: "four logins",
    });
    [1, 2, 3].forEach((n) => {
      expect((starts[n] as number) - (starts[n - 1] as number)).toBeGreaterThanOrEqual(
        floorMs(n) - 5,
      );
    });
    expect(outcome).toBe("pending");
    expect(log.lines.some((l) => /cannot connect to .*trying again in/.test(l.message))).toBe(true);

    fake.setUnreachable(false);
    await starting;
    expect(outcome).toBe("started");
    expect(await answered(fake)).toBe(204);
    expect(fake.gatewayStats.identifies).toBe(1);
  }, 60_000);

  test("stopping while Discord is unreachable ends at once and leaves start pending", async () => {
    const fake = await FakeDiscord.start();
    fake.setUnreachable(true);
    const bot = frontEnd(fake);
    let settled = false;
    void bot.start().finally(() => {
      settled = true;
    });
    await waitUntil(() => fake.refused.length >= 3, { what: "a login attempt" });
    await bot.stop();
    fake.setUnreachable(false);
    const requestsAtStop = fake.received.length;
    const other = frontEnd(fake);
    await other.start();
    expect(await answered(fake)).toBe(204);
    // Only the second bot logged in and connected once Discord was back.
    const logins = fake.received.slice(requestsAtStop).filter((r) => r.path === "/gateway/bot");
    expect(logins).toHaveLength(1);
    expect(fake.gatewayStats.connections).toBe(1);
    expect(settled).toBe(false);
  }, 60_000);

  test("no IDENTIFY while session starts are used up: the bot waits for reset_after", async () => {
    const fake = await FakeDiscord.start({
      heartbeatIntervalMs: 1000,
      sessionLimit: { total: 2, remaining: 1, resetAfterMs: 8000, maxConcurrency: 1 },
    });
    const log = new MemoryLog();
    const bot = frontEnd(fake, log);
    await bot.start();
    const resetAt = fake.sessionLimit.resetsAt;
    // Discord forgets the session: the client must IDENTIFY again, with no start left.
    fake.dropGateway({ forgetSession: true });
    await waitUntil(() => fake.gatewayStats.identifies === 2, {
      timeoutMs: 30_000,
      what: "the second IDENTIFY",
    });
    const [, second] = fake.sessionLimit.stats.identifiedAt;
    expect(second).toBeGreaterThanOrEqual(resetAt);
    expect(fake.sessionLimit.stats.overBudget).toBe(0);
    expect(log.lines.some((l) => l.message.includes("used all 2 session starts"))).toBe(true);
    expect(await answered(fake)).toBe(204);
  }, 60_000);

  test("no session start left at login: the bot waits for the reset instead of retrying", async () => {
    const fake = await FakeDiscord.start({
      heartbeatIntervalMs: 1000,
      sessionLimit: { total: 5, remaining: 0, resetAfterMs: 3000, maxConcurrency: 1 },
    });
    const resetAt = fake.sessionLimit.resetsAt;
    const log = new MemoryLog();
    const bot = frontEnd(fake, log);
    await bot.start();
    expect(fake.sessionLimit.stats.identifiedAt[0]).toBeGreaterThanOrEqual(resetAt);
    expect(fake.sessionLimit.stats.overBudget).toBe(0);
    // One refused login, then one after the reset: not a login every back-off step meanwhile.
    expect(fake.received.filter((r) => r.path === "/gateway/bot").length).toBeLessThanOrEqual(3);
    expect(log.lines.some((l) => l.message.includes("Not enough sessions remaining"))).toBe(true);
    expect(await answered(fake)).toBe(204);
  }, 60_000);
});
