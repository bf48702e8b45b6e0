import { describe, expect, it } from "vitest";
import { last, progress } from "../../harness/log-reading.ts";

// Hand-made variations of the log families the general reader learnt from the ninth corpus
// batch (metrics tables that print one key a row, as Stable-Baselines3's logger and Ray Train's
// result box do, and a counter's total printed once and left out on its later lines): other
// numbers, spacing, borders and key order than the real samples, so each rule holds for the
// family and not for one log. Also the lines each rule must leave alone.

/** One SB3-style table: rows between dashed rules, the given rows in order. */
function sb3Table(rows: [string, string][]): string[] {
  const width = 28;
  const rule = "-".repeat(width + 14);
  return [
    rule,
    ...rows.map(([k, v]) =>
      v === ""
        ? `| ${k.padEnd(width)}|${" ".repeat(12)}|`
        : `|    ${k.padEnd(width - 3)}| ${v.padEnd(11)}|`,
    ),
    rule,
  ];
}

describe("metrics tables with one key a row", () => {
  it("reads SB3's total_timesteps as the step and its train/ loss, table after table", () => {
    const table = (steps: string, loss: string): string[] =>
      sb3Table([
        ["rollout/", ""],
        ["ep_len_mean", "500"],
        ["ep_rew_mean", "-87.2"],
        ["time/", ""],
        ["fps", "1204"],
        ["iterations", "7"],
        ["time_elapsed", "29"],
        ["total_timesteps", steps],
        ["train/", ""],
        ["entropy_loss", "-0.61"],
        ["loss", loss],
        ["value_loss", "38.5"],
      ]);
    const lines = [...table("12288", "7.91"), ...table("14336", "6.02")];
    expect(progress(lines)).toEqual({ step: 14336, total: null, epoch: null, loss: 6.02 });
    // fps is a mean rate of the whole learn() call, not the step's time.
    expect(last(lines)?.stepTime).toBeNull();
  });

  it("takes only the key 'loss' (or train/loss), not value, entropy or policy losses", () => {
    const lines = sb3Table([
      ["time/", ""],
      ["total_timesteps", "2048"],
      ["train/", ""],
      ["entropy_loss", "-1.42"],
      ["policy_gradient_loss", "-0.0121"],
      ["value_loss", "51.3"],
    ]);
    expect(progress(lines)).toEqual({ step: 2048, total: null, epoch: null, loss: null });
    expect(progress(["| step | 40 |", "| train/loss | 2.5e-01 |"])).toEqual({
      step: 40,
      total: null,
      epoch: null,
      loss: 0.25,
    });
  });

  it("reads Ray's box (rounded or heavy borders), its time_this_iter_s above the step", () => {
    const box = (iter: number, time: string, loss: string, border: string): string[] => [
      `Training finished iteration ${iter} at 2024-03-02 09:14:55. Total running time: 1min 3s`,
      `╭${"─".repeat(40)}╮`,
      `${border} Training result${" ".repeat(24)}${border}`,
      `├${"─".repeat(40)}┤`,
      `${border} checkpoint_dir_name  checkpoint_000004 ${border}`,
      `${border} time_this_iter_s              ${time} ${border}`,
      `${border} time_total_s                  61.0077 ${border}`,
      `${border} training_iteration                 ${iter} ${border}`,
      `${border} epoch                               ${iter - 1} ${border}`,
      `${border} loss                            ${loss} ${border}`,
      `╰${"─".repeat(40)}╯`,
    ];
    const rounded = [...box(4, "12.5031", "0.3813", "│"), ...box(5, "12.1204", "0.3507", "│")];
    const p = last(rounded);
    expect(p?.step).toBe(5);
    expect(p?.loss).toBe(0.3507);
    expect(p?.stepTime).toBeCloseTo(12.1204, 9);
    expect(last(box(9, "3.5", "1.25", "┃"))).toMatchObject({ step: 9, loss: 1.25, stepTime: 3.5 });
  });

  it("leaves other rows alone: counts of rollouts, updates, episodes, epochs and settings", () => {
    expect(
      progress(
        sb3Table([
          ["time/", ""],
          ["episodes", "12"],
          ["iterations", "18"],
          ["n_updates", "170"],
          ["max_steps", "5000"],
        ]),
      ),
    ).toBeNull();
    expect(progress(["| epochs | 10 |", "| batch_size | 64 |"])).toBeNull();
    // A table cell holding a sentence or two numbers is no one-key row.
    expect(progress(["| step | 5 | 10 |"])).toBeNull();
    expect(progress(["| total_timesteps | 73.5 |", "| global_step | -1 |"])).toBeNull();
  });

  it("gives a step read from the rest of the log the loss its table prints below it", () => {
    const lines = ["step 120/1000 lr=3e-4", "| fps | 88 |", "| loss | 0.85 |"];
    expect(progress(lines)).toEqual({ step: 120, total: 1000, epoch: null, loss: 0.85 });
  });
});

describe("a counter's total printed once", () => {
  it("stays its total on later lines that print the counter alone (VBx's Iter: 1/81)", () => {
    const lines = [
      "[1,0]<stdout>:2022-01-04 08:00:00,001 [train:551 - I] Iter: 7/240  Epoch: 0.08/3.0  (2.9% complete)",
      "[1,0]<stdout>:2022-01-04 08:03:00,114 [train:247 - I] Train Iter: 7 [12000/90000 (13%)]  Loss: 9.1203",
      "[1,0]<stdout>:2022-01-04 08:06:00,287 [train:247 - I] Train Iter: 7 [24000/90000 (27%)]  Loss: 8.8821",
    ];
    expect(progress(lines)).toEqual({ step: 7, total: 240, epoch: 0.08, loss: 8.8821 });
    expect(progress(["step 10/20 loss 1.0", "step 11 loss 0.9"])).toEqual({
      step: 11,
      total: 20,
      epoch: null,
      loss: 0.9,
    });
  });

  it("drops it once the counter runs past it, and never lends it to another counter", () => {
    // A resumed run that extended its plan: 25 is beyond 20, so no total is known.
    expect(progress(["step 10/20 loss 1.0", "step 25 loss 0.8"])?.total).toBeNull();
    expect(progress(["epoch 3/20", "iter 400 loss 0.5"])).toEqual({
      step: 400,
      total: null,
      epoch: 3,
      loss: 0.5,
    });
  });
});
