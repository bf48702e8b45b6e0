import { readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

/** The package's name and version, read from the package.json this code ships in. */
export interface BuildInfo {
  version: string;
}

let cached: BuildInfo | null = null;

/**
 * The version in trainops' own package.json, found by walking up from this file (the same
 * from the TypeScript sources and from a compiled copy); "unknown" when none is found.
 */
export function buildInfo(): BuildInfo {
  if (cached) return cached;
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 6; i++) {
    try {
      const pkg = JSON.parse(readFileSync(join(dir, "package.json"), "utf8")) as {
        name?: string;
        version?: string;
      };
      if (pkg.name === "trainops" && pkg.version) {
        cached = { version: pkg.version };
        return cached;
      }
    } catch {
      // no package.json here: look further up
    }
    const parent = dirname(dir);
    if (parent === dir) break;
    dir = parent;
  }
  cached = { version: "unknown" };
  return cached;
}
