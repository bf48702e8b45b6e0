/**
 * Whether to colour output for `stream`, by the common conventions: `FORCE_COLOR` (any value
 * but `0` or `false`) forces colour on, `NO_COLOR` (any non-empty value, no-color.org) turns
 * it off, and otherwise colour goes only to a terminal.
 */
export function colorEnabled(
  stream: { isTTY?: boolean },
  env: NodeJS.ProcessEnv = process.env,
): boolean {
  const force = env.FORCE_COLOR;
  if (force !== undefined) return force !== "0" && force.toLowerCase() !== "false";
  if (env.NO_COLOR !== undefined && env.NO_COLOR !== "") return false;
  return Boolean(stream.isTTY);
}
