import { describe, expect, it } from "vitest";
import { configSchema } from "../../src/config/schema.ts";
import { chatPlatforms } from "../../src/runtime/chat-front-ends.ts";

const RUN = { name: "exp001", ssh: "local", workdir: "/tmp/work", log: "train.log" };

describe("the chat platforms a daemon loads", () => {
  it("none without chat: neither discord.js nor Bolt is loaded", async () => {
    const config = configSchema.parse({ runs: [RUN] });
    expect(await chatPlatforms(config)).toEqual({ discord: null, slack: null });
  });

  it("each platform whose token is set, and only that one", async () => {
    const discord = await chatPlatforms(
      configSchema.parse({
        runs: [RUN],
        discord: { token: "t", applicationId: "123456789012345678", guildId: "123456789012345679" },
      }),
    );
    expect(typeof discord.discord?.createDiscordFrontEnd).toBe("function");
    expect(discord.slack).toBeNull();
    const slack = await chatPlatforms(
      configSchema.parse({
        runs: [RUN],
        slack: { botToken: "xoxb-1", appToken: "xapp-1" },
      }),
    );
    expect(typeof slack.slack?.createSlackFrontEnd).toBe("function");
    expect(slack.discord).toBeNull();
  });
});
