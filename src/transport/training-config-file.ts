import { createHash } from "node:crypto";
import { posix } from "node:path";
import type { Clock } from "../core/clock.ts";
import { TrainopsError } from "../core/errors.ts";
import { shellQuote } from "./shell-quote.ts";
import type { Transport } from "./transport.ts";

/** The training config could not be read or written on the VM; the message says why. */
export class RemoteFileError extends TrainopsError {
  override readonly name = "RemoteFileError";
  readonly code = "remote_file";
}

/** What a write left behind. */
export interface WriteOutcome {
  /** Absolute path of the timestamped copy of the previous file. */
  backupPath: string;
}

/**
 * Reads and writes the run's training YAML on the VM through the run's transport. Writes are
 * compare-and-swap (the file must still hold what was read), atomic (a temporary file in the
 * same folder, then `mv`, so training never reads half a file), backed up, and read back.
 */
export class TrainingConfigFile {
  readonly path: string;
  private readonly transport: Transport;
  private readonly clock: Clock;

  /** `path`: the file's absolute path on the VM (see RunRemote). */
  constructor(options: { transport: Transport; path: string; clock: Clock }) {
    this.transport = options.transport;
    this.clock = options.clock;
    this.path = options.path;
  }

  /** The file's current text. */
  async read(): Promise<string> {
    const result = await this.transport.run(`cat -- ${shellQuote(this.path)}`);
    if (result.code !== 0) {
      throw new RemoteFileError(
        `cannot read the training config ${this.path} on ${this.transport.description}: ${result.stderr.trim() || `exit ${result.code}`}; check trainConfig: in trainops.yaml`,
      );
    }
    return result.stdout.toString("utf8");
  }

  /**
   * Replaces the file with `text` if it still holds `expectedOld`; keeps a backup named
   * `<file>.<UTC time>.bak` beside it, and verifies the new bytes by reading them back.
   */
  async write(text: string, expectedOld: string): Promise<WriteOutcome> {
    const stamp = new Date(this.clock.now()).toISOString().replace(/[-:]/g, "");
    const dir = posix.dirname(this.path);
    const base = posix.basename(this.path);
    const backupPath = posix.join(dir, `${base}.${stamp}.bak`);
    const tmpPath = posix.join(dir, `.${base}.trainops-tmp`);
    const payload = Buffer.from(text, "utf8").toString("base64").replace(/.{76}/g, "$&\n");
    // Content travels as base64 inside a quoted heredoc: no byte of it is ever shell syntax.
    const script = [
      `f=${shellQuote(this.path)}; tmp=${shellQuote(tmpPath)}; bak=${shellQuote(backupPath)}`,
      `now=$(sha256sum < "$f" | cut -c1-64) || exit 4`,
      `[ "$now" = ${shellQuote(sha256(expectedOld))} ] || { echo "the file changed since it was read" >&2; exit 3; }`,
      `cp -p -- "$f" "$bak" || exit 5`,
      `base64 -d > "$tmp" <<'TRAINOPS_EOF' || { rm -f -- "$tmp"; exit 6; }`,
      payload,
      "TRAINOPS_EOF",
      `chmod --reference="$f" "$tmp" 2>/dev/null || true`,
      `mv -f -- "$tmp" "$f" || { rm -f -- "$tmp"; exit 7; }`,
    ].join("\n");
    const result = await this.transport.run(script);
    if (result.code !== 0) {
      const why =
        result.code === 3
          ? "it changed since it was read (someone edited it); preview again"
          : result.stderr.trim() || `exit ${result.code}`;
      throw new RemoteFileError(`could not write ${this.path}: ${why}`);
    }
    const back = await this.read();
    if (back !== text) {
      throw new RemoteFileError(
        `${this.path} does not read back as written; the previous file is at ${backupPath}`,
      );
    }
    return { backupPath };
  }
}

/** Hex SHA-256 of UTF-8 text. */
export function sha256(text: string): string {
  return createHash("sha256").update(text, "utf8").digest("hex");
}
