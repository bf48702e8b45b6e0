import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { createSimulatedVm } from "../../src/simulator/simulated-vm.ts";
import { runTrainops, spawnTrainops } from "../harness/cli.ts";

const root = mkdtempSync(join(tmpdir(), "trainops-demo-"));

afterAll(() => rmSync(root, { recursive: true, force: true }));

function demo(args: string[]) {
  return runTrainops(["demo", ...args], {
    timeoutMs: 540_000,
    env: { DISCORD_TOKEN: "", SLACK_BOT_TOKEN: "" },
  });
}

/** Runs a scripted walkthrough from test/fixtures/demo at 300× with a poll every second. */
function fastScript(script: string, dir: string) {
  return demo([
    "--script",
    resolve(`test/fixtures/demo/${script}`),
    "--dir",
    dir,
    "--time-scale",
    "300",
    "--poll",
    "*/1 * * * * *",
  ]);
}

describe("trainops demo --script", () => {
  it("walks status, a passing phase, an over-sized change that OOMs, the rollback and the resume", async () => {
    const dir = join(root, "run");
    const out = await fastScript("to-rollback.txt", dir);
    expect(out.stderr).not.toMatch(/trainops demo:/);
    expect(out.code).toBe(0);
    const text = out.stdout;
    // Status with progress, ETA and memory.
    expect(text).toMatch(/Epoch 1 .* \d[\d,]*\/4,000/);
    expect(text).toMatch(/Total ETA: /);
    expect(text).toMatch(/VRAM: GPU0 \d+\.\d\/80 GiB/);
    // Baseline and phase 1 verdicts, with the speed-up against the baseline.
    expect(text).toMatch(/Baseline measured: \d+(\.\d+)? s\/step/);
    const verdict = text.match(
      /Phase 1 passed: (\d+(?:\.\d+)?) s\/step \(was (\d+(?:\.\d+)?) s, (\d+\.\d)x faster\)/,
    );
    expect(verdict, "phase 1 verdict with step times and speed-up").not.toBeNull();
    const [, now, was, speedup] = (verdict as RegExpMatchArray).map(Number);
    // The printed speed-up is the printed step times' ratio; two workers roughly halve the step.
    expect(Math.abs((speedup as number) - (was as number) / (now as number))).toBeLessThan(0.15);
    expect(speedup).toBeGreaterThan(1.5);
    expect(speedup).toBeLessThan(2.5);
    // The over-sized batch: CUDA OOM alert, failed verdict, rollback and training resumed.
    expect(text).toContain("CUDA out of memory");
    expect(text).toMatch(/failed/);
    expect(text).toMatch(/Rolled back exp001 to Phase 1/);
    expect(text).toMatch(/Config: workers 2, batch 1/);
    // The digest: progress since the start, phase 1 passed, the OOM among the alerts, the cost.
    const digest = text.slice(text.lastIndexOf("Digest: last "));
    expect(digest).toMatch(/exp001: Steps: [\d,]+ → [\d,]+ of 128,000/);
    expect(digest).toMatch(/Phases: .*Phase 1 \([^)]+\) passed/);
    expect(digest).toMatch(/Alerts: \d+ fired, \d+ resolved \([^)]*CUDA OOM/);
    // The training YAML on the "VM" is back to phase 1's values, comments intact.
    const yaml = readFileSync(
      join(dir, "vm", "vesuvius_challenge", "configs", "experiments", "exp001_full.yaml"),
      "utf8",
    );
    expect(yaml).toMatch(/^\s+workers: 2 # /m);
    expect(yaml).toMatch(/^\s+train_batch_size: 1\b/m);
    // Charts were saved as PNG files: the status chart and one with every verdict.
    const charts = readdirSync(join(dir, "charts")).filter((f) => f.endsWith(".png"));
    expect(charts.some((f) => f.endsWith("-exp001-status.png"))).toBe(true);
    expect(charts.some((f) => f.endsWith("-exp001-baseline-passed.png"))).toBe(true);
    expect(charts.some((f) => f.endsWith("-exp001-phase1-passed.png"))).toBe(true);
    expect(charts.some((f) => f.endsWith("-exp001-change-failed.png"))).toBe(true);
    // `/train plan` after the rollback: step time and throughput per phase.
    expect(charts.some((f) => f.endsWith("-exp001-plan.png"))).toBe(true);
    const png = readFileSync(join(dir, "charts", charts[0] as string));
    expect(png.subarray(1, 4).toString()).toBe("PNG");
    // Nothing of the simulated job is left running.
    expect(existsSync(join(dir, "trainops.db"))).toBe(true);
  }, 600_000);

  it("shows a pattern rule's alert and a NaN loss stopped from its Stop training button", async () => {
    const dir = join(root, "health");
    const out = await fastScript("health-alerts.txt", dir);
    expect(out.stderr).not.toMatch(/trainops demo:/);
    expect(out.code).toBe(0);
    const text = out.stdout;
    // The pattern rule of the demo's config, on the line the job logged.
    expect(text).toContain(
      "checkpoint runs/exp001_full/checkpoints/last.json not saved: No space left on device",
    );
    // The NaN alert offers Stop training; pressed, it previews the stop, confirmed, it stops.
    const nan = text.slice(text.indexOf("loss became NaN"));
    expect(nan).toMatch(/\[1\] Stop training/);
    expect(nan).toContain("train> press Stop training");
    expect(nan).toContain("Confirm: Stop training of exp001");
    expect(nan).toMatch(/Training of exp001 stopped \(SIG(INT|TERM|KILL)\)/);
    // Stopped on purpose: status says by whom, no crash alert, and the simulated job is gone.
    expect(text.slice(text.lastIndexOf("train> /train status"))).toMatch(
      /Stopped by \S+ at \d\d:\d\d UTC \(\/train stop\); \/train restart resumes it\./,
    );
    expect(text).not.toMatch(/crashed|failed to start/);
    const vm = await createSimulatedVm({ root: join(dir, "vm") });
    expect(vm.trainerPid()).toBeNull();
  }, 600_000);

  it("a wait ends as soon as its phase ends another way, and says what happened", async () => {
    const out = await demo([
      "--script",
      resolve("test/fixtures/demo/wait-other-end.txt"),
      "--dir",
      join(root, "other-end"),
      "--time-scale",
      "300",
      "--poll",
      "*/1 * * * * *",
    ]);
    expect(out.code).not.toBe(0);
    expect(out.stderr).toContain(
      "line 5: waited for phase 1 to be failed, but phase 1 passed (all criteria met); the script stops here",
    );
    // It stopped there: the next line never ran.
    expect(out.stdout).not.toContain("train> /train status");
  }, 600_000);

  it("Ctrl-C stops a scripted demo at once and quietly: no failure alert, nothing left running", async () => {
    const dir = join(root, "interrupted");
    const script = join(root, "long-wait.txt");
    writeFileSync(script, "/train status\nwait step 100000000 timeout 500s\n/train plan\n");
    const proc = spawnTrainops(
      ["demo", "--script", script, "--dir", dir, "--time-scale", "300", "--poll", "*/1 * * * * *"],
      { env: { DISCORD_TOKEN: "", SLACK_BOT_TOKEN: "" } },
    );
    await expect
      .poll(() => proc.stdout(), { timeout: 120_000, interval: 200 })
      .toContain("# waiting for step 100000000");
    proc.child.kill("SIGINT");
    await proc.closed;
    expect(proc.stderr()).not.toMatch(/trainops demo:/);
    expect(proc.stdout()).not.toMatch(/failed to start|crashed/);
    expect(proc.stdout()).not.toContain("train> /train plan");
    const vm = await createSimulatedVm({ root: join(dir, "vm") });
    expect(vm.trainerPid()).toBeNull();
  }, 300_000);

  it("a press before any alert offered that button stops the script, naming the line", async () => {
    const script = join(root, "early-press.txt");
    writeFileSync(script, "press Stop training\n/train status\n");
    const out = await demo(["--script", script, "--dir", join(root, "early-press")]);
    expect(out.code).toBe(1);
    expect(out.stderr).toContain(
      "line 1: no 'Stop training' button shown yet; wait for the alert that offers it",
    );
    expect(out.stdout).not.toContain("train> /train status");
  }, 120_000);

  it("rejects a script line it does not understand, naming the line", async () => {
    const script = join(root, "bad.txt");
    writeFileSync(script, "/train status\nwait for godot\n");
    const out = await demo(["--script", script, "--dir", join(root, "bad")]);
    expect(out.code).toBe(2);
    expect(out.stderr).toContain("line 2: 'wait for godot' is not understood");
  });
});
