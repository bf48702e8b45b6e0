import type { RegisterCommand } from "./command.ts";

/** Every `trainops` subcommand, in the order `--help` lists them. */
export const COMMANDS: readonly RegisterCommand[] = [];
