import type { RunConfig } from "../config/schema.ts";
import { parseDuration } from "../core/duration.ts";
import { LocalTransport } from "./local-transport.ts";
import { SshTransport, type SshTransportOptions } from "./ssh-transport.ts";
import type { Transport } from "./transport.ts";

/** The transport a run's `ssh:` setting asks for: local shell for `ssh: local`, else SSH. */
export function createTransport(run: RunConfig, options: SshTransportOptions = {}): Transport {
  if (run.ssh === "local") return new LocalTransport();
  return new SshTransport(run.ssh, options);
}

/** Default script timeout of a run, for callers that pass their own per call. */
export function execTimeoutMs(run: RunConfig): number {
  return run.ssh === "local" ? 30_000 : parseDuration(run.ssh.execTimeout);
}
