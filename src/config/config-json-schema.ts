import { writeFileSync } from "node:fs";
import * as z from "zod";
import { configSchema } from "./schema.ts";

/**
 * The config schema as JSON Schema (draft 2020-12) for editor completion and validation of
 * `trainops.yaml`. Input shape: keys with defaults are optional, as users write them.
 */
export function configJsonSchema(): Record<string, unknown> {
  return {
    ...z.toJSONSchema(configSchema, { io: "input", unrepresentable: "any" }),
    title: "trainops.yaml",
    description:
      "Configuration of trainops. Generated from src/config/schema.ts by npm run schema.",
  };
}

/** The file text written to configs/trainops.schema.json. */
export function configJsonSchemaText(): string {
  return `${JSON.stringify(configJsonSchema(), null, 2)}\n`;
}

/** Writes the JSON Schema file; `npm run schema` calls this. */
export function writeConfigJsonSchema(path: string): void {
  writeFileSync(path, configJsonSchemaText());
}
