import { closeSync, mkdirSync, openSync, writeSync } from "node:fs";
import { dirname } from "node:path";

/**
 * Writes lines the way Python's stdlib logging does with the format
 * '%(asctime)s - %(name)s - %(levelname)s - %(message)s' (the user's trainer), one write per
 * record so a reader tailing the file never sees half a record.
 */
export class PythonLog {
  private readonly fd: number;
  private readonly ownsFd: boolean;

  /** `path` null writes to stdout. */
  constructor(
    path: string | null,
    private readonly now: () => Date = () => new Date(),
  ) {
    this.ownsFd = path !== null;
    // The script creates its log folder, as the user's does (os.makedirs before logging).
    if (path !== null) mkdirSync(dirname(path), { recursive: true });
    this.fd = path === null ? 1 : openSync(path, "a");
  }

  info(logger: string, message: string): void {
    this.record(logger, "INFO", message);
  }

  warning(logger: string, message: string): void {
    this.record(logger, "WARNING", message);
  }

  error(logger: string, message: string): void {
    this.record(logger, "ERROR", message);
  }

  /** Raw text (a traceback printed by the interpreter), written as one block. */
  raw(text: string): void {
    writeSync(this.fd, text.endsWith("\n") ? text : `${text}\n`);
  }

  close(): void {
    if (this.ownsFd) closeSync(this.fd);
  }

  private record(logger: string, level: string, message: string): void {
    writeSync(this.fd, `${asctime(this.now())} - ${logger} - ${level} - ${message}\n`);
  }
}

/** Python's default asctime: local time, comma before milliseconds ('17:52:29,812'). */
export function asctime(date: Date): string {
  const p = (n: number, w = 2) => String(n).padStart(w, "0");
  return (
    `${date.getFullYear()}-${p(date.getMonth() + 1)}-${p(date.getDate())} ` +
    `${p(date.getHours())}:${p(date.getMinutes())}:${p(date.getSeconds())},${p(date.getMilliseconds(), 3)}`
  );
}

/** Python's repr() of a parsed YAML value, as a script logging its config dict prints it. */
export function pythonRepr(value: unknown): string {
  if (value === null || value === undefined) return "None";
  if (value === true) return "True";
  if (value === false) return "False";
  if (typeof value === "number") {
    if (value !== 0 && Math.abs(value) < 1e-4) {
      // Python writes small floats as '1e-05': a two-digit exponent.
      const [mantissa, exponent = "0"] = value.toExponential().split("e");
      const sign = exponent.startsWith("-") ? "-" : "+";
      return `${mantissa}e${sign}${exponent.replace(/^[-+]/, "").padStart(2, "0")}`;
    }
    return String(value);
  }
  if (typeof value === "string")
    return `'${value.replaceAll("\\", "\\\\").replaceAll("'", "\\'")}'`;
  if (Array.isArray(value)) return `[${value.map(pythonRepr).join(", ")}]`;
  if (typeof value === "object") {
    const entries = Object.entries(value as Record<string, unknown>);
    return `{${entries.map(([k, v]) => `'${k}': ${pythonRepr(v)}`).join(", ")}}`;
  }
  return String(value);
}

/** Formats a byte count as PyTorch's allocator messages do ('324.00 MiB', '1.25 GiB'). */
export function torchSize(bytes: number): string {
  const units = ["B", "KiB", "MiB", "GiB"];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit += 1;
  }
  return unit === 0 ? `${value} bytes` : `${value.toFixed(2)} ${units[unit]}`;
}
