import { registerAudit } from "./audit.ts";
import { registerCheck } from "./check.ts";
import type { RegisterCommand } from "./command.ts";
import { registerCompletion } from "./completion.ts";
import { registerConsole } from "./console.ts";
import { registerDemo } from "./demo.ts";
import { registerDigest } from "./digest.ts";
import { registerDiscord } from "./discord.ts";
import { registerInit } from "./init.ts";
import { registerNextPhase } from "./next-phase.ts";
import { registerParse } from "./parse.ts";
import { registerPlan } from "./plan.ts";
import { registerPoll } from "./poll.ts";
import { registerRestart } from "./restart.ts";
import { registerRollback } from "./rollback.ts";
import { registerSet } from "./set.ts";
import { registerStart } from "./start.ts";
import { registerStatus } from "./status.ts";
import { registerStop } from "./stop.ts";
import { registerUnlock } from "./unlock.ts";

/** Every `trainops` subcommand, in the order `--help` lists them. */
export const COMMANDS: readonly RegisterCommand[] = [
  registerStart,
  registerDemo,
  registerPoll,
  registerStatus,
  registerDigest,
  registerCheck,
  registerInit,
  registerParse,
  registerConsole,
  registerAudit,
  registerPlan,
  registerNextPhase,
  registerSet,
  registerRollback,
  registerRestart,
  registerStop,
  registerUnlock,
  registerDiscord,
  registerCompletion,
];
