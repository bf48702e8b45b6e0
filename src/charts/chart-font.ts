import { createRequire } from "node:module";
import { GlobalFonts } from "@napi-rs/canvas";

/** The family the charts draw text with. */
export const CHART_FONT = "TrainopsSans";

let registered: string | null = null;

/**
 * Registers DejaVu Sans from the @fontsource package under CHART_FONT, once per process, so
 * charts have legible labels on machines without system fonts (slim containers, CI). Falls back
 * to whatever sans-serif the system has when the file cannot be loaded.
 */
export function chartFontFamily(): string {
  if (registered !== null) return registered;
  registered = "sans-serif";
  try {
    const require = createRequire(import.meta.url);
    const regular = require.resolve(
      "@fontsource/dejavu-sans/files/dejavu-sans-latin-400-normal.woff2",
    );
    const bold = require.resolve(
      "@fontsource/dejavu-sans/files/dejavu-sans-latin-700-normal.woff2",
    );
    if (
      GlobalFonts.registerFromPath(regular, CHART_FONT) &&
      GlobalFonts.registerFromPath(bold, CHART_FONT)
    ) {
      registered = `${CHART_FONT}, sans-serif`;
    }
  } catch {
    // Keep the system fallback: a chart with system text beats no chart.
  }
  return registered;
}
