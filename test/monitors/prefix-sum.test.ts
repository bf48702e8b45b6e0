import { execFileSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { cksumOf, concatenatedCksum } from "../../src/monitors/probe/prefix-sum.ts";

const dir = mkdtempSync(join(tmpdir(), "trainops-cksum-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** What the real `cksum` prints for the files one after the other. */
function cksum(files: string[]): string {
  const out = execFileSync("sh", ["-c", 'cat -- "$@" | cksum', "sh", ...files]).toString();
  return out.trim();
}

describe("cksum arithmetic, against the real cksum", () => {
  it("sums bytes as cksum does, and the sum of prefixes one after the other from their own sums", () => {
    const sizes = [4096, 4096, 1, 300, 0, 70_000];
    const files = sizes.map((size, i) => {
      const file = join(dir, `part${i}`);
      writeFileSync(file, randomBytes(size));
      return file;
    });
    const parts = files.map((file, i) => {
      const [sum, length] = cksum([file]).split(" ");
      return { file, sum: sum as string, length: Number(length), size: sizes[i] as number };
    });
    for (const part of parts) {
      expect(cksumOf(execFileSync("cat", [part.file]))).toBe(part.sum);
      expect(part.length).toBe(part.size);
    }
    expect(concatenatedCksum(parts)).toBe(cksum(files));
    expect(concatenatedCksum(parts.slice(0, 2))).toBe(cksum(files.slice(0, 2)));
    expect(concatenatedCksum([])).toBe(cksum([]));
  });

  it("a changed byte in any prefix changes the sum of all", () => {
    const bytes = randomBytes(4096 * 3);
    const sums = [0, 1, 2].map((i) => ({
      sum: cksumOf(bytes.subarray(i * 4096, (i + 1) * 4096)),
      length: 4096,
    }));
    const whole = concatenatedCksum(sums);
    expect(whole).toBe(`${cksumOf(bytes)} ${bytes.length}`);
    bytes[5000] = (bytes[5000] as number) ^ 1;
    expect(`${cksumOf(bytes)} ${bytes.length}`).not.toBe(whole);
  });
});
