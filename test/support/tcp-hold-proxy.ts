// Test helper: a TCP proxy on 127.0.0.1 that forwards to a server and can hold a connection at the
// first client message matching a pattern (e.g. PostgreSQL's `COMMIT PREPARED`), so a test can
// kill a job at exactly that point, an event rather than a guess.
import { createServer, type Server, type Socket, connect } from 'node:net';

export interface TcpHoldProxy {
  /** e.g. 40123: point the client at 127.0.0.1:<port>. */
  readonly port: number;
  /**
   * From now on, the first client→server chunk whose text matches `pattern` is not forwarded: its
   * connection stops there (nothing more passes either way). Resolves with the matched text once held.
   */
  holdNext(pattern: RegExp): Promise<string>;
  /** Connections currently held. */
  readonly heldCount: number;
  /** Drops held connections (both ends closed): what was held never reaches the server. */
  dropHeld(): void;
  close(): Promise<void>;
}

interface Pair {
  readonly client: Socket;
  readonly upstream: Socket;
  held: boolean;
}

/**
 * Starts a proxy in front of `127.0.0.1:targetPort`.
 *
 * @example
 * ```ts
 * const proxy = await startTcpHoldProxy(pg.port);
 * const held = proxy.holdNext(/COMMIT PREPARED/);
 * // ... the sink connects to proxy.port; await held; kill the job; proxy.dropHeld();
 * ```
 */
export async function startTcpHoldProxy(targetPort: number): Promise<TcpHoldProxy> {
  const pairs = new Set<Pair>();
  let armed: { pattern: RegExp; resolve: (text: string) => void } | undefined;
  const server: Server = createServer((client) => {
    const upstream = connect(targetPort, '127.0.0.1');
    const pair: Pair = { client, upstream, held: false };
    pairs.add(pair);
    const end = () => {
      pairs.delete(pair);
      client.destroy();
      upstream.destroy();
    };
    client.on('error', end);
    upstream.on('error', end);
    client.on('close', end);
    upstream.on('close', end);
    client.on('data', (chunk: Buffer) => {
      if (pair.held) return;
      const pending = armed;
      if (pending?.pattern.test(chunk.toString('latin1'))) {
        const { resolve } = pending;
        armed = undefined;
        pair.held = true;
        resolve(chunk.toString('latin1').replace(/[^\x20-\x7e]/g, ''));
        return;
      }
      upstream.write(chunk);
    });
    upstream.on('data', (chunk: Buffer) => {
      if (!pair.held) client.write(chunk);
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const address = server.address();
  const port = typeof address === 'object' && address !== null ? address.port : 0;
  return {
    port,
    holdNext(pattern) {
      return new Promise((resolve) => {
        armed = { pattern, resolve };
      });
    },
    get heldCount() {
      return [...pairs].filter((p) => p.held).length;
    },
    dropHeld() {
      for (const pair of [...pairs]) {
        if (!pair.held) continue;
        pairs.delete(pair);
        pair.client.destroy();
        pair.upstream.destroy();
      }
    },
    async close() {
      for (const pair of pairs) {
        pair.client.destroy();
        pair.upstream.destroy();
      }
      pairs.clear();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
