import { readdirSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import type { ClassifiedEvent } from "../../../src/model/monitoring.ts";
import { ErrorClassifier } from "../../../src/monitors/parsers/error-classifier.ts";
import { OOM_TRACEBACK } from "../../harness/fake-run-dir.ts";
import { classifySample, sampleLines } from "./corpus-sample.ts";

/**
 * Feeds lines one at a time, announcing decisive events after each line as the monitor does.
 * Returns the events in the order the store would get them (announced ones replaced by their
 * finished version), and when each announcement came.
 */
function classifyEagerly(lines: string[]) {
  const classifier = new ErrorClassifier();
  const stored: ClassifiedEvent[] = [];
  const announcedAt = new Map<ClassifiedEvent, number>();
  const slot = new Map<ClassifiedEvent, number>();
  const applyUpdates = () => {
    for (const { announced, final, open } of classifier.takeUpdates()) {
      const at = slot.get(announced);
      if (at === undefined) throw new Error("update of an event never announced");
      stored[at] = final;
      slot.delete(announced);
      if (open) slot.set(final, at);
    }
  };
  lines.forEach((line, i) => {
    stored.push(...classifier.push(line, i + 1));
    applyUpdates();
    for (const event of classifier.takeDecisive()) {
      announcedAt.set(event, i + 1);
      slot.set(event, stored.length);
      stored.push(event);
    }
  });
  stored.push(...classifier.flush());
  applyUpdates();
  return { stored, announcedAt, unfinished: slot.size };
}

const byLine = (events: ClassifiedEvent[]) =>
  [...events].sort((a, b) => (a.lineNumber ?? 0) - (b.lineNumber ?? 0));

describe("decisive events announced at their deciding line", () => {
  const corpus = readdirSync(fileURLToPath(new URL("../../fixtures/corpus/", import.meta.url)))
    .filter((name) => /^(err|train)_/.test(name))
    .sort();

  it.each(corpus)("%s: announcing early finds the same events, each once", (name) => {
    const { stored, unfinished } = classifyEagerly(sampleLines(name));
    expect(unfinished).toBe(0);
    expect(byLine(stored)).toEqual(byLine(classifySample(name)));
  });

  it("a CUDA OOM traceback is announced at its exception line, before the tail that ends it", () => {
    const classifier = new ErrorClassifier();
    const lines = [...OOM_TRACEBACK];
    const pushed = lines.flatMap((line, i) => classifier.push(line, i + 1));
    expect(pushed).toEqual([]);
    const announced = classifier.takeDecisive();
    expect(announced).toMatchObject([{ kind: "cuda_oom", lineNumber: 4 }]);
    expect(classifier.takeDecisive()).toEqual([]);
    // The chained exception that follows finishes the same failure: an update, not an event.
    const tail = [
      "",
      "The above exception was the direct cause of the following exception:",
      "",
      "Traceback (most recent call last):",
      '  File "train.py", line 300, in <module>',
      "RuntimeError: training step failed",
      "2026-11-28 10:00:00,000 - __main__ - INFO - shutting down",
      "x",
      "y",
      "z",
    ];
    const later = tail.flatMap((line, i) => classifier.push(line, lines.length + i + 1));
    expect([...later, ...classifier.flush()]).toEqual([]);
    const updates = classifier.takeUpdates();
    expect(updates).toHaveLength(1);
    expect(updates[0]?.announced).toBe(announced[0]);
    expect(updates[0]?.final.kind).toBe("cuda_oom");
  });

  it("NCCL timeouts from several ranks: the first is announced, the repeats update it", () => {
    const classifier = new ErrorClassifier();
    const line = (rank: number) =>
      `[Rank ${rank}] Watchdog caught collective operation timeout: WorkNCCL(SeqNum=1580, OpType=ALLREDUCE, NumelIn=1, NumelOut=1, Timeout(ms)=600000) ran for 600046 milliseconds before timing out.`;
    expect(classifier.push(line(0), 1)).toEqual([]);
    const announced = classifier.takeDecisive();
    expect(announced).toMatchObject([{ kind: "nccl_timeout" }]);
    for (let rank = 1; rank < 4; rank++) classifier.push(line(rank), rank + 1);
    expect(classifier.takeDecisive()).toEqual([]);
    expect(classifier.flush()).toEqual([]);
    const [update] = classifier.takeUpdates();
    expect(update?.announced).toBe(announced[0]);
    expect(update?.final.detail?.repeats).toBe(4);
  });

  it("a CUDA OOM traceback right after an announced NCCL timeout changes that announcement at its exception line", () => {
    const classifier = new ErrorClassifier();
    const nccl =
      "[Rank 0] Watchdog caught collective operation timeout: WorkNCCL(SeqNum=1580, OpType=ALLREDUCE, NumelIn=1, NumelOut=1, Timeout(ms)=600000) ran for 600046 milliseconds before timing out.";
    classifier.push(nccl, 1);
    const [announced] = classifier.takeDecisive();
    expect(announced?.kind).toBe("nccl_timeout");
    classifier.push("2026-11-28 10:00:00,000 - __main__ - INFO - Train step 3/4000", 2);
    // The traceback opens within the NCCL line's hold: the same failure, so no second event;
    // but its exception line names a CUDA OOM, which is news at that line, not at its end.
    OOM_TRACEBACK.forEach((line, i) => {
      expect(classifier.push(line, i + 3)).toEqual([]);
    });
    expect(classifier.takeDecisive()).toEqual([]);
    const [change] = classifier.takeUpdates();
    expect(change).toMatchObject({ announced, open: true, final: { kind: "cuda_oom" } });
    // Told once; the traceback's end finishes the changed announcement.
    expect(classifier.takeDecisive()).toEqual([]);
    expect(classifier.takeUpdates()).toEqual([]);
    expect(classifier.flush()).toEqual([]);
    const [finished] = classifier.takeUpdates();
    expect(finished?.announced).toBe(change?.final);
    expect(finished?.open).toBeUndefined();
    expect(finished?.final.kind).toBe("cuda_oom");
  });

  it("a killed worker followed by the main process's traceback stays one announced failure", () => {
    const { stored, announcedAt } = classifyEagerly([
      "ERROR: Unexpected bus error encountered in worker. This might be caused by insufficient shared memory (shm).",
      "RuntimeError: DataLoader worker (pid 4242) is killed by signal: Killed.",
      "Traceback (most recent call last):",
      '  File "train.py", line 10, in <module>',
      "RuntimeError: DataLoader worker (pid(s) 4242) exited unexpectedly",
    ]);
    const plain = new ErrorClassifier();
    const expected = [
      ...[
        "ERROR: Unexpected bus error encountered in worker. This might be caused by insufficient shared memory (shm).",
        "RuntimeError: DataLoader worker (pid 4242) is killed by signal: Killed.",
        "Traceback (most recent call last):",
        '  File "train.py", line 10, in <module>',
        "RuntimeError: DataLoader worker (pid(s) 4242) exited unexpectedly",
      ].flatMap((l, i) => plain.push(l, i + 1)),
      ...plain.flush(),
    ];
    expect(byLine(stored)).toEqual(byLine(expected));
    // Announced at the worker's line, two lines before the traceback even started.
    expect([...announcedAt.values()][0]).toBeLessThanOrEqual(2);
  });

  it("a plain exception is not decisive: it still waits for its traceback to end", () => {
    const classifier = new ErrorClassifier();
    const lines = [
      "Traceback (most recent call last):",
      '  File "x.py", line 1',
      "ValueError: bad",
    ];
    for (const [i, line] of lines.entries()) classifier.push(line, i + 1);
    expect(classifier.takeDecisive()).toEqual([]);
    expect(classifier.flush()).toMatchObject([{ kind: "traceback" }]);
    expect(classifier.takeUpdates()).toEqual([]);
  });
});
