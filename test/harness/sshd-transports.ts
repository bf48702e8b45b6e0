import { afterAll, beforeAll } from "vitest";
import type { SshTarget } from "../../src/config/schema.ts";
import { SshTransport, type SshTransportOptions } from "../../src/transport/ssh-transport.ts";
import { type SshdHarness, startSshd } from "./sshd.ts";

/** One real sshd for a whole test file, and SSH transports to it that close after its tests. */
export interface SshdTransports {
  /** The file's sshd (started before its first test). */
  readonly sshd: SshdHarness;
  /** The `ssh:` settings that reach the sshd, with `extra` over them. */
  target(extra?: Partial<SshTarget>): SshTarget;
  /**
   * The settings that reach the sshd through `port` (a relay in front of it): known_hosts lists
   * the server under its own port, so its host key is pinned instead.
   */
  viaPort(port: number): Partial<SshTarget>;
  /**
   * A transport to the sshd (its `~` the sshd's folder), with `extra` over the target and
   * `options` over the transport's; closed after the file's last test.
   */
  transport(extra?: Partial<SshTarget>, options?: SshTransportOptions): SshTransport;
  /** Closes `transport` (one to another server) after the file's last test, with the others. */
  closeAfterAll(transport: SshTransport): SshTransport;
}

/**
 * Starts one sshd in `beforeAll`, and closes the transports opened to it and stops it in
 * `afterAll`: the set-up of the test files that drive SshTransport against a real server. Call
 * it at a test file's top level.
 */
export function useSshdTransports(): SshdTransports {
  let sshd: SshdHarness | undefined;
  const open: SshTransport[] = [];
  beforeAll(async () => {
    sshd = await startSshd();
  });
  afterAll(async () => {
    await Promise.all(open.map((t) => t.close()));
    await sshd?.stop();
  });
  const started = (): SshdHarness => {
    if (sshd === undefined) throw new Error("the sshd starts in beforeAll");
    return sshd;
  };
  const target = (extra: Partial<SshTarget> = {}): SshTarget => ({
    ...started().runConfigSsh(),
    ...extra,
  });
  return {
    get sshd() {
      return started();
    },
    target,
    viaPort: (port) => ({ port, knownHosts: undefined, hostKey: started().hostKeyFingerprint }),
    transport(extra = {}, options = {}) {
      const t = new SshTransport(target(extra), { home: started().dir, ...options });
      open.push(t);
      return t;
    },
    closeAfterAll(t) {
      open.push(t);
      return t;
    },
  };
}
