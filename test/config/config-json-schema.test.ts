import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { configJsonSchema } from "../../src/config/config-json-schema.ts";
import { editorConfigJsonSchema, schemaText } from "../../src/runtime/editor-schemas.ts";

describe("configs/trainops.schema.json", () => {
  it("is up to date with src/config/schema.ts (run npm run schema after changing it)", () => {
    expect(readFileSync("configs/trainops.schema.json", "utf8")).toBe(
      schemaText(editorConfigJsonSchema()),
    );
  });

  it("describes runs strictly, with ssh as 'local' or a target", () => {
    const schema = configJsonSchema() as {
      required?: string[];
      properties: {
        runs: { items: { additionalProperties: boolean; properties: Record<string, unknown> } };
      };
    };
    expect(schema.required).toEqual(["runs"]);
    const run = schema.properties.runs.items;
    expect(run.additionalProperties).toBe(false);
    expect(JSON.stringify(run.properties.ssh)).toContain('"const":"local"');
    expect(JSON.stringify(run.properties.ssh)).toContain('"hostKey"');
  });
});
