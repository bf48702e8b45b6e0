import { inflateSync } from "node:zlib";
import { createCanvas, loadImage } from "@napi-rs/canvas";
import { describe, expect, it } from "vitest";
import { encodeChartPng } from "../../src/charts/png-encoding.ts";
import { drawRunChart } from "../../src/charts/run-chart.ts";
import { chartStore, HOUR, NOW } from "./chart-fixture.ts";
import { decodePng } from "./png-diff.ts";

/** A PNG's chunks by type, in order. */
function chunks(png: Buffer): Array<{ type: string; data: Buffer }> {
  const out: Array<{ type: string; data: Buffer }> = [];
  for (let at = 8; at < png.length; ) {
    const length = png.readUInt32BE(at);
    out.push({
      type: png.toString("latin1", at + 4, at + 8),
      data: png.subarray(at + 8, at + 8 + length),
    });
    at += 12 + length;
  }
  return out;
}

describe("chart PNG encoding", () => {
  it("a chart's PNG holds exactly the pixels the canvas' own encoder writes", async () => {
    const store = chartStore();
    try {
      store.fill(NOW - 2 * HOUR, NOW, 30_000, NOW - HOUR);
      store.oom(NOW - 30 * 60_000);
      const { image } = drawRunChart(store, { run: "exp001", from: NOW - 2 * HOUR, to: NOW });
      // Drawn again to compare against the canvas library's encoder on the same picture.
      const canvas = createCanvas(800, 400);
      const ctx = canvas.getContext("2d");
      ctx.drawImage(await loadImage(image.png), 0, 0);
      const ours = await decodePng(image.png);
      const theirs = await decodePng(canvas.encodeSync("png"));
      expect([ours.width, ours.height]).toEqual([800, 400]);
      expect(Buffer.from(ours.data).equals(Buffer.from(theirs.data))).toBe(true);
      const types = chunks(image.png).map((c) => c.type);
      expect(types).toEqual(["IHDR", "IDAT", "IEND"]);
      expect(image.png.length).toBeLessThan(80_000);
    } finally {
      store.close();
    }
  });

  it("writes 8-bit RGBA rows, each with its filter byte, that inflate to the canvas' pixels", () => {
    const canvas = createCanvas(3, 2);
    const ctx = canvas.getContext("2d");
    ctx.fillStyle = "#ffffff";
    ctx.fillRect(0, 0, 3, 2);
    ctx.fillStyle = "#ff0000";
    ctx.fillRect(1, 1, 1, 1);
    const png = encodeChartPng(canvas);
    const [header, data] = chunks(png);
    expect(header?.data.readUInt32BE(0)).toBe(3);
    expect(header?.data.readUInt32BE(4)).toBe(2);
    expect([...(header?.data.subarray(8) ?? [])]).toEqual([8, 6, 0, 0, 0]);
    const rows = inflateSync(data?.data ?? Buffer.alloc(0));
    const white = [255, 255, 255, 255];
    expect([...rows]).toEqual([
      0,
      ...white,
      ...white,
      ...white,
      0,
      ...white,
      255,
      0,
      0,
      255,
      ...white,
    ]);
  });

  it("a canvas with see-through pixels goes through the canvas' encoder, alpha kept", async () => {
    const canvas = createCanvas(4, 4);
    const ctx = canvas.getContext("2d");
    ctx.fillStyle = "rgba(0, 0, 255, 0.5)";
    ctx.fillRect(0, 0, 2, 2);
    const png = encodeChartPng(canvas);
    const pixels = await decodePng(png);
    expect(pixels.data[3]).toBeGreaterThan(120);
    expect(pixels.data[3]).toBeLessThan(135);
    expect(pixels.data[2]).toBe(255);
    expect(pixels.data[4 * 4 * 4 - 1]).toBe(0);
  });
});
