import type { Command } from "commander";

/**
 * Adds one subcommand to the program. `setExitCode` lets an action report failure without
 * throwing (for example `check` when a probe failed).
 */
export type RegisterCommand = (program: Command, setExitCode: (code: number) => void) => void;
