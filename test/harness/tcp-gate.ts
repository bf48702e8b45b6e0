import { connect, createServer, type Server, type Socket } from "node:net";

/**
 * A TCP relay in front of a server that counts every connection attempt and, while `open` is
 * false, hangs up on each at once (a VM whose sshd is down behind a live address).
 */
export class TcpGate {
  open = true;
  /** When each connection attempt came (ms since the epoch), refused ones included. */
  readonly attempts: number[] = [];
  private readonly sockets = new Set<Socket>();

  private constructor(
    private readonly server: Server,
    readonly port: number,
  ) {}

  static async start(targetPort: number): Promise<TcpGate> {
    let gate: TcpGate | undefined;
    const server = createServer((client) => {
      if (!gate) return void client.destroy();
      gate.attempts.push(Date.now());
      client.on("error", () => {});
      if (!gate.open) return void client.destroy();
      const upstream = connect(targetPort, "127.0.0.1");
      upstream.on("error", () => {});
      for (const socket of [client, upstream]) {
        gate.sockets.add(socket);
        socket.on("close", () => gate?.sockets.delete(socket));
      }
      client.pipe(upstream);
      upstream.pipe(client);
      client.on("close", () => upstream.destroy());
      upstream.on("close", () => client.destroy());
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    gate = new TcpGate(server, (server.address() as { port: number }).port);
    return gate;
  }

  /** Cuts every relayed connection (the gate stays as `open` says for new ones). */
  cutAll(): void {
    for (const socket of this.sockets) socket.destroy();
  }

  async stop(): Promise<void> {
    this.cutAll();
    await new Promise((resolve) => this.server.close(resolve));
  }
}
