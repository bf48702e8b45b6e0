import { ConfigError } from "../config/config-error.ts";
import type { Config } from "../config/schema.ts";
import { RULES } from "./rules/index.ts";
import type { BoundRule, Rule } from "./rules/rule.ts";

/**
 * Applies `alerts.rules.<name>` settings to every registered rule. Each rule validates its own
 * settings; every problem is named by its full key path (`alerts.rules.stalled.floor`).
 */
export function bindRules(
  config: Pick<Config, "alerts">,
  rules: readonly Rule[] = RULES,
): BoundRule[] {
  const raw = config.alerts.rules;
  const known = new Map(rules.map((r) => [r.name, r]));
  const problems: string[] = [];
  for (const name of Object.keys(raw)) {
    if (!known.has(name)) {
      problems.push(
        `alerts.rules.${name}: no such rule; known rules: ${[...known.keys()].join(", ")}`,
      );
    }
  }
  const bound: BoundRule[] = [];
  for (const rule of rules) {
    const result = rule.bind(raw[rule.name] ?? {});
    if (result.ok) {
      bound.push(...result.rules);
      continue;
    }
    for (const issue of result.issues) {
      const path = ["alerts", "rules", rule.name, ...issue.path.map(String)].join(".");
      const message =
        issue.code === "unrecognized_keys"
          ? `unknown setting${issue.keys.length > 1 ? "s" : ""} ${issue.keys.join(", ")}; remove ${issue.keys.length > 1 ? "them" : "it"} or check the spelling`
          : issue.message;
      problems.push(`${path}: ${message}`);
    }
  }
  if (problems.length) {
    throw new ConfigError(`invalid alert rule settings:\n  ${problems.join("\n  ")}`, problems);
  }
  return bound;
}
