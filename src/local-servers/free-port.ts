// A TCP port on 127.0.0.1 that was free a moment ago, for servers that cannot bind port 0 themselves.
import { createServer } from 'node:net';
import { BatonInternalError } from '../errors/index.ts';

/**
 * Asks the OS for a free port on 127.0.0.1 and releases it. Another process may take it before the
 * caller binds it, so callers retry on a bind failure (see startRedisServer, startPostgresServer).
 *
 * @example const port = await freePort();
 */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address !== null ? address.port : 0;
      server.close(() => (port > 0 ? resolve(port) : reject(new BatonInternalError('no port assigned'))));
    });
  });
}
