import { hostname } from "node:os";
import type { Config } from "../config/schema.ts";

/**
 * The host a run trains on, as incident tools and the DCGM exporter's `Hostname` name it: the
 * SSH host of a remote run, this machine's name for a local one.
 */
export function runNode(config: Pick<Config, "runs">, run: string): string {
  const ssh = config.runs.find((r) => r.name === run)?.ssh;
  if (ssh === undefined || ssh === "local") return hostname();
  return ssh.host;
}
