import { describe, expect, it } from "vitest";
import { LogSummarizer } from "../../../src/monitors/parsers/log-summarizer.ts";
import {
  corpusNames,
  parseSample,
  sameStepTime,
  sampleBytes,
  sampleExpectation,
} from "./corpus-sample.ts";

// Every corpus sample whose header states its expected parse is read the way `trainops parse`
// reads a file (format auto, the general reader), with nothing specific to any sample.
const samples = corpusNames()
  .map((name) => ({ name, expected: sampleExpectation(name) }))
  .filter((s) => s.expected !== null);

describe("corpus: each sample parses as its header says", () => {
  it("has enough samples with a stated expectation to mean something", () => {
    expect(samples.length).toBeGreaterThanOrEqual(25);
  });

  for (const { name, expected } of samples) {
    it(name, () => {
      const summarizer = new LogSummarizer();
      summarizer.push(sampleBytes(name));
      const summary = summarizer.finish();
      const progress =
        summary.lastStep === null
          ? null
          : { step: summary.lastStep, total: summary.totalSteps, epoch: summary.epoch };
      const { loss, ...stated } = expected?.progress ?? { loss: undefined };
      const misses = expected?.misses ?? [];
      // A field the header declares a known miss is still read wrong; the others as stated.
      for (const field of misses) {
        if (field === "step-time") continue; // checked with the step time below
        const got = field === "loss" ? (parseSample(name).last?.loss ?? null) : progress;
        const want = field === "loss" ? loss : stated;
        expect({ field, got }).not.toEqual({ field, got: want });
      }
      const read = progress && { ...progress };
      for (const field of misses)
        if (read && field in read) delete read[field as keyof typeof read];
      const want = expected?.progress ? { ...stated } : null;
      for (const field of misses)
        if (want && field in want) delete want[field as keyof typeof want];
      expect(read).toEqual(want);
      // The loss as read, NaN and infinities included (the summary reports those as null).
      if (loss !== undefined && !misses.includes("loss"))
        expect(parseSample(name).last?.loss ?? null).toEqual(loss);
      // The step time the last point carries, as the log printed it (a rate inverted, ms and µs
      // in seconds), or none where the log prints no step time of its own.
      const stepTime = expected?.stepTime;
      if (stepTime !== undefined) {
        const got = parseSample(name).last?.stepTime ?? null;
        const right = sameStepTime(got, stepTime);
        expect({ stepTime: got, right }).toEqual({
          stepTime: got,
          right: !misses.includes("step-time"),
        });
      }
      expect([...new Set(summary.errors.map((e) => e.kind))].sort()).toEqual(expected?.errors);
    });
  }
});
