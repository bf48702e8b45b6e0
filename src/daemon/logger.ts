import pino, { type Logger } from "pino";
import pretty from "pino-pretty";

/** Keys whose values never reach a log line, wherever they appear in a logged object. */
const REDACT_PATHS = [
  "token",
  "*.token",
  "botToken",
  "*.botToken",
  "appToken",
  "*.appToken",
  "signingSecret",
  "*.signingSecret",
  "passphrase",
  "*.passphrase",
  "password",
  "*.password",
  "privateKey",
  "*.privateKey",
  "authorization",
  "*.authorization",
  "headers.authorization",
  "url",
  "*.url",
  // Alert channels' secrets (PagerDuty, Opsgenie, the JSON webhook's HMAC key).
  "routingKey",
  "*.routingKey",
  "apiKey",
  "*.apiKey",
  "secret",
  "*.secret",
];

export interface LoggerOptions {
  level: string;
  /** Pretty, coloured lines for people at a terminal; JSON lines otherwise (for collectors). */
  pretty: boolean;
  /** Colours in pretty output (default true); callers pass the NO_COLOR/FORCE_COLOR verdict. */
  color?: boolean;
  /** Where lines go; stderr by default so stdout stays for command output. */
  destination?: NodeJS.WritableStream;
}

/**
 * The daemon's structured logger. Secrets (tokens, keys, webhook URLs, which carry their own
 * secret) are redacted by key name.
 */
export function createLogger(options: LoggerOptions): Logger {
  const destination = options.destination ?? process.stderr;
  const base = {
    level: options.level,
    redact: { paths: REDACT_PATHS, censor: "[redacted]" },
    base: undefined,
  };
  if (options.pretty) {
    // In-process prettifier: no worker thread to outlive a clean shutdown.
    return pino(
      base,
      pretty({
        destination: destination as NodeJS.WritableStream & { fd?: number },
        colorize: options.color ?? true,
        translateTime: "SYS:HH:MM:ss",
        ignore: "pid,hostname",
        sync: true,
      }),
    );
  }
  return pino(base, destination as pino.DestinationStream);
}
