import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { corpusNames, sampleExpectation } from "./corpus-sample.ts";

const INDEX = fileURLToPath(new URL("../../fixtures/corpus/INDEX.md", import.meta.url));

/** The index's rows: sample name and batch. */
function indexRows(): { name: string; batch: number }[] {
  return [...readFileSync(INDEX, "utf8").matchAll(/^\| `([^`]+\.txt)` \| (\d+) \|/gm)].map((m) => ({
    name: m[1] as string,
    batch: Number(m[2]),
  }));
}

describe("corpus index", () => {
  it("lists every sample once, and nothing that is not a sample", () => {
    const listed = indexRows().map((r) => r.name);
    expect(new Set(listed).size).toBe(listed.length);
    expect([...listed].sort()).toEqual(corpusNames());
  });

  it("gives each sample the batch its header states", () => {
    for (const { name, batch } of indexRows()) {
      expect({ name, batch: sampleExpectation(name)?.batch ?? 1 }).toEqual({ name, batch });
    }
  });
});
