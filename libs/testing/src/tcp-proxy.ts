import { createServer, createConnection, type Server, type Socket } from 'node:net';

/**
 * A TCP relay between a client and a real server, for fault injection: `dropConnections()` cuts
 * every live connection (the client sees a network failure and reconnects through the proxy),
 * `pause()` refuses new ones until `resume()`, `cutOnServerChunk()` loses one reply on the way.
 */
export class TcpProxy {
  private readonly sockets = new Set<Socket>();
  private accepting = true;
  private trap?: { matches(chunk: Buffer): boolean; sprung(): void };
  private constructor(
    private readonly server: Server,
    readonly port: number,
  ) {}

  static async start(target: { host: string; port: number }): Promise<TcpProxy> {
    const self: { proxy?: TcpProxy } = {};
    const server = createServer((client) => {
      const proxy = self.proxy;
      if (!proxy?.accepting) {
        client.destroy();
        return;
      }
      const upstream = createConnection(target);
      proxy.track(client);
      proxy.track(upstream);
      const close = () => {
        client.destroy();
        upstream.destroy();
      };
      client.pipe(upstream);
      upstream.on('data', (chunk: Buffer) => {
        const trap = proxy.trap;
        if (trap?.matches(chunk)) {
          proxy.trap = undefined;
          close();
          trap.sprung();
          return;
        }
        if (!client.write(chunk)) {
          upstream.pause();
          client.once('drain', () => upstream.resume());
        }
      });
      client.on('error', close).on('close', close);
      upstream.on('error', close).on('close', close);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const address = server.address();
    if (address === null || typeof address === 'string') throw new Error('proxy has no port');
    self.proxy = new TcpProxy(server, address.port);
    return self.proxy;
  }

  get url(): string {
    return `nats://127.0.0.1:${this.port}`;
  }

  get connections(): number {
    return this.sockets.size;
  }

  dropConnections(): void {
    for (const socket of this.sockets) socket.destroy();
    this.sockets.clear();
  }

  /**
   * Cuts the connection that next carries a chunk from the server that `matches` accepts, instead
   * of passing the chunk on: the client never sees what was in it (an ack, a reply) and reconnects.
   * Resolves once it has cut.
   */
  cutOnServerChunk(matches: (chunk: Buffer) => boolean): Promise<void> {
    return new Promise((resolve) => (this.trap = { matches, sprung: resolve }));
  }

  pause(): void {
    this.accepting = false;
    this.dropConnections();
  }

  resume(): void {
    this.accepting = true;
  }

  async stop(): Promise<void> {
    this.dropConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private track(socket: Socket): void {
    this.sockets.add(socket);
    socket.on('close', () => this.sockets.delete(socket));
  }
}
