import { randomBytes } from "node:crypto";
import { describe, expect, it } from "vitest";
import { FrameReader } from "../../src/transport/frame-reader.ts";

describe("FrameReader", () => {
  const boundary = "TRAINOPSabc123";
  const body = Buffer.concat([
    randomBytes(5000),
    Buffer.from("TRAINOPSabc12>x TRAINOPS<1;\0"),
    randomBytes(100),
  ]);
  const stream = Buffer.concat([
    Buffer.from("leftover from before TRAINOPSabc123>9;"),
    Buffer.from(`${boundary}<4242;`),
    body,
    Buffer.from(`${boundary}>17;trailing`),
  ]);

  it.each([1, 2, 7, 13, 4096, stream.length])(
    "finds the frame when fed in %i-byte chunks",
    (size) => {
      const reader = new FrameReader(boundary);
      for (let i = 0; i < stream.length; i += size) reader.push(stream.subarray(i, i + size));
      expect(reader.done).toBe(true);
      expect(reader.startField).toBe("4242");
      expect(reader.endField).toBe("17");
      expect(reader.bytes().equals(body)).toBe(true);
    },
  );

  it("is not done before the end marker's field is complete", () => {
    const reader = new FrameReader(boundary);
    reader.push(Buffer.from(`${boundary}<1;abc${boundary}>2`));
    expect(reader.done).toBe(false);
    reader.push(Buffer.from("5;"));
    expect(reader.done).toBe(true);
    expect(reader.endField).toBe("25");
    expect(reader.bytes().toString()).toBe("abc");
  });
});
