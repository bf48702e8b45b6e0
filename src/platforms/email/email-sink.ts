import type { Transporter } from "nodemailer";
import type { AlertSink, DeliveryResult } from "../../alerts/sinks/alert-sink.ts";
import { IDEMPOTENCY_HEADER } from "../../alerts/sinks/http-delivery.ts";
import { plainBody } from "../../alerts/sinks/plain-body.ts";
import type { Message, Severity } from "../../message/message.ts";

const MARK: Record<Severity, string> = {
  critical: "[CRITICAL]",
  warning: "[WARNING]",
  info: "[info]",
  success: "[resolved]",
};

/** SMTP settings of the e-mail sink. */
export interface EmailSettings {
  host: string;
  port: number;
  /** TLS from the first byte (port 465); otherwise STARTTLS when the server offers it. */
  secure: boolean;
  /** Refuse to send without STARTTLS (for servers that must not see passwords in clear). */
  requireTls: boolean;
  user?: string;
  /** SMTP password (a secret; from the environment). */
  password?: string;
  from: string;
  to: readonly string[];
  /** Connection, greeting and socket timeout in milliseconds. */
  timeoutMs: number;
}

/**
 * Sends each message as a plain-text e-mail over SMTP (nodemailer), charts attached. The
 * Message-ID comes from the delivery's idempotency key, so a retry after a lost answer is the
 * same message to mail clients, which show it once.
 */
export class EmailSink implements AlertSink {
  readonly name = "email";
  /**
   * Made at the first message: nodemailer is some forty modules, and every command that opens
   * the configured sinks (`poll --once` from a system cron among them) would load it otherwise.
   */
  private transport: Promise<Transporter> | null = null;

  constructor(private readonly settings: EmailSettings) {}

  private transporter(): Promise<Transporter> {
    const settings = this.settings;
    this.transport ??= import("nodemailer").then(({ createTransport }) =>
      createTransport({
        host: settings.host,
        port: settings.port,
        secure: settings.secure,
        requireTLS: settings.requireTls,
        ...(settings.user ? { auth: { user: settings.user, pass: settings.password ?? "" } } : {}),
        connectionTimeout: settings.timeoutMs,
        greetingTimeout: settings.timeoutMs,
        socketTimeout: settings.timeoutMs,
        // The SMTP conversation is never logged: it carries the password (AUTH).
        logger: false,
        debug: false,
      }),
    );
    return this.transport;
  }

  async deliver(message: Message, idempotencyKey: string): Promise<DeliveryResult> {
    const domain = this.settings.from.replace(/^.*@/, "").replace(/>.*$/, "") || "trainops";
    try {
      const transport = await this.transporter();
      await transport.sendMail({
        from: this.settings.from,
        to: [...this.settings.to],
        subject: `${MARK[message.severity]} ${message.title}`,
        text: `${message.title}\n\n${plainBody(message, 100_000)}\n`,
        messageId: `<${idempotencyKey.replace(/[^A-Za-z0-9._-]/g, "-")}@${domain}>`,
        headers: { [IDEMPOTENCY_HEADER]: idempotencyKey },
        attachments: (message.images ?? []).map((image) => ({
          filename: image.name,
          content: image.png,
          contentType: "image/png",
        })),
      });
      return { ok: true };
    } catch (error) {
      return classify(error as Error & { responseCode?: number; code?: string });
    }
  }

  /** Closes pooled connections (none today; kept for shutdown symmetry). */
  close(): void {
    void this.transport?.then((transport) => transport.close());
  }
}

/**
 * SMTP's own classes: 4xx is transient (try again), 5xx permanent (bad recipient, refused
 * login); no answer at all (connection refused, timeout) is retried.
 */
function classify(error: Error & { responseCode?: number; code?: string }): DeliveryResult {
  const code = error.responseCode;
  if (code !== undefined && code >= 500) {
    return { ok: false, retryable: false, error: `SMTP ${code} (${error.code ?? "refused"})` };
  }
  if (code !== undefined) {
    return { ok: false, retryable: true, error: `SMTP ${code} (${error.code ?? "transient"})` };
  }
  return { ok: false, retryable: true, error: `SMTP failed: ${error.code ?? error.name}` };
}
