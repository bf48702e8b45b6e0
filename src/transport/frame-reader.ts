/**
 * Reads one framed section from a byte stream: `<mark><field>;` starts it, `<end><field>;`
 * ends it. Bytes before the start (leftovers of an earlier script) are dropped; the body is
 * kept as raw bytes, never decoded. Fields are short ASCII (a PID, an exit status).
 */
export class FrameReader {
  private readonly start: Buffer;
  private readonly end: Buffer;
  private stage: "seek" | "startField" | "body" | "endField" | "done" = "seek";
  private carry: Buffer = Buffer.alloc(0);
  private field = "";
  private readonly body: Buffer[] = [];
  startField: string | undefined;
  endField: string | undefined;

  constructor(boundary: string) {
    this.start = Buffer.from(`${boundary}<`);
    this.end = Buffer.from(`${boundary}>`);
  }

  get done(): boolean {
    return this.stage === "done";
  }

  /** The section's bytes (complete once `done`). */
  bytes(): Buffer {
    return Buffer.concat(this.body);
  }

  push(chunk: Buffer): void {
    let data = this.carry.length > 0 ? Buffer.concat([this.carry, chunk]) : chunk;
    this.carry = Buffer.alloc(0);
    while (data.length > 0 && this.stage !== "done") {
      if (this.stage === "seek" || this.stage === "body") {
        const marker = this.stage === "seek" ? this.start : this.end;
        const at = data.indexOf(marker);
        if (at < 0) {
          // Keep a possible partial marker at the end for the next chunk.
          const keep = Math.min(data.length, marker.length - 1);
          if (this.stage === "body") this.body.push(data.subarray(0, data.length - keep));
          this.carry = Buffer.from(data.subarray(data.length - keep));
          return;
        }
        if (this.stage === "body") this.body.push(data.subarray(0, at));
        this.stage = this.stage === "seek" ? "startField" : "endField";
        this.field = "";
        data = data.subarray(at + marker.length);
        continue;
      }
      const semicolon = data.indexOf(0x3b);
      if (semicolon < 0) {
        this.field += data.toString("latin1");
        return;
      }
      this.field += data.subarray(0, semicolon).toString("latin1");
      data = data.subarray(semicolon + 1);
      if (this.stage === "startField") {
        this.startField = this.field;
        this.stage = "body";
      } else {
        this.endField = this.field;
        this.stage = "done";
      }
    }
  }
}
