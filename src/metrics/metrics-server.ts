// A minimal HTTP endpoint for Prometheus: GET /metrics answers with the registry's text format.
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Registry } from 'prom-client';
import { MetricsServerError } from './errors.ts';
import type { MetricsServer } from './types.ts';

/**
 * Serves `registry` at `http://host:port/metrics` (GET or HEAD; anything else is 404, or 405 for
 * another method on /metrics). Port 0 picks a free port; the resolved server tells which. Binds to
 * loopback unless told otherwise: metrics name jobs and operators, not for every network.
 *
 * @example
 * const server = await startMetricsServer(registry, 0);
 * console.log(`metrics at ${server.url}`);
 * // ...
 * await server.close();
 */
export async function startMetricsServer(registry: Registry, port: number, host = '127.0.0.1'): Promise<MetricsServer> {
  const server = createServer((req, res) => {
    respond(registry, req, res).catch((error: unknown) => {
      if (!res.headersSent) res.writeHead(500, { 'content-type': 'text/plain; charset=utf-8' });
      res.end(`metrics collection failed: ${(error as Error)?.message ?? String(error)}\n`);
    });
  });
  await new Promise<void>((resolve, reject) => {
    const onError = (error: unknown) => reject(new MetricsServerError(host, port, { cause: error }));
    server.once('error', onError);
    server.listen(port, host, () => {
      server.off('error', onError);
      resolve();
    });
  });
  const bound = (server.address() as AddressInfo).port;
  const shownHost = host.includes(':') ? `[${host}]` : host;
  return {
    port: bound,
    host,
    url: `http://${shownHost}:${bound}/metrics`,
    close: () =>
      new Promise<void>((resolve, reject) => {
        // A scraper's keep-alive connection must not hold the close open.
        server.closeAllConnections();
        server.close((error) => (error ? reject(error) : resolve()));
      }),
  };
}

async function respond(registry: Registry, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const path = (req.url ?? '/').split('?')[0];
  if (path !== '/metrics') {
    res.writeHead(404, { 'content-type': 'text/plain; charset=utf-8' });
    res.end('not found: metrics are at /metrics\n');
    return;
  }
  if (req.method !== 'GET' && req.method !== 'HEAD') {
    res.writeHead(405, { 'content-type': 'text/plain; charset=utf-8', allow: 'GET, HEAD' });
    res.end('method not allowed\n');
    return;
  }
  const body = await registry.metrics();
  res.writeHead(200, { 'content-type': registry.contentType });
  res.end(req.method === 'HEAD' ? undefined : body);
}
