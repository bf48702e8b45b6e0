import { execFile } from "node:child_process";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";

const BUILD = fileURLToPath(new URL("../scripts/build.mjs", import.meta.url));

/**
 * Builds the CLI bundle (dist/, the build `npm ci` runs through `prepare`) from the sources as
 * they are, once before any test file runs: the tests' CLI processes then load a few files
 * instead of transpiling hundreds at every start, and never meet a stale bundle.
 */
export default async function setup(): Promise<void> {
  await promisify(execFile)(process.execPath, [BUILD]);
}
