import { afterAll, beforeAll, expect, test } from "vitest";
import { interactionCallback } from "../../harness/fake-discord/fake-discord.ts";
import { type Harness, startHarness } from "./discord-setup.ts";
import { TestCore } from "./test-core.ts";

const user = { id: "456000000000000001", username: "ana", roles: [] };

let h: Harness;
beforeAll(async () => {
  h = await startHarness(new TestCore(), { fake: { heartbeatIntervalMs: 100 } });
});
afterAll(async () => {
  await h.close();
});

test("heartbeats are acknowledged and the connection stays up", async () => {
  await expect
    .poll(() => h.fake.gatewayStats.heartbeats, { timeout: 5000 })
    .toBeGreaterThanOrEqual(4);
  expect(h.fake.gatewayConnected).toBe(true);
  expect(h.fake.gatewayStats.connections).toBe(1);
});

test("a dropped connection resumes without identifying again", async () => {
  h.fake.dropGateway();
  await expect.poll(() => h.fake.gatewayStats.resumes, { timeout: 5000 }).toBe(1);
  expect(h.fake.gatewayStats.identifies).toBe(1);
  const interaction = h.fake.slashCommand({ user, subcommand: "help" });
  expect((await h.fake.waitFor(interactionCallback(interaction.id))).status).toBe(204);
});

test("a session Discord forgot is identified again and keeps answering", async () => {
  h.fake.dropGateway({ forgetSession: true });
  await expect.poll(() => h.fake.gatewayStats.identifies, { timeout: 10_000 }).toBe(2);
  await expect.poll(() => h.fake.gatewayConnected).toBe(true);
  const interaction = h.fake.slashCommand({ user, subcommand: "help" });
  expect((await h.fake.waitFor(interactionCallback(interaction.id))).status).toBe(204);
  expect(h.log.lines.filter((l) => l.level === "error")).toEqual([]);
});
