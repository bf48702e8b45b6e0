import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runLogChaos } from "../harness/log-chaos.ts";
import { type SshdHarness, startSshd } from "../harness/sshd.ts";

let sshd: SshdHarness;
const dirs: string[] = [];

beforeAll(async () => {
  sshd = await startSshd();
});

afterAll(async () => {
  await sshd?.stop();
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

describe("log reading through rotations, truncations, rewrites and kills", () => {
  // With follow on, wake-up reads land at any moment of a rotation (between a copytruncate's
  // copy and its truncate, between a rename and the new file): the draw of seed 26 has a
  // copytruncate followed at once by a rename rotation. Smaller, so the suite stays quick.
  it.each([
    { seed: 2, follow: false, operations: 120, kills: 5 },
    { seed: 26, follow: true, operations: 50, kills: 2 },
  ])(
    "stores every marker line exactly once (seed $seed, follow $follow)",
    async ({ seed, follow, operations, kills }) => {
      const dir = mkdtempSync(join(tmpdir(), "trainops-chaos-"));
      dirs.push(dir);
      const result = await runLogChaos({ seed, operations, kills, sshd, dir, follow });
      expect(result.killed).toBe(kills);
      // The draw did exercise every kind of fault.
      expect(Object.keys(result.operations).sort()).toEqual([
        "append",
        "copytruncate",
        "huge line",
        "partial line",
        "rename rotation",
        "rewrite past offset",
      ]);
      // Markers whose file was destroyed unread may be missing; enough were not.
      expect(result.required).toBeGreaterThan(10);
      expect(
        { missed: result.missed, doubled: result.doubled, backwards: result.stepsBackwards },
        result.trace.join(" | "),
      ).toEqual({ missed: [], doubled: [], backwards: 0 });
    },
    240_000,
  );
});
