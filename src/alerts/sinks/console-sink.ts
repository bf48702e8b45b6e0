import type { Message } from "../../message/message.ts";
import { renderText } from "../../message/render-text.ts";
import type { AlertSink, DeliveryResult } from "./alert-sink.ts";

/** Where the console sink writes: process.stdout or any writable with `write`. */
export interface TextStream {
  write(text: string): unknown;
}

/** Writes each alert as plain text (no colour codes) to a stream, e.g. the daemon's stdout. */
export class ConsoleSink implements AlertSink {
  readonly name = "console";
  constructor(private readonly stream: TextStream) {}

  async deliver(message: Message): Promise<DeliveryResult> {
    try {
      this.stream.write(`${renderText(message)}\n`);
      return { ok: true };
    } catch (error) {
      return { ok: false, retryable: true, error: (error as Error).message };
    }
  }
}
