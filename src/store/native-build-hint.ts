/**
 * The fix for a better-sqlite3 binary that does not load in this Node, or null when the error
 * is not that. Typical cause: it was compiled against other Node headers (`nodedir` pointing at
 * the system Node while nvm or volta runs another), or for another Node version.
 */
export function nativeBuildHint(error: Error & { code?: string }): string | null {
  const text = error.message;
  const mismatch =
    error.code === "ERR_DLOPEN_FAILED" ||
    /NODE_MODULE_VERSION|was compiled against a different Node\.js version|Could not locate the bindings file|invalid ELF header|undefined symbol/i.test(
      text,
    );
  if (!mismatch) return null;
  return [
    `better-sqlite3's native module does not load in this Node (${process.version}, ${process.execPath}).`,
    "Rebuild it against this Node's own headers:",
    `  npm_config_nodedir="${nodePrefix()}" npm rebuild better-sqlite3`,
    "(nvm, volta and the official tarballs keep the headers next to node, not in /usr).",
  ].join("\n");
}

/** The installation prefix of the running Node: `<prefix>/bin/node`, headers in `<prefix>/include/node`. */
export function nodePrefix(execPath: string = process.execPath): string {
  return execPath.replace(/\/bin\/[^/]+$/, "");
}
