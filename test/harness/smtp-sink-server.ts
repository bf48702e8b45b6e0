import type { AddressInfo } from "node:net";
import { SMTPServer } from "smtp-server";

/** One mail as the local SMTP server received it. */
export interface ReceivedMail {
  from: string;
  to: string[];
  /** The raw RFC 5322 message (headers and body). */
  raw: string;
  user: string | undefined;
}

/**
 * A real SMTP server (the smtp-server package) on a random loopback port, with one login;
 * keeps every accepted mail. `rejectNext` makes it answer the next DATA with a given code.
 */
export class LocalSmtpServer {
  readonly mails: ReceivedMail[] = [];
  /** Failed logins seen (wrong password). */
  failedLogins = 0;
  private reject: { code: number; text: string } | null = null;

  private constructor(
    private readonly server: SMTPServer,
    readonly port: number,
  ) {}

  static async start(login: { user: string; password: string }): Promise<LocalSmtpServer> {
    let instance: LocalSmtpServer | null = null;
    const server = new SMTPServer({
      authMethods: ["PLAIN", "LOGIN"],
      // Plain AUTH on loopback only: the test has no certificate.
      allowInsecureAuth: true,
      disabledCommands: ["STARTTLS"],
      logger: false,
      onAuth(auth, _session, callback) {
        if (auth.username === login.user && auth.password === login.password) {
          callback(null, { user: auth.username });
          return;
        }
        if (instance) instance.failedLogins++;
        const error = Object.assign(new Error("Invalid username or password"), {
          responseCode: 535,
        });
        callback(error);
      },
      onData(stream, session, callback) {
        const chunks: Buffer[] = [];
        stream.on("data", (c: Buffer) => chunks.push(c));
        stream.on("end", () => {
          const reject = instance?.reject;
          if (instance) instance.reject = null;
          if (reject) {
            callback(Object.assign(new Error(reject.text), { responseCode: reject.code }));
            return;
          }
          instance?.mails.push({
            from: session.envelope.mailFrom ? session.envelope.mailFrom.address : "",
            to: session.envelope.rcptTo.map((r) => r.address),
            raw: Buffer.concat(chunks).toString("utf8"),
            user: session.user as string | undefined,
          });
          callback();
        });
      },
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", () => resolve()));
    const { port } = server.server.address() as AddressInfo;
    instance = new LocalSmtpServer(server, port);
    return instance;
  }

  /** The next message is refused at DATA with `code` (e.g. 451 transient, 550 permanent). */
  rejectNext(code: number, text: string): void {
    this.reject = { code, text };
  }

  close(): Promise<void> {
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}

/** A header's value from a raw message (unfolded). */
export function mailHeader(raw: string, name: string): string | undefined {
  const head = raw.split(/\r?\n\r?\n/)[0] ?? "";
  const unfolded = head.replace(/\r?\n[ \t]+/g, " ");
  const line = unfolded
    .split(/\r?\n/)
    .find((l) => l.toLowerCase().startsWith(`${name.toLowerCase()}:`));
  return line?.slice(name.length + 1).trim();
}

/** The text body of a raw single-part message, quoted-printable decoded. */
export function mailText(raw: string): string {
  const body = raw
    .split(/\r?\n\r?\n/)
    .slice(1)
    .join("\n\n");
  const bytes = body
    .replace(/=\r?\n/g, "")
    .replace(/=([0-9A-F]{2})/g, (_m, hex: string) => String.fromCharCode(Number.parseInt(hex, 16)));
  return Buffer.from(bytes, "latin1").toString("utf8");
}
