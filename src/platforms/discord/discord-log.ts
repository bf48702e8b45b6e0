/** The logging the Discord front end does; a pino logger fits it. */
export interface DiscordLog {
  debug(details: object, message: string): void;
  info(details: object, message: string): void;
  warn(details: object, message: string): void;
  error(details: object, message: string): void;
}

/** Drops everything (tests, and callers that pass no logger). */
export const silentLog: DiscordLog = {
  debug: () => {},
  info: () => {},
  warn: () => {},
  error: () => {},
};

/** An error as log details, without anything that could hold a token (request bodies, headers). */
export function errorDetails(error: unknown): Record<string, unknown> {
  if (!(error instanceof Error)) return { error: String(error) };
  const { status, code } = error as { status?: unknown; code?: unknown };
  return {
    error: error.message,
    name: error.name,
    ...(status !== undefined ? { status } : {}),
    ...(code !== undefined ? { code } : {}),
  };
}
