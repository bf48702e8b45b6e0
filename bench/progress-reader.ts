/**
 * Progress reader cost: lines per second of the general reader (`steps.format: auto`) against
 * the preset list it replaced (each preset tried in turn until one recognises a line, then that
 * one alone) and against a named preset, on three logs of 200,000 lines: the simulator's
 * `Train step` lines, tqdm bars, and a chatty log where one line in ten is progress. Prints the
 * median of 5 runs and the ratio new/old. Run: `npx tsx bench/progress-reader.ts [--lines N]`.
 */
import { STEP_FORMATS } from "../src/monitors/parsers/step-formats.ts";
import { createStepParser } from "../src/monitors/parsers/step-parser.ts";
import { stripAnsi } from "../src/monitors/parsers/strip-ansi.ts";

const args = process.argv.slice(2);
const at = args.indexOf("--lines");
const LINES = at >= 0 ? Number(args[at + 1]) : 200_000;
const RUNS = 5;

function simulatorLog(n: number): string[] {
  return Array.from(
    { length: n },
    (_, i) =>
      `2026-01-07 17:49:02,190 - __main__ - INFO - Train step ${i + 1}/128000 (epoch ${1 + Math.floor(i / 4000)}/32) - loss: 0.${2104 + (i % 100)} - lr: 1.00e-04 - 18.21 s/step`,
  );
}

function tqdmLog(n: number): string[] {
  return Array.from(
    { length: n },
    (_, i) =>
      `Epoch ${Math.floor(i / 1702)}:  ${Math.floor(((i % 1702) * 100) / 1702)}% ${i % 1702}/1702 [13:03<00:17,  2.12it/s, loss=0.158, v_num=0]`,
  );
}

function chattyLog(n: number): string[] {
  return Array.from({ length: n }, (_, i) =>
    i % 10 === 0
      ? `Epoch [${1 + Math.floor(i / 25000)}/8] Step [${(i / 10) % 2500}/2500] loss: 0.8224`
      : `2026-01-07 17:49:02,190 - data - INFO - loaded shard ${i} (${i * 7} samples, 12.5 MB) from /data/train/part-${i}.parquet`,
  );
}

/** The preset list `auto` used to be: try each preset until one recognises a line. */
function oldAuto(): (line: string) => unknown {
  const candidates = STEP_FORMATS.filter((f) => f.autoDetect !== false).map((f) =>
    f.createMatcher(),
  );
  let locked: (typeof candidates)[number] | null = null;
  return (line) => {
    const text = stripAnsi(line);
    if (locked) return locked.match(text);
    for (const c of candidates) {
      const found = c.match(text);
      if (found) {
        locked = c;
        return found;
      }
    }
    return null;
  };
}

function linesPerSecond(lines: string[], make: () => (line: string) => unknown): number {
  const times: number[] = [];
  for (let r = 0; r < RUNS; r++) {
    const parse = make();
    const start = process.hrtime.bigint();
    for (const line of lines) parse(line);
    times.push(Number(process.hrtime.bigint() - start) / 1e9);
  }
  times.sort((a, b) => a - b);
  return lines.length / (times[Math.floor(RUNS / 2)] as number);
}

const fmt = (v: number) => `${Math.round(v).toLocaleString("en-US")}`.padStart(12);
console.log(`${LINES.toLocaleString("en-US")} lines, median of ${RUNS} runs (lines/s)`);
console.log(
  `${"log".padEnd(10)}${"old auto".padStart(12)}${"new auto".padStart(12)}${"preset".padStart(12)}  new/old`,
);
for (const [name, lines, preset] of [
  ["simulator", simulatorLog(LINES), "train-step"],
  ["tqdm", tqdmLog(LINES), "lightning"],
  ["chatty", chattyLog(LINES), "step"],
] as const) {
  const old = linesPerSecond(lines, oldAuto);
  const fresh = linesPerSecond(lines, () => {
    const p = createStepParser({ format: "auto" });
    return (line) => p.parseLine(line);
  });
  const named = linesPerSecond(lines, () => {
    const p = createStepParser({ format: preset });
    return (line) => p.parseLine(line);
  });
  console.log(
    `${name.padEnd(10)}${fmt(old)}${fmt(fresh)}${fmt(named)}  ${(fresh / old).toFixed(2)}`,
  );
}
