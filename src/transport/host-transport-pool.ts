import type { RunConfig } from "../config/schema.ts";
import { createConnectGate } from "./connect-gate.ts";
import { createTransport } from "./create-transport.ts";
import { HostFollows, type MultiFollowTransport } from "./host-follows.ts";
import type { SshTransportOptions } from "./ssh-transport.ts";
import type {
  ExecOptions,
  ExecResult,
  FollowHandle,
  FollowOptions,
  Transport,
} from "./transport.ts";

/**
 * One transport per host: runs whose `ssh:` settings are the same (address, port, user, key,
 * jump host, timeouts) share one SSH connection and its one long-lived remote shell, so a VM
 * with ten runs gets one connection and one probe at a time instead of ten of each. What each
 * run gets is a handle; the connection closes when the last handle of it is closed.
 *
 * Scripts of runs on one host queue on the shared shell, and their follow streams share one
 * channel (see HostFollows), and their follow reads share one urgent shell (see
 * ExecOptions.urgent): a host costs three of sshd's sessions (MaxSessions, 10 by default)
 * whatever its number of runs (see the README).
 */
export class HostTransportPool {
  private readonly hosts = new Map<
    string,
    { transport: Transport; users: number; follows: HostFollows | null }
  >();

  /** At most 4 handshakes at once, whatever the number of hosts (see createConnectGate). */
  private readonly gate = createConnectGate(4);

  constructor(
    private readonly create: (
      run: RunConfig,
      options: SshTransportOptions,
    ) => Transport = createTransport,
  ) {}

  /** A handle on the transport of the run's host, opening it for the first run of the host. */
  get(run: RunConfig): Transport {
    // `ssh: local` runs share nothing worth pooling: each gets its own local transport.
    if (run.ssh === "local") return this.create(run, {});
    const key = hostKey(run);
    let host = this.hosts.get(key);
    if (!host) {
      const transport = this.create(run, { connectGate: this.gate });
      host = {
        transport,
        users: 0,
        follows: transport.followMany ? new HostFollows(transport as MultiFollowTransport) : null,
      };
      this.hosts.set(key, host);
    }
    host.users += 1;
    return new SharedTransport(host.transport, host.follows, () => {
      const current = this.hosts.get(key);
      if (!current) return Promise.resolve();
      current.users -= 1;
      if (current.users > 0) return Promise.resolve();
      this.hosts.delete(key);
      return (current.follows?.close() ?? Promise.resolve()).then(() => current.transport.close());
    });
  }

  /** Number of distinct hosts (connections) the pool holds. */
  get size(): number {
    return this.hosts.size;
  }
}

/**
 * The connection a pooled handle shares (the same object for every run of one host), or null
 * for a transport that is not from a pool: what tells which runs one probe can serve together.
 */
export function sharedConnectionOf(transport: Transport): Transport | null {
  return transport instanceof SharedTransport ? transport.connection : null;
}

/**
 * What makes two runs' connections interchangeable: their whole parsed `ssh:` object (the
 * schema gives it the same key order whatever order the YAML used).
 */
function hostKey(run: RunConfig): string {
  return JSON.stringify(run.ssh);
}

/** A run's handle on a shared transport; closing it releases the run's share once. */
class SharedTransport implements Transport {
  private released = false;

  constructor(
    private readonly inner: Transport,
    private readonly follows: HostFollows | null,
    private readonly release: () => Promise<void>,
  ) {}

  /** The host's transport behind this handle. */
  get connection(): Transport {
    return this.inner;
  }

  get description(): string {
    return this.inner.description;
  }

  run(script: string, options?: ExecOptions): Promise<ExecResult> {
    return this.inner.run(script, options);
  }

  /** On the host's one shared follow channel when the transport has one (see HostFollows). */
  follow(options: FollowOptions): Promise<FollowHandle> {
    if (this.follows) return Promise.resolve(this.follows.add(options));
    return this.inner.follow(options);
  }

  close(): Promise<void> {
    if (this.released) return Promise.resolve();
    this.released = true;
    return this.release();
  }
}
