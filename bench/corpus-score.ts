/**
 * How many corpus samples the general reader reads right, field by field (step, total, epoch,
 * loss, the step time the last point carries, error kinds), per corpus batch. Batch 2 was gathered after the reader's rules were
 * written, so its first score is the honest figure for logs the reader has never seen.
 * Run: `npx tsx bench/corpus-score.ts [--misses]`.
 */
import { LogSummarizer } from "../src/monitors/parsers/log-summarizer.ts";
import {
  corpusNames,
  parseSample,
  sameStepTime,
  sampleBytes,
  sampleExpectation,
} from "../test/monitors/parsers/corpus-sample.ts";

type Field = "step" | "total" | "epoch" | "loss" | "step-time" | "errors" | "all";
const FIELDS: Field[] = ["step", "total", "epoch", "loss", "step-time", "errors", "all"];
const showMisses = process.argv.includes("--misses");

const same = (a: unknown, b: unknown) =>
  Object.is(a, b) || (typeof a === "number" && typeof b === "number" && a === b);

const tally = new Map<number, Record<Field, [number, number]>>();
for (const name of corpusNames()) {
  const expected = sampleExpectation(name);
  if (!expected) continue;
  const summarizer = new LogSummarizer();
  summarizer.push(sampleBytes(name));
  const s = summarizer.finish();
  const got =
    s.lastStep === null ? null : { step: s.lastStep, total: s.totalSteps, epoch: s.epoch };
  const want = expected.progress;
  const last = parseSample(name).last;
  const errors = [...new Set(s.errors.map((e) => e.kind))].sort().join(",");
  const ok: Partial<Record<Field, boolean | null>> = {
    step: same(got?.step ?? null, want?.step ?? null),
    total: same(got?.total ?? null, want?.total ?? null),
    epoch: same(got?.epoch ?? null, want?.epoch ?? null),
    loss: want?.loss === undefined ? null : same(last?.loss ?? null, want.loss),
    "step-time":
      expected.stepTime === undefined
        ? null
        : sameStepTime(last?.stepTime ?? null, expected.stepTime),
    errors: errors === expected.errors.join(","),
  };
  ok.all = Object.values(ok).every((v) => v !== false);
  const row =
    tally.get(expected.batch) ??
    (Object.fromEntries(FIELDS.map((f) => [f, [0, 0]])) as Record<Field, [number, number]>);
  for (const f of FIELDS) {
    if (ok[f] === null || ok[f] === undefined) continue;
    row[f][1] += 1;
    if (ok[f]) row[f][0] += 1;
  }
  tally.set(expected.batch, row);
  if (showMisses && !ok.all) {
    const wrong = FIELDS.filter((f) => ok[f] === false && f !== "all").join(" ");
    console.log(
      `MISS ${name}: ${wrong} | got step=${got?.step ?? "none"} total=${got?.total ?? "none"} epoch=${got?.epoch ?? "none"} loss=${last?.loss ?? "none"} step-time=${last?.stepTime ?? "none"}${expected.stepTime === undefined ? "" : ` (want ${expected.stepTime ?? "none"})`} errors=${errors || "none"}`,
    );
  }
}
console.log(`${"batch".padEnd(8)}${FIELDS.map((f) => f.padStart(11)).join("")}`);
for (const [batch, row] of [...tally.entries()].sort((a, b) => a[0] - b[0])) {
  console.log(
    `${String(batch).padEnd(8)}${FIELDS.map((f) => `${row[f][0]}/${row[f][1]}`.padStart(11)).join("")}`,
  );
}
