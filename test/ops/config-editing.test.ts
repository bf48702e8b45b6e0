import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { ManualClock } from "../../src/core/clock.ts";
import { loadPlan, PlanError, parsePlan } from "../../src/ops/plan-loader.ts";
import { ConfigEditError, diffLines, editYaml, readKeys } from "../../src/ops/yaml-edit.ts";
import { LocalTransport } from "../../src/transport/local-transport.ts";
import { TrainingConfigFile } from "../../src/transport/training-config-file.ts";

const COMMENTED = `# configs/experiments/exp001_full.yaml
# Full training run.

training:
  workers: 1   # Increase from 1 once serialization is in
  train_batch_size: 1  # Keep at 1 initially
  lr: 3.0e-4
  schedule: [warmup, cosine]

  # Distance transforms are serialized with a lock.
  surface_distance_interval: 16
model:
  name: "unet3d"   # quoted on purpose
  channels: {in: 1, out: 1}
`;

describe("editYaml", () => {
  it("changes only the named values and keeps every other byte", () => {
    const { text, changes } = editYaml(COMMENTED, {
      "training.workers": 2,
      "training.train_batch_size": 2,
    });
    expect(changes).toEqual([
      { key: "training.workers", before: 1, after: 2 },
      { key: "training.train_batch_size", before: 1, after: 2 },
    ]);
    expect(text).toBe(
      COMMENTED.replace("workers: 1   #", "workers: 2   #").replace(
        "train_batch_size: 1  #",
        "train_batch_size: 2  #",
      ),
    );
    expect(diffLines(COMMENTED, text)).toEqual([
      "L5 -   workers: 1   # Increase from 1 once serialization is in",
      "L5 +   workers: 2   # Increase from 1 once serialization is in",
      "L6 -   train_batch_size: 1  # Keep at 1 initially",
      "L6 +   train_batch_size: 2  # Keep at 1 initially",
    ]);
  });

  it("adds a missing key under its parent at the parent's indentation", () => {
    const { text } = editYaml(COMMENTED, { "training.persistent_workers": true });
    expect(text).toBe(
      COMMENTED.replace(
        "  surface_distance_interval: 16\n",
        "  surface_distance_interval: 16\n  persistent_workers: true\n",
      ),
    );
    expect(readKeys(text, ["training.persistent_workers"])).toEqual({
      "training.persistent_workers": true,
    });
  });

  it("round-trips: setting the old values back restores the file byte for byte", () => {
    const changed = editYaml(COMMENTED, { "training.workers": 4, "training.train_batch_size": 4 });
    const back = editYaml(changed.text, { "training.workers": 1, "training.train_batch_size": 1 });
    expect(back.text).toBe(COMMENTED);
  });

  it("refuses to overwrite a map or a list, and invalid YAML", () => {
    expect(() => editYaml(COMMENTED, { "model.channels": 3 })).toThrow(/model.channels is a map/);
    expect(() => editYaml(COMMENTED, { "training.schedule": 3 })).toThrow(/is a list/);
    expect(() => editYaml("training: [\n", { "training.workers": 2 })).toThrow(ConfigEditError);
  });
});

describe("TrainingConfigFile over a transport", () => {
  const dirs: string[] = [];
  afterEach(() => {
    for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
  });

  function setup() {
    const dir = mkdtempSync(join(tmpdir(), "trainops-editor-"));
    dirs.push(dir);
    writeFileSync(join(dir, "exp.yaml"), COMMENTED);
    const clock = new ManualClock(Date.UTC(2026, 10, 28, 12, 0, 0));
    const editor = new TrainingConfigFile({
      transport: new LocalTransport(),
      path: join(dir, "exp.yaml"),
      clock,
    });
    return { dir, editor, clock };
  }

  it("writes atomically, keeps a timestamped backup and reads back", async () => {
    const { dir, editor } = setup();
    const before = await editor.read();
    expect(before).toBe(COMMENTED);
    const { text } = editYaml(before, { "training.workers": 2 });
    const { backupPath } = await editor.write(text, before);
    expect(backupPath).toBe(join(dir, "exp.yaml.20261128T120000.000Z.bak"));
    expect(readFileSync(backupPath, "utf8")).toBe(COMMENTED);
    expect(readFileSync(join(dir, "exp.yaml"), "utf8")).toBe(text);
    expect(readdirSync(dir).sort()).toEqual(["exp.yaml", "exp.yaml.20261128T120000.000Z.bak"]);
  });

  it("refuses to write when the file changed since it was read", async () => {
    const { dir, editor } = setup();
    const before = await editor.read();
    writeFileSync(join(dir, "exp.yaml"), `${COMMENTED}# edited by hand\n`);
    await expect(
      editor.write(editYaml(before, { "training.workers": 2 }).text, before),
    ).rejects.toThrow(/changed since it was read/);
    expect(readFileSync(join(dir, "exp.yaml"), "utf8")).toContain("# edited by hand");
  });

  it("carries content with quotes, dollars and heredoc-like lines intact", async () => {
    const { dir, editor } = setup();
    const before = await editor.read();
    const nasty = `${before}note: "$(rm -rf /) 'x' \`y\`"\n# TRAINOPS_EOF\n`;
    await editor.write(nasty, before);
    expect(readFileSync(join(dir, "exp.yaml"), "utf8")).toBe(nasty);
  });

  it("names the file when it cannot be read", async () => {
    const dir = mkdtempSync(join(tmpdir(), "trainops-editor-"));
    dirs.push(dir);
    const editor = new TrainingConfigFile({
      transport: new LocalTransport(),
      path: join(dir, "missing.yaml"),
      clock: new ManualClock(),
    });
    await expect(editor.read()).rejects.toThrow(/missing.yaml.*check trainConfig/);
  });
});

describe("plan files", () => {
  it("ships the safe-optimization plan with the plan's phases and criteria", () => {
    const plan = loadPlan("configs/plans/safe-optimization.yaml");
    expect(plan.phases.map((p) => [p.set, p.hold, p.risk])).toEqual([
      [
        { "training.workers": 2, "training.train_batch_size": 1 },
        { minSteps: 100, maxSteps: 200 },
        "low",
      ],
      [
        { "training.workers": 2, "training.train_batch_size": 2 },
        { minSteps: 100, maxSteps: 200 },
        "low",
      ],
      [
        { "training.workers": 4, "training.train_batch_size": 2 },
        { minSteps: 200, maxSteps: 300 },
        "medium",
      ],
      [
        { "training.workers": 4, "training.train_batch_size": 4 },
        { minSteps: 300, maxSteps: 500 },
        "medium",
      ],
      [
        {
          "training.workers": 6,
          "training.persistent_workers": true,
          "training.prefetch_factor": 2,
        },
        { minSteps: 300, maxSteps: 500 },
        "medium",
      ],
    ]);
    const c = plan.phases.map((p) => p.criteria);
    expect(c[0]).toMatchObject({ noOom: true, maxVramGiB: 80, maxStepTimeRatio: 1 });
    expect(c[1]).toMatchObject({ noCrash: true, maxVramGiB: 80, minThroughputRatio: 1 });
    expect(c[2]).toMatchObject({ noOom: true, maxHostRamGiB: 100 });
    expect(c[3]).toMatchObject({ maxVramGiB: 80, minGpuUtilPercent: 50 });
    expect(plan.phases[4]?.optional).toBe(true);
    const demo = loadPlan("configs/plans/demo.yaml");
    expect(demo.phases).toHaveLength(6);
    expect(demo.phases.slice(0, 5)).toEqual(plan.phases);
    expect(demo.phases[5]?.set["training.train_batch_size"]).toBe(8);
  });

  it("rejects an invalid plan naming each key and the fix", () => {
    const bad = [
      "name: p",
      "phases:",
      "  - name: one",
      "    risk: extreme",
      "    set: { training.workers: 2 }",
      "    hold: { minSteps: 200, maxSteps: 100 }",
      "    critera: { noOom: true }",
    ].join("\n");
    let error: PlanError | null = null;
    try {
      parsePlan(bad, "plans/bad.yaml");
    } catch (e) {
      error = e as PlanError;
    }
    expect(error).toBeInstanceOf(PlanError);
    expect(error?.message).toContain("plans/bad.yaml: invalid plan");
    expect(error?.problems).toEqual([
      expect.stringMatching(/^phases\.0\.risk: .*"low"\|"medium"\|"high"/),
      "phases.0.hold.maxSteps: maxSteps must be at least minSteps",
      "phases.0: unknown key critera; remove or fix the spelling",
    ]);
    expect(() => parsePlan("name: p\nphases: [\n", "x.yaml")).toThrow(
      /x.yaml \(line \d+\): not valid YAML/,
    );
    expect(() => loadPlan("/nonexistent/plan.yaml")).toThrow(
      /cannot read plan file .*ENOENT.*plan: path/,
    );
  });
});
