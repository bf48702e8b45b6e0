import { RULES } from "./rules/index.ts";

/**
 * What people call a rule: its label ("CUDA OOM"), or for a user pattern (`pattern:disk_full`)
 * its name in words ("disk full pattern"); never the id itself.
 */
export function ruleLabel(rule: string): string {
  const found = RULES.find((r) => r.name === rule);
  if (found) return found.label;
  const pattern = /^pattern:(.+)$/.exec(rule);
  return pattern ? `${(pattern[1] as string).replace(/_/g, " ")} pattern` : rule.replace(/_/g, " ");
}
