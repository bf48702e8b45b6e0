import { type Logger, LogLevel } from "@slack/bolt";

/** The log the Slack front end writes to; pino's logger fits. */
export interface SlackLog {
  debug(msg: string): void;
  info(msg: string): void;
  warn(msg: string): void;
  error(msg: string): void;
}

/** A log that drops everything (the default when none is given). */
export const silentLog: SlackLog = { debug() {}, info() {}, warn() {}, error() {} };

const TOKEN = /\bx(?:ox[abposr]|app)-[A-Za-z0-9-]+/g;

/** Removes Slack tokens from a line before it reaches any log. */
export function redactTokens(text: string): string {
  return text.replace(TOKEN, (token) => `${token.slice(0, 5)}…redacted`);
}

function line(parts: unknown[]): string {
  return redactTokens(
    parts
      .map((part) =>
        part instanceof Error
          ? part.message
          : typeof part === "string"
            ? part
            : JSON.stringify(part),
      )
      .join(" "),
  );
}

/**
 * Bolt's, Socket Mode's and the Web API client's logs, routed into ours with tokens removed.
 * Their `info` chatter (connection state) goes to our debug level, their errors to warn.
 */
export function boltLogger(log: SlackLog): Logger {
  let level = LogLevel.INFO;
  return {
    debug: (...msg: unknown[]) => {
      if (level === LogLevel.DEBUG) log.debug(line(msg));
    },
    info: (...msg: unknown[]) => log.debug(line(msg)),
    warn: (...msg: unknown[]) => log.warn(line(msg)),
    // Socket Mode reports every failed connection attempt as an error; the connection keeper
    // says what matters (unreachable, refused token), so these stay warnings.
    error: (...msg: unknown[]) => log.warn(line(msg)),
    setLevel: (next: LogLevel) => {
      level = next;
    },
    getLevel: () => level,
    setName: () => {},
  };
}
