import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { LogSummarizer } from "../../../src/monitors/parsers/log-summarizer.ts";
import { runTrainops } from "../../harness/cli.ts";
import { sampleBytes } from "./corpus-sample.ts";

const dir = mkdtempSync(join(tmpdir(), "trainops-parse-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function logFile(name: string, bytes: Buffer): string {
  const path = join(dir, name);
  writeFileSync(path, bytes);
  return path;
}

describe("trainops parse", () => {
  it("prints the contract JSON for a log with a restart, a step time from its timestamps and an OOM", async () => {
    const log = Buffer.concat([
      sampleBytes("train_01_vesuvius_surface_python_logging_restart.txt"),
      sampleBytes("err_04_oom_torch2x_full_traceback_prefixed.txt"),
    ]);
    const { code, stdout, stderr } = await runTrainops([
      "parse",
      logFile("train.log", log),
      "--json",
    ]);
    expect(stderr).toBe("");
    expect(code).toBe(0);
    const out = JSON.parse(stdout);
    expect(out).toMatchObject({
      lastStep: 30,
      totalSteps: 314,
      epoch: 0,
      format: "auto (Epoch [e][i/n])",
      lines: 21 + 50,
    });
    // 10 batches every ~23 s after the restart (17:53:40 → 17:54:49 for batches 0 → 30).
    expect(out.stepTimeSeconds).toBeCloseTo(2.3, 1);
    expect(out.errors).toHaveLength(1);
    expect(out.errors[0]).toMatchObject({ kind: "cuda_oom", lineNumber: 21 + 50 });
    expect(out.errors[0].line).toMatch(/^torch\.OutOfMemoryError: CUDA out of memory/);
  });

  it("prints a readable summary without --json", async () => {
    const path = logFile(
      "nccl.log",
      sampleBytes("train_13_hf_trainer_tqdm_lineno_loss_zero_then_nccl.txt"),
    );
    const { code, stdout } = await runTrainops(["parse", path, "--format", "hf-trainer"]);
    expect(code).toBe(0);
    expect(stdout).toContain("progress: step 24/1752, epoch 0.01, loss 0");
    expect(stdout).toContain("step time: 2.88 s (1250 steps/h)");
    expect(stdout).toMatch(/line 20: nccl_timeout/);
  });

  it("exits 1 naming a missing file, and 2 naming the valid formats for a bad --format", async () => {
    const missing = await runTrainops(["parse", join(dir, "nope.log")]);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain("cannot read");
    expect(missing.stderr).toContain("no such file");
    const bad = await runTrainops(["parse", join(dir, "nope.log"), "--format", "wandb"]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/unknown --format 'wandb'; use one of: auto, regex, .*tqdm/);
  });
});

describe("trainops parse --explain", () => {
  it("tables the counters it found, the step first, and says why the others were not taken", async () => {
    const path = logFile(
      "speechbrain.log",
      sampleBytes("train_35_speechbrain_tqdm_train_and_valid_bars.txt"),
    );
    const { code, stdout } = await runTrainops(["parse", path, "--explain"]);
    expect(code).toBe(0);
    expect(stdout).toContain("step format auto (tqdm bar N/190)");
    expect(stdout).toContain("progress: step 190/190, epoch 2");
    const table = stdout.slice(stdout.indexOf("counters the reader found"));
    const rows = table.split("\n").filter((line) => /^\d+ /.test(line));
    expect(rows[0]).toMatch(/^1\s+tqdm bar N\/190\s+2\s+yes\s+.*STEP: /);
    expect(rows.find((r) => r.includes("N/137"))).toMatch(/prints no training loss/);
    expect(table).toMatch(/examples:\n {2}1\. line 2: 100%\|█+\| 190\/190/);
  });

  it("puts the counters in the JSON only when asked", async () => {
    const bytes = sampleBytes("train_03_mmseg0x_mmcv1_textlogger_eta_days.txt");
    const path = logFile("mmcv.log", bytes);
    const json = await runTrainops(["parse", path, "--explain", "--json"]);
    const out = JSON.parse(json.stdout);
    expect(out.lastStep).toBe(2200);
    expect(out.counters[0]).toMatchObject({ label: "Iter N/M", chosen: true, decreases: 0 });
    const plain = new LogSummarizer();
    plain.push(bytes);
    expect(plain.finish().counters).toBeUndefined();
  });

  it("says a named format has no choice to explain", async () => {
    const path = logFile(
      "mmcv2.log",
      sampleBytes("train_03_mmseg0x_mmcv1_textlogger_eta_days.txt"),
    );
    const preset = await runTrainops(["parse", path, "--format", "mmengine", "--explain"]);
    expect(preset.code).toBe(0);
    expect(preset.stdout).toContain("progress: step 2200/320000");
    expect(preset.stdout).toContain("reads one fixed format");
  });
});

describe("LogSummarizer", () => {
  it("gives the same summary however the file is chunked, and counts a last line without a newline", () => {
    const bytes = sampleBytes("err_10_dataloader_killed_chained_traceback.txt");
    const whole = new LogSummarizer();
    whole.push(bytes);
    const expected = whole.finish();
    expect(expected.errors).toMatchObject([{ kind: "worker_killed", lineNumber: 10 }]);
    const chunked = new LogSummarizer();
    for (let at = 0; at < bytes.length; at += 7) chunked.push(bytes.subarray(at, at + 7));
    expect(chunked.finish()).toEqual(expected);
    const noNewline = new LogSummarizer();
    noNewline.push(Buffer.from("Train step 1/10\nTrain step 2/10"));
    expect(noNewline.finish()).toMatchObject({ lastStep: 2, totalSteps: 10, lines: 2 });
  });

  it("keeps the first and the last errors of a log full of them, and counts the rest", () => {
    const summarizer = new LogSummarizer();
    const lines = Array.from(
      { length: 1200 },
      (_, i) => `Train step ${i + 1} loss: nan\nnext\nnext\nnext\nnext\nnext\n`,
    );
    summarizer.push(Buffer.from(lines.join("")));
    const summary = summarizer.finish();
    expect(summary.errors).toHaveLength(1000);
    expect(summary.errorsOmitted).toBe(200);
    expect(summary.errors[0]?.lineNumber).toBe(1);
    expect(summary.errors[499]?.lineNumber).toBe(499 * 6 + 1);
    expect(summary.errors[500]?.lineNumber).toBe(700 * 6 + 1);
    expect(summary.errors[999]?.lineNumber).toBe(1199 * 6 + 1);
    expect(summary.lastStep).toBe(1200);
  });
});
