import { digestMessage } from "../../alerts/digest/digest-message.ts";
import type { Message } from "../../message/message.ts";
import type { BotCoreOptions } from "./bot-core-options.ts";
import { privateNotice } from "./command-context.ts";

/**
 * `/train digest [run]`: the digest as a channel would get it, from the last digest sent (or
 * the last 24 h) to now, for every run or the one named.
 */
export function digestCommand(
  options: BotCoreOptions,
  runName: string | undefined,
  now: number,
): Message {
  const names = options.config.runs.map((r) => r.name);
  if (runName && !names.includes(runName)) {
    return privateNotice("Which run?", `No run named '${runName}'. Runs: ${names.join(", ")}.`);
  }
  if (!options.digest) {
    return privateNotice("Digest unavailable", "This bot has no alert store to build it from.");
  }
  const report = options.digest.digest({ ...(runName ? { runs: [runName] } : {}), to: now });
  return digestMessage(report, { timeZone: options.config.timezone });
}
