import { type Box, overlaps } from "./chart-layout.ts";

/** A label that wants to sit just right of `x` (a marker line). */
export interface LabelWish {
  x: number;
  text: string;
}

/** A label where it was put. */
export interface PlacedLabel {
  text: string;
  box: Box;
}

/** Where labels may go: a horizontal band of rows. */
export interface LabelArea {
  left: number;
  right: number;
  /** Top of each row, tried in order. */
  rows: readonly number[];
  rowHeight: number;
}

/** Air kept between two labels, pixels. */
const PAD = 3;

/**
 * Puts labels next to their markers without overlap or clipping: each goes just right of its
 * marker, shifted inwards where it would leave the area, into the first row where it touches
 * nothing placed; labels that fit nowhere are dropped and counted in one "…+N" label, so a
 * crowded window says how many it left out rather than drawing them over each other.
 */
export function placeLabels(
  wishes: readonly LabelWish[],
  area: LabelArea,
  measure: (text: string) => number,
  obstacles: readonly Box[] = [],
): { placed: PlacedLabel[]; dropped: number } {
  const placed: PlacedLabel[] = [];
  const free = (box: Box) =>
    box.x >= area.left &&
    box.x + box.w <= area.right &&
    !placed.some((p) => overlaps(p.box, box, PAD)) &&
    !obstacles.some((o) => overlaps(o, box, PAD));
  const at = (x: number, w: number, row: number): Box => ({
    x: Math.max(area.left, Math.min(x, area.right - w)),
    y: row,
    w,
    h: area.rowHeight,
  });
  const dropped: LabelWish[] = [];
  for (const wish of [...wishes].sort((a, b) => a.x - b.x)) {
    const w = measure(wish.text);
    const box = area.rows.map((row) => at(wish.x + PAD, w, row)).find(free);
    if (box) placed.push({ text: wish.text, box });
    else dropped.push(wish);
  }
  let count = dropped.length;
  const first = dropped[0];
  while (count > 0 && first) {
    const text = `…+${count}`;
    const w = measure(text);
    // Beside the crowd it stands for: where the first left-out label wanted to be, else just
    // after the placed labels nearest to it, else at the right end.
    const nearby = [...placed]
      .sort((a, b) => Math.abs(a.box.x - first.x) - Math.abs(b.box.x - first.x))
      .map((p) => p.box.x + p.box.w + PAD + 1);
    const candidates = [first.x + PAD, ...nearby, area.right - w].flatMap((x) =>
      area.rows.map((row) => at(x, w, row)),
    );
    const box = candidates.find(free);
    if (box) {
      placed.push({ text, box });
      break;
    }
    // Make room: give up the placed label nearest to where the dropped ones wanted to be.
    if (!placed.length) break;
    let nearest = 0;
    placed.forEach((p, i) => {
      const best = placed[nearest] as PlacedLabel;
      if (Math.abs(p.box.x - first.x) < Math.abs(best.box.x - first.x)) nearest = i;
    });
    placed.splice(nearest, 1);
    count++;
  }
  return { placed, dropped: count };
}
