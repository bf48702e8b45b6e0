import { writeFileSync } from "node:fs";
import * as z from "zod";
import { RULES } from "../alerts/rules/index.ts";
import type { Rule } from "../alerts/rules/rule.ts";
import { configJsonSchema } from "../config/config-json-schema.ts";
import { planSchema } from "../ops/plan-schema.ts";

type JsonSchema = Record<string, unknown>;

/**
 * Appends ` (default: …)` to every property description whose schema has a default and
 * whose text does not already say it, so an editor's hover shows the default next to the
 * meaning.
 */
function withDefaults(node: unknown): void {
  if (Array.isArray(node)) {
    for (const item of node) withDefaults(item);
    return;
  }
  if (!node || typeof node !== "object") return;
  const schema = node as JsonSchema;
  if (
    "default" in schema &&
    typeof schema.description === "string" &&
    !/default/i.test(schema.description)
  ) {
    const value = schema.default;
    const shown =
      typeof value === "string"
        ? value
        : Array.isArray(value) && value.length === 0
          ? "none"
          : value && typeof value === "object" && !Array.isArray(value)
            ? "each key's own default"
            : JSON.stringify(value);
    schema.description = `${schema.description} (default: ${shown})`;
  }
  for (const value of Object.values(schema)) withDefaults(value);
}

function ruleSchemas(rules: readonly Rule[]): JsonSchema {
  const properties: Record<string, JsonSchema> = {};
  for (const rule of rules) {
    const { $schema: _drop, ...schema } = z.toJSONSchema(rule.settingsSchema, {
      io: "input",
      unrepresentable: "any",
    }) as JsonSchema;
    properties[rule.name] = { ...schema, description: `Settings of the ${rule.name} rule` };
  }
  return {
    type: "object",
    description: "Per-rule settings; every rule is on with its defaults, set only what you change",
    properties,
    additionalProperties: false,
  };
}

/**
 * The config's JSON Schema for editors: the generated schema of `trainops.yaml` with
 * `alerts.rules` typed rule by rule and defaults spelled out in the descriptions.
 */
export function editorConfigJsonSchema(rules: readonly Rule[] = RULES): JsonSchema {
  const schema = configJsonSchema() as JsonSchema & {
    properties: { alerts: { properties: { rules: JsonSchema } } };
  };
  schema.properties.alerts.properties.rules = ruleSchemas(rules);
  withDefaults(schema);
  return schema;
}

/** The JSON Schema of phase plan files (configs/plans/*.yaml). */
export function planJsonSchema(): JsonSchema {
  const schema = {
    ...(z.toJSONSchema(planSchema, { io: "input", unrepresentable: "any" }) as JsonSchema),
    title: "trainops phase plan",
    description:
      "A phase plan: phases that each change the training YAML, hold for some steps and are judged by criteria. Generated from src/ops/plan-schema.ts by npm run schema.",
  };
  withDefaults(schema);
  return schema;
}

/** A schema as the file text written under configs/. */
export function schemaText(schema: JsonSchema): string {
  return `${JSON.stringify(schema, null, 2)}\n`;
}

/** Writes configs/trainops.schema.json and configs/plan.schema.json under `configsDir`. */
export function writeEditorSchemas(configsDir: string): string[] {
  const files = [
    [`${configsDir}/trainops.schema.json`, schemaText(editorConfigJsonSchema())],
    [`${configsDir}/plan.schema.json`, schemaText(planJsonSchema())],
  ] as const;
  for (const [path, text] of files) writeFileSync(path, text);
  return files.map(([path]) => path);
}
