/** A number as loggers print it, for use inside a larger pattern: `1.2e-3`, `nan`, `-inf`. */
export const LOG_NUMBER = String.raw`[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?|nan|NaN|-?inf`;
/** A whole count as loggers print it, for use inside a larger pattern: `4600`, `4,600`. */
export const LOG_COUNT = String.raw`\d{1,3}(?:,\d{3})+(?!\d)|\d+`;

const PLAIN = /^\d+(?:\.\d+)?$/;

/** Parses a number as loggers print it: `4,600`, `1.2e-3`, `nan`, `inf`. */
export function parseLogNumber(text: string | undefined): number | null {
  if (text === undefined || text === "") return null;
  // Most numbers in a log are plain; spare them the clean-up.
  if (PLAIN.test(text)) return Number(text);
  const cleaned = text.replace(/,/g, "").trim().toLowerCase();
  if (cleaned === "nan") return Number.NaN;
  if (cleaned === "inf" || cleaned === "+inf") return Number.POSITIVE_INFINITY;
  if (cleaned === "-inf") return Number.NEGATIVE_INFINITY;
  const value = Number(cleaned);
  return Number.isNaN(value) ? null : value;
}
