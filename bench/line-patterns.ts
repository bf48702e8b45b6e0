/**
 * Cost of the user's line patterns on log ingestion: lines per second through the monitor's
 * ingestor (splitting, progress reader, error classifier, one SQLite transaction per read) with
 * no pattern, 3 and 10 patterns (one of them matching one line in 1,000), on 100,000 simulator
 * lines read 10,000 at a time. Prints the median of 5 runs and the ratio to no pattern.
 * Run: `npx tsx bench/line-patterns.ts [--lines N]`.
 */
import { ManualClock } from "../src/core/clock.ts";
import type { LinePattern } from "../src/model/line-pattern.ts";
import { LogIngestor } from "../src/monitors/log-ingestor.ts";
import { openDatabase } from "../src/store/database.ts";
import { createMonitorStore } from "../src/store/monitor-store.ts";

const args = process.argv.slice(2);
const at = args.indexOf("--lines");
const LINES = at >= 0 ? Number(args[at + 1]) : 100_000;
const RUNS = 5;
const CHUNK = 10_000;

const lines = Array.from({ length: LINES }, (_, i) =>
  i % 1000 === 999
    ? "WARNING failed to save checkpoint /ckpt/step.pt: No space left on device"
    : `2026-01-07 17:49:02,190 - __main__ - INFO - Train step ${i + 1}/128000 (epoch ${1 + Math.floor(i / 4000)}/32) - loss: 0.${2104 + (i % 100)} - lr: 1.00e-04 - 18.21 s/step`,
);
const chunks: Buffer[] = [];
for (let i = 0; i < LINES; i += CHUNK)
  chunks.push(Buffer.from(`${lines.slice(i, i + CHUNK).join("\n")}\n`));

const checkpoint: LinePattern = {
  name: "checkpoint_failed",
  regex: /failed to save checkpoint (?<file>\S+): (.+)$/,
};
const quiet = (n: number): LinePattern[] =>
  Array.from({ length: n }, (_, i) => ({
    name: `quiet_${i}`,
    regex: new RegExp(`(disk|node|rank) ${i} (degraded|lost|throttled)`, "i"),
  }));

function linesPerSecond(patterns: LinePattern[]): number {
  const times: number[] = [];
  for (let r = 0; r < RUNS; r++) {
    const db = openDatabase(":memory:");
    const ingestor = new LogIngestor({
      run: "exp001",
      store: createMonitorStore(db),
      clock: new ManualClock(),
      steps: { format: "auto" },
      patterns,
    });
    let offset = 0;
    const start = process.hrtime.bigint();
    for (const [i, bytes] of chunks.entries()) {
      ingestor.ingest({ inode: "1", start: offset, bytes, reset: i === 0 ? "attach" : "none" });
      offset += bytes.length;
    }
    times.push(Number(process.hrtime.bigint() - start) / 1e9);
    db.close();
  }
  times.sort((a, b) => a - b);
  return LINES / (times[Math.floor(RUNS / 2)] as number);
}

const base = linesPerSecond([]);
console.log(`${LINES.toLocaleString("en-US")} lines, median of ${RUNS} runs`);
console.log(`${"patterns".padEnd(10)}${"lines/s".padStart(12)}  vs none`);
for (const [label, patterns] of [
  ["none", []],
  ["3", [checkpoint, ...quiet(2)]],
  ["10", [checkpoint, ...quiet(9)]],
] as const) {
  const rate = label === "none" ? base : linesPerSecond([...patterns]);
  console.log(
    `${label.padEnd(10)}${Math.round(rate).toLocaleString("en-US").padStart(12)}  ${(rate / base).toFixed(2)}x`,
  );
}
