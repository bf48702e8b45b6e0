import { createCanvas, loadImage } from "@napi-rs/canvas";

/** How two PNGs differ: the share of pixels whose colour moved by more than the threshold. */
export interface PngDiff {
  sameSize: boolean;
  /** Pixels that differ, over all pixels (0 when identical, 1 when nothing matches). */
  ratio: number;
  differing: number;
  /** The differing pixels in red over a faded copy of `actual`, for a person to look at. */
  picture: () => Buffer;
}

/** Decoded RGBA pixels of a PNG, through the same canvas the charts are drawn with. */
export async function decodePng(
  png: Buffer,
): Promise<{ width: number; height: number; data: Uint8ClampedArray }> {
  const image = await loadImage(png);
  const canvas = createCanvas(image.width, image.height);
  const ctx = canvas.getContext("2d");
  ctx.drawImage(image, 0, 0);
  return {
    width: image.width,
    height: image.height,
    data: ctx.getImageData(0, 0, image.width, image.height).data,
  };
}

/**
 * Compares two PNGs pixel by pixel: a pixel differs when any channel moved by more than
 * `threshold` (0-255), so anti-aliasing that shifts by a shade does not count and a moved line,
 * label or bar does.
 */
export async function diffPng(expected: Buffer, actual: Buffer, threshold = 64): Promise<PngDiff> {
  const [a, b] = await Promise.all([decodePng(expected), decodePng(actual)]);
  if (a.width !== b.width || a.height !== b.height)
    return { sameSize: false, ratio: 1, differing: b.width * b.height, picture: () => actual };
  const marks = new Uint8Array(a.width * a.height);
  let differing = 0;
  for (let p = 0; p < marks.length; p++) {
    const i = p * 4;
    for (let c = 0; c < 4; c++) {
      if (Math.abs((a.data[i + c] as number) - (b.data[i + c] as number)) > threshold) {
        marks[p] = 1;
        differing++;
        break;
      }
    }
  }
  return {
    sameSize: true,
    ratio: differing / marks.length,
    differing,
    picture: () => {
      const canvas = createCanvas(b.width, b.height);
      const ctx = canvas.getContext("2d");
      const out = ctx.createImageData(b.width, b.height);
      for (let p = 0; p < marks.length; p++) {
        const i = p * 4;
        const faded = (v: number) => 255 - (255 - v) / 4;
        out.data[i] = marks[p] ? 255 : faded(b.data[i] as number);
        out.data[i + 1] = marks[p] ? 0 : faded(b.data[i + 1] as number);
        out.data[i + 2] = marks[p] ? 0 : faded(b.data[i + 2] as number);
        out.data[i + 3] = 255;
      }
      ctx.putImageData(out, 0, 0);
      return canvas.encodeSync("png");
    },
  };
}
