import type { RegisterCommand } from "./command.ts";
import { registerParse } from "./parse.ts";

/** Every `trainops` subcommand, in the order `--help` lists them. */
export const COMMANDS: readonly RegisterCommand[] = [registerParse];
