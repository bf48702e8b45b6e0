import { describe, expect, it } from "vitest";
import { LineSplitter } from "../../../src/monitors/parsers/line-splitter.ts";
import { stripAnsi } from "../../../src/monitors/parsers/strip-ansi.ts";
import { sampleBytes } from "./corpus-sample.ts";

/** Splits `bytes` in pieces at the given offsets, persisting pending() between pushes as a poller does. */
function splitAt(
  bytes: Buffer,
  cuts: number[],
  maxLineBytes?: number,
): { lines: string[]; pending: Buffer } {
  const lines: string[] = [];
  let pending: Buffer = Buffer.alloc(0);
  let start = 0;
  for (const end of [...cuts, bytes.length]) {
    const splitter = new LineSplitter({ pending, maxLineBytes });
    lines.push(...splitter.push(bytes.subarray(start, end)));
    pending = splitter.pending();
    start = end;
  }
  return { lines, pending };
}

describe("LineSplitter", () => {
  it("splits on LF, CRLF and lone CR, dropping the empty pieces of tqdm redraws", () => {
    const splitter = new LineSplitter();
    const lines = splitter.push(Buffer.from("a\nb\r\nc\r 10%|#| 1/10\r 20%|#| 2/10\r\nd\n\ne"));
    expect(lines).toEqual(["a", "b", "c", " 10%|#| 1/10", " 20%|#| 2/10", "d", ""]);
    expect(splitter.pending().toString()).toBe("e");
    expect(splitter.peek()).toBe("e");
  });

  it("keeps a partial line across polls through pending()", () => {
    const first = new LineSplitter();
    expect(first.push(Buffer.from("Train step 5"))).toEqual([]);
    const second = new LineSplitter({ pending: first.pending() });
    expect(second.push(Buffer.from("49 loss 0.3\nTrain"))).toEqual(["Train step 549 loss 0.3"]);
    expect(second.pending().toString()).toBe("Train");
  });

  it("treats a CR at the end of one poll and LF at the start of the next as one break", () => {
    const first = new LineSplitter();
    expect(first.push(Buffer.from("a\r"))).toEqual(["a"]);
    const second = new LineSplitter({ pending: first.pending() });
    expect(second.push(Buffer.from("\nb\n"))).toEqual(["b"]);
  });

  it("gives the same lines however the bytes are chunked (every single cut, and every byte alone)", () => {
    const sample = Buffer.concat([
      sampleBytes("train_09_lightning_tqdm_logfile_restart_partial_line.txt").subarray(0, 400),
      Buffer.from("x\r\ny\rz\r\r\n\u00e9\u2588\n"),
      Buffer.from([0x66, 0xff, 0xfe, 0x0a, 0xe2, 0x96]),
    ]);
    const whole = splitAt(sample, []);
    for (let cut = 1; cut < sample.length; cut += 1) {
      const split = splitAt(sample, [cut]);
      expect(split.lines, `cut at ${cut}`).toEqual(whole.lines);
      expect(split.pending.equals(whole.pending), `pending, cut at ${cut}`).toBe(true);
    }
    const bytewise = splitAt(
      sample,
      Array.from({ length: sample.length - 1 }, (_, i) => i + 1),
    );
    expect(bytewise.lines).toEqual(whole.lines);
  });

  it("turns invalid UTF-8 into replacement characters without throwing", () => {
    const lines = new LineSplitter().push(Buffer.from([0x61, 0xff, 0xc3, 0x28, 0x0a]));
    expect(lines).toEqual(["a\ufffd\ufffd("]);
  });

  it("keeps a bounded head of a megabyte-long line, however it arrives", () => {
    const long = Buffer.concat([Buffer.alloc(3 * 1024 * 1024, 0x41), Buffer.from("\nnext\n")]);
    const whole = new LineSplitter({ maxLineBytes: 1024 }).push(long);
    expect(whole.map((l) => l.length)).toEqual([1024, 4]);
    const chunks: number[] = [];
    for (let at = 4096; at < long.length; at += 4096) chunks.push(at);
    const chunked = splitAt(long, chunks, 1024);
    expect(chunked.lines).toEqual(whole);
    // While the line is open, pending() never grows past the bound.
    const open = new LineSplitter({ maxLineBytes: 1024 });
    open.push(long.subarray(0, 2 * 1024 * 1024));
    expect(open.pending().length).toBe(1024);
  });

  it("uses a 64 KiB bound by default", () => {
    const lines = new LineSplitter().push(
      Buffer.concat([Buffer.alloc(200_000, 0x42), Buffer.from("\n")]),
    );
    expect(lines[0]?.length).toBe(64 * 1024);
  });
});

describe("stripAnsi", () => {
  it("removes colour, cursor and OSC sequences and leaves other text alone", () => {
    expect(stripAnsi("\x1b[36m(pid=1)\x1b[0m \x1b[2K\x1b[1Gok \x1b]0;title\x07done")).toBe(
      "(pid=1) ok done",
    );
    expect(stripAnsi("plain [rank0] 50%|##|")).toBe("plain [rank0] 50%|##|");
  });
});
