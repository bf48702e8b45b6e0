import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Command } from "commander";
import { afterAll, beforeAll, expect, test, vi } from "vitest";
import { SUBCOMMAND_SPECS } from "../../../src/bot/core/subcommand-specs.ts";
import { registerDiscord } from "../../../src/cli/commands/discord.ts";
import { FakeDiscord } from "../../harness/fake-discord/fake-discord.ts";

let fake: FakeDiscord;
let dir: string;

beforeAll(async () => {
  fake = await FakeDiscord.start();
  dir = mkdtempSync(join(tmpdir(), "trainops-discord-cli-"));
  writeFileSync(
    join(dir, "trainops.yaml"),
    [
      "runs:",
      "  - name: exp001",
      "    ssh: local",
      `    workdir: ${dir}`,
      "    log: train.log",
      "discord:",
      // biome-ignore lint/suspicious/noTemplateCurlyInString: the config's own ${VAR} syntax
      "  token: ${DISCORD_TOKEN}",
      `  applicationId: "${fake.applicationId}"`,
      `  guildId: "${fake.guildId}"`,
      `  alertChannel: "${fake.channelIds[1]}"`,
      `  apiUrl: ${fake.apiUrl}`,
      "",
    ].join("\n"),
  );
});
afterAll(async () => {
  await fake.close();
  rmSync(dir, { recursive: true, force: true });
});

/**
 * Runs `trainops <args>` through the command's own registration, in process (the program the
 * binary builds is this plus the other subcommands), capturing what it prints.
 */
async function trainops(args: string[], token: string) {
  const previous = process.env.DISCORD_TOKEN;
  process.env.DISCORD_TOKEN = token;
  let stdout = "";
  let stderr = "";
  const out = vi.spyOn(process.stdout, "write").mockImplementation((chunk) => {
    stdout += String(chunk);
    return true;
  });
  const err = vi.spyOn(process.stderr, "write").mockImplementation((chunk) => {
    stderr += String(chunk);
    return true;
  });
  let code = 0;
  try {
    const program = new Command("trainops").exitOverride();
    registerDiscord(program, (c) => {
      code = c;
    });
    await program.parseAsync(args, { from: "user" });
  } finally {
    out.mockRestore();
    err.mockRestore();
    if (previous === undefined) delete process.env.DISCORD_TOKEN;
    else process.env.DISCORD_TOKEN = previous;
  }
  return { code, stdout, stderr };
}

test("`trainops discord register` registers /train in the guild and prints the invite URL", async () => {
  const result = await trainops(
    ["discord", "register", "--config", join(dir, "trainops.yaml")],
    fake.token,
  );
  expect(result.stderr).toBe("");
  expect(result.code).toBe(0);
  expect(result.stdout).toContain(
    `Registered /train with ${SUBCOMMAND_SPECS.length} subcommands in guild ${fake.guildId} (usable now).`,
  );
  expect(result.stdout).toContain(
    `https://discord.com/oauth2/authorize?client_id=${fake.applicationId}&scope=bot+applications.commands&permissions=52224&guild_id=${fake.guildId}&disable_guild_select=true`,
  );
  // The real specs pass Discord's validation (names, lengths, required options first).
  const [command] = fake.commands.get(fake.guildId) ?? [];
  const names = (command?.options as { name: string }[] | undefined)?.map((o) => o.name);
  expect(names).toEqual(SUBCOMMAND_SPECS.map((s) => s.name));
});

test("a rejected token exits 1 and names DISCORD_TOKEN", async () => {
  const result = await trainops(
    ["discord", "register", "--config", join(dir, "trainops.yaml")],
    "bad",
  );
  expect(result.code).toBe(1);
  expect(result.stderr).toMatch(/401.*DISCORD_TOKEN/);
  expect(result.stdout).toBe("");
});
