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
  /**
   * A network partition: from now on nothing passes on any connection, current or new (new ones are
   * accepted and go nowhere), and nothing is closed either; until `heal`, which drops the held
   * connections (both ends closed, as a client's timeout would) and lets new ones through again.
   */
  partition(): { heal(): void };
  /** Resolves once `count` more connections have been accepted (from now), e.g. a client's retries while its server is down. */
  accepted(count: number): Promise<void>;
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
  let partitioned = false;
  let acceptedCount = 0;
  const acceptWaiters: Array<{ until: number; resolve: () => void }> = [];
  const dropHeld = () => {
    for (const pair of [...pairs]) {
      if (!pair.held) continue;
      pairs.delete(pair);
      pair.client.destroy();
      pair.upstream.destroy();
    }
  };
  // Half-open allowed, and each end's FIN forwarded by hand: on a held connection a client's FIN
  // (pg's end()) gets no answer, as across a real partition, instead of Node closing the socket for it.
  const server: Server = createServer({ allowHalfOpen: true }, (client) => {
    const upstream = connect({ port: targetPort, host: '127.0.0.1', allowHalfOpen: true });
    const pair: Pair = { client, upstream, held: partitioned };
    pairs.add(pair);
    acceptedCount++;
    for (const w of acceptWaiters.filter((w) => w.until <= acceptedCount)) {
      acceptWaiters.splice(acceptWaiters.indexOf(w), 1);
      w.resolve();
    }
    const end = () => {
      pairs.delete(pair);
      client.destroy();
      upstream.destroy();
    };
    client.on('error', end);
    upstream.on('error', end);
    client.on('close', end);
    upstream.on('close', end);
    client.on('end', () => {
      if (!pair.held) upstream.end();
    });
    upstream.on('end', () => {
      if (!pair.held) client.end();
    });
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
    dropHeld,
    accepted(count) {
      return new Promise((resolve) => acceptWaiters.push({ until: acceptedCount + count, resolve }));
    },
    partition() {
      partitioned = true;
      for (const pair of pairs) pair.held = true;
      return {
        heal() {
          partitioned = false;
          dropHeld();
        },
      };
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
