import type { BotCore } from "../../../src/bot/core/command-request.ts";
import type { DiscordConfig } from "../../../src/config/schema.ts";
import {
  createDiscordFrontEnd,
  type DiscordFrontEnd,
  type DiscordFrontEndOptions,
} from "../../../src/platforms/discord/discord-front-end.ts";
import type { DiscordLog } from "../../../src/platforms/discord/discord-log.ts";
import { FakeDiscord, type FakeDiscordOptions } from "../../harness/fake-discord/fake-discord.ts";

/** Collects log lines so tests can assert that a failure was logged, not thrown. */
export class MemoryLog implements DiscordLog {
  readonly lines: { level: string; message: string; details: object }[] = [];
  debug(details: object, message: string): void {
    this.lines.push({ level: "debug", message, details });
  }
  info(details: object, message: string): void {
    this.lines.push({ level: "info", message, details });
  }
  warn(details: object, message: string): void {
    this.lines.push({ level: "warn", message, details });
  }
  error(details: object, message: string): void {
    this.lines.push({ level: "error", message, details });
  }
}

/** The config a real deployment would have, pointed at the fake. */
export function configFor(
  fake: FakeDiscord,
  overrides: Partial<DiscordConfig> = {},
): DiscordConfig {
  return {
    token: fake.token,
    applicationId: fake.applicationId,
    guildId: fake.guildId,
    alertChannel: fake.channelIds[1],
    operators: { users: [], roles: [] },
    apiUrl: fake.apiUrl,
    ...overrides,
  };
}

export interface Harness {
  fake: FakeDiscord;
  bot: DiscordFrontEnd;
  log: MemoryLog;
  close(): Promise<void>;
}

/** Starts a fake Discord and a front end connected to it. */
export async function startHarness(
  core: BotCore,
  options: {
    fake?: FakeDiscordOptions;
    config?: Partial<DiscordConfig>;
    frontEnd?: Partial<DiscordFrontEndOptions>;
  } = {},
): Promise<Harness> {
  const fake = await FakeDiscord.start({ heartbeatIntervalMs: 1000, ...options.fake });
  const log = new MemoryLog();
  const bot = createDiscordFrontEnd({
    config: configFor(fake, options.config),
    core,
    log,
    deferAfterMs: 150,
    ...options.frontEnd,
  });
  await bot.start();
  return {
    fake,
    bot,
    log,
    async close() {
      await bot.stop();
      await fake.close();
    },
  };
}
