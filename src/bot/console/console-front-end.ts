import type { AlertSink, DeliveryResult } from "../../alerts/sinks/alert-sink.ts";
import type { Message } from "../../message/message.ts";
import type { ConsoleSession } from "./console-session.ts";

/**
 * The console as an app front end: alerts print in the same terminal as the replies, and the
 * session ends (`exit` or end of input) resolve `finished`.
 */
export class ConsoleFrontEnd {
  readonly name = "console";
  readonly sink: AlertSink;
  /** Resolves when the person typed `exit` or the input ended. */
  readonly finished: Promise<void>;
  private resolveFinished: () => void = () => {};

  constructor(private readonly session: ConsoleSession) {
    this.finished = new Promise((resolve) => {
      this.resolveFinished = resolve;
    });
    this.sink = {
      name: "console",
      deliver: async (message: Message): Promise<DeliveryResult> => {
        try {
          await session.show(message);
          return { ok: true };
        } catch (error) {
          return { ok: false, retryable: true, error: (error as Error).message };
        }
      },
    };
  }

  async start(): Promise<void> {
    void this.session.run().then(() => this.resolveFinished());
  }

  async stop(): Promise<void> {}
}
