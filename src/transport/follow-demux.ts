/**
 * Splits the output of `tail -v -F -- a b …` (several files on one stream) back into the files
 * it came from. tail prints `==> path <==` on a line of its own before the bytes of a file whose
 * turn it is (and a blank line before every header but the first); bytes are attributed to the
 * last header seen. A log line that reads exactly like a header of another followed file would
 * attribute the bytes after it to that file: harmless for wake-ups, which is all the bytes of a
 * shared follow are used for (the reads that follow take the file's bytes from its offset).
 */
export class FollowDemux {
  private readonly paths: ReadonlySet<string>;
  private current: string | null = null;
  /** Bytes of a line not ended yet that may still turn out to be a header. */
  private held = "";
  /** The stream is inside a line whose start was already attributed (not a header). */
  private midLine = false;
  /** An empty line was seen: tail's separator if a header follows, else a log's blank line. */
  private blank = false;

  constructor(paths: readonly string[]) {
    this.paths = new Set(paths);
  }

  /** Takes the next chunk of the stream; returns the bytes of each file it held, in order. */
  push(chunk: Buffer): Map<string, Buffer> {
    const out = new Map<string, Buffer[]>();
    const give = (bytes: string) => {
      if (this.current === null || bytes === "") return;
      const list = out.get(this.current) ?? [];
      list.push(Buffer.from(bytes, "latin1"));
      out.set(this.current, list);
    };
    // latin1 keeps every byte as one char: no UTF-8 sequence is broken at a chunk edge.
    let text = this.held + chunk.toString("latin1");
    this.held = "";
    while (text !== "") {
      const newline = text.indexOf("\n");
      if (newline < 0) {
        if (!this.midLine && couldBeHeader(text)) this.held = text;
        else {
          this.flushBlank(give);
          give(text);
          this.midLine = true;
        }
        break;
      }
      const line = text.slice(0, newline);
      text = text.slice(newline + 1);
      if (this.midLine) {
        this.midLine = false;
        give(`${line}\n`);
        continue;
      }
      const header = /^==> (.*) <==$/.exec(line);
      if (header && this.paths.has(header[1] as string)) {
        this.blank = false;
        this.current = header[1] as string;
        continue;
      }
      if (line === "") {
        this.flushBlank(give);
        this.blank = true;
        continue;
      }
      this.flushBlank(give);
      give(`${line}\n`);
    }
    return new Map([...out].map(([path, parts]) => [path, Buffer.concat(parts)]));
  }

  private flushBlank(give: (bytes: string) => void): void {
    if (!this.blank) return;
    this.blank = false;
    give("\n");
  }
}

function couldBeHeader(text: string): boolean {
  return text.length < 4096 && (text.startsWith("==> ") || "==> ".startsWith(text));
}
