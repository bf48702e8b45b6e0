import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { RULES } from "../../src/alerts/rules/index.ts";
import { main } from "../../src/cli/main.ts";
import {
  editorConfigJsonSchema,
  planJsonSchema,
  schemaText,
} from "../../src/runtime/editor-schemas.ts";

type Schema = Record<string, unknown>;

/** Every declared property with its path, through objects, arrays and unions. */
function properties(node: unknown, path = ""): Array<{ path: string; schema: Schema }> {
  if (!node || typeof node !== "object") return [];
  const schema = node as Schema;
  const out: Array<{ path: string; schema: Schema }> = [];
  for (const [key, value] of Object.entries((schema.properties ?? {}) as Record<string, Schema>)) {
    out.push({ path: `${path}.${key}`, schema: value }, ...properties(value, `${path}.${key}`));
  }
  for (const key of ["items", "additionalProperties"]) {
    if (schema[key] && typeof schema[key] === "object")
      out.push(...properties(schema[key], `${path}[]`));
  }
  for (const key of ["anyOf", "oneOf", "allOf"]) {
    for (const [i, option] of ((schema[key] ?? []) as unknown[]).entries())
      out.push(...properties(option, `${path}|${i}`));
  }
  return out;
}

describe("JSON Schemas for editors", () => {
  it("are up to date (npm run schema): the config's and the plan's", () => {
    expect(readFileSync("configs/trainops.schema.json", "utf8")).toBe(
      schemaText(editorConfigJsonSchema()),
    );
    expect(readFileSync("configs/plan.schema.json", "utf8")).toBe(schemaText(planJsonSchema()));
  });

  it("describe every key, and say the default of every key that has one", () => {
    for (const schema of [editorConfigJsonSchema(), planJsonSchema()]) {
      const all = properties(schema);
      expect(all.length).toBeGreaterThan(20);
      for (const { path, schema: property } of all) {
        expect(typeof property.description, path).toBe("string");
        if ("default" in property) expect(property.description, path).toMatch(/default/i);
      }
    }
  });

  it("type alerts.rules rule by rule, refusing unknown rules", () => {
    const rules = (
      editorConfigJsonSchema() as {
        properties: { alerts: { properties: { rules: Schema } } };
      }
    ).properties.alerts.properties.rules as {
      properties: Record<string, { properties: Record<string, Schema> }>;
      additionalProperties: boolean;
    };
    expect(Object.keys(rules.properties).sort()).toEqual(RULES.map((r) => r.name).sort());
    expect(rules.additionalProperties).toBe(false);
    expect(Object.keys(rules.properties.stalled?.properties ?? {})).toEqual(
      expect.arrayContaining(["enabled", "severity", "for", "repeatInterval", "k", "floor"]),
    );
    expect(rules.properties.gpu_idle?.properties.belowPercent).toMatchObject({
      type: "number",
      maximum: 100,
      default: 10,
    });
  });

  it("the shipped example config and plans name their schema for the YAML language server", () => {
    const modeline = (path: string) => readFileSync(path, "utf8").split("\n")[0];
    expect(modeline("configs/trainops.example.yaml")).toBe(
      "# yaml-language-server: $schema=./trainops.schema.json",
    );
    for (const plan of ["configs/plans/safe-optimization.yaml", "configs/plans/demo.yaml"]) {
      expect(modeline(plan)).toBe("# yaml-language-server: $schema=../plan.schema.json");
    }
  });
});

describe("trainops check validates the plan", () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), "trainops-check-plan-"));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  async function check(plan: string): Promise<{ code: number; stderr: string }> {
    const config = join(dir, "trainops.yaml");
    writeFileSync(
      config,
      `store: ${join(dir, "t.db")}\nruns:\n  - { name: exp001, ssh: local, workdir: ${dir}, log: train.log, plan: ${plan} }\n`,
    );
    let stderr = "";
    const write = process.stderr.write;
    process.stderr.write = ((chunk: string | Uint8Array) => {
      stderr += String(chunk);
      return true;
    }) as typeof process.stderr.write;
    try {
      return { code: await main(["check", "--config", config]), stderr };
    } finally {
      process.stderr.write = write;
    }
  }

  it("exits 2 naming the run, the plan file and the bad key", async () => {
    writeFileSync(
      join(dir, "bad-plan.yaml"),
      "name: p\nphases:\n  - { name: a, risk: extreme, set: { training.workers: 2 }, hold: { minSteps: 5, maxSteps: 10 } }\n",
    );
    const out = await check("bad-plan.yaml");
    expect(out.code).toBe(2);
    expect(out.stderr).toMatch(/runs\.exp001\.plan: .*bad-plan\.yaml: invalid plan/);
    expect(out.stderr).toMatch(/phases\.0\.risk/);
  });

  it("exits 2 when the plan file is missing, resolved next to the config", async () => {
    const out = await check("configs/plans/nowhere.yaml");
    expect(out.code).toBe(2);
    expect(out.stderr).toContain(join(dir, "configs/plans/nowhere.yaml"));
  });
});
