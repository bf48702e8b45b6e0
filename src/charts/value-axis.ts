/** A value axis: its top, its step, and one label per step from 0. */
export interface ValueAxis {
  max: number;
  step: number;
  ticks: Array<{ value: number; label: string }>;
}

const MANTISSAS = [1, 2, 2.5, 5, 10];

/**
 * A 0-based axis up to at least `highest` in 3-5 round steps (1, 2, 2.5 or 5 × 10ⁿ), labelled
 * with as many decimals as the step needs, so no two labels read the same (0.0025 steps do
 * not all print as "0"). `fixedMax` (100 for a percentage) is kept as the top.
 */
export function valueAxis(highest: number, fixedMax?: number): ValueAxis {
  const top = fixedMax ?? (highest > 0 && Number.isFinite(highest) ? highest : 1);
  const raw = top / 5;
  const magnitude = 10 ** Math.floor(Math.log10(raw));
  const step = (MANTISSAS.find((m) => m * magnitude >= raw * 0.999) ?? 10) * magnitude;
  const max = fixedMax ?? Math.ceil(top / step - 1e-9) * step;
  const decimals = Math.max(0, -Math.floor(Math.log10(step) + 1e-9) + (isRound(step) ? 0 : 1));
  const ticks: ValueAxis["ticks"] = [];
  for (let i = 0; i * step <= max * (1 + 1e-9); i++) {
    const value = i * step;
    ticks.push({ value, label: value.toFixed(decimals) });
  }
  return { max, step, ticks };
}

/** Whether a step is a whole multiple of its own power of ten (2 × 10ⁿ, not 2.5 × 10ⁿ). */
function isRound(step: number): boolean {
  const magnitude = 10 ** Math.floor(Math.log10(step) + 1e-9);
  return Math.abs(step / magnitude - Math.round(step / magnitude)) < 1e-9;
}
