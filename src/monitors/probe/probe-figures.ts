/** Small figures from the probe's text sections. */

/** Parses `/proc/uptime` ("12345.67 98765.43") into seconds, or null. */
export function parseUptime(text: string): number | null {
  const value = Number(text.trim().split(/\s+/)[0]);
  return Number.isFinite(value) && value > 0 ? value : null;
}

/** Parses the last line of `df -Pk` into free bytes, or null. */
export function parseDfFreeBytes(text: string): number | null {
  const last = text.trim().split("\n").pop() ?? "";
  const fields = last.trim().split(/\s+/);
  if (fields.length < 6) return null;
  const availableKib = Number(fields[3]);
  return Number.isFinite(availableKib) ? availableKib * 1024 : null;
}
