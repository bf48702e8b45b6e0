import { ConfigError } from "../../config/config-error.ts";
import { CONFIG_OPTION_HELP, defaultConfigPath } from "../config-path.ts";
import type { RegisterCommand } from "./command.ts";

interface RegisterOptions {
  config: string;
  global?: boolean;
  json?: boolean;
}

/**
 * `trainops discord register`: (re-)registers `/train` (guild-scoped when `discord.guildId` is
 * set, so it is usable at once) and prints the invite URL with the least permissions.
 */
export const registerDiscord: RegisterCommand = (program, setExitCode) => {
  const discord = program.command("discord").description("Discord bot setup");
  discord
    .command("register")
    .description("Register the /train slash command and print the bot's invite URL")
    .option("-c, --config <file>", CONFIG_OPTION_HELP, defaultConfigPath())
    .option("--global", "register globally even when discord.guildId is set (takes up to an hour)")
    .option("--json", "print JSON")
    .action(async (options: RegisterOptions) => {
      // discord.js is loaded only by the commands that talk to Discord.
      const [
        { SUBCOMMAND_SPECS },
        { loadConfig },
        { registerTrainCommandWithToken },
        { DiscordSetupError, TOKEN_FIX },
        { BOT_PERMISSIONS },
      ] = await Promise.all([
        import("../../bot/core/subcommand-specs.ts"),
        import("../../config/load-config.ts"),
        import("../../platforms/discord/command-registration.ts"),
        import("../../platforms/discord/discord-errors.ts"),
        import("../../platforms/discord/train-command.ts"),
      ]);
      const config = loadConfig(options.config);
      const settings = config.discord;
      if (!settings) {
        throw new ConfigError(
          `${options.config}: no discord: section — fix: add discord: { token: \${DISCORD_TOKEN}, applicationId: "…", guildId: "…" } (see docs/discord.md)`,
        );
      }
      const token = (settings.token ?? "").trim();
      if (!token)
        throw new ConfigError(`${options.config}: discord.token is empty — fix: ${TOKEN_FIX}`);
      const guildId = options.global ? undefined : settings.guildId;
      try {
        const result = await registerTrainCommandWithToken(
          token,
          { applicationId: settings.applicationId, guildId, apiUrl: settings.apiUrl },
          SUBCOMMAND_SPECS,
        );
        if (options.json) {
          process.stdout.write(
            `${JSON.stringify({ ...result, permissions: BOT_PERMISSIONS.toString() }, null, 2)}\n`,
          );
          return;
        }
        const where =
          result.scope === "guild"
            ? `in guild ${result.guildId} (usable now)`
            : "globally (Discord may take up to an hour to show it everywhere)";
        process.stdout.write(
          [
            `Registered /train with ${result.subcommands} subcommands ${where}.`,
            "Invite the bot (scopes bot + applications.commands; View Channel, Send Messages, Embed Links, Attach Files):",
            result.inviteUrl,
            "",
          ].join("\n"),
        );
      } catch (error) {
        if (!(error instanceof DiscordSetupError)) throw error;
        process.stderr.write(`trainops discord register: ${error.message}\n`);
        setExitCode(1);
      }
    });
};
