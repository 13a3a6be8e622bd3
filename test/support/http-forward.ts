// Test helper: the forwarding the S3 test proxies share (one upstream, requests and answers streamed through).
import { Agent, type IncomingHttpHeaders, type IncomingMessage, request, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/** Where a proxy sends requests, over one keep-alive agent. */
export interface Upstream {
  readonly host: string;
  readonly port: string;
  readonly agent: Agent;
}

/** @example const upstream = upstreamOf('http://127.0.0.1:4568'); */
export function upstreamOf(target: string): Upstream {
  const url = new URL(target);
  return { host: url.hostname, port: url.port, agent: new Agent({ keepAlive: true }) };
}

/**
 * Sends `req` on to `upstream` (method, path, headers unchanged unless `headers` is given; the
 * body streamed) and the answer back to `res`. `onAnswer` may take over the answer (return true);
 * otherwise it is piped to the client. A failed connection upstream answers 502 (or drops the
 * client's connection if the answer had begun).
 *
 * @example forwardRequest(upstream, req, res);
 */
export function forwardRequest(
  upstream: Upstream,
  req: IncomingMessage,
  res: ServerResponse,
  onAnswer?: (answer: IncomingMessage) => boolean,
  headers: IncomingHttpHeaders = req.headers,
): void {
  const out = request({ agent: upstream.agent, host: upstream.host, port: upstream.port, method: req.method, path: req.url, headers }, (answer) => {
    if (onAnswer?.(answer)) return;
    res.writeHead(answer.statusCode ?? 502, answer.headers);
    answer.pipe(res);
    answer.on('error', () => res.destroy());
  });
  out.on('error', () => {
    if (!res.headersSent) res.writeHead(502).end();
    else res.destroy();
  });
  req.pipe(out);
  req.on('error', () => out.destroy());
}

/** Listens on 127.0.0.1 (a port the OS picks); resolves with `http://127.0.0.1:<port>`. */
export async function listenOnLoopback(server: Server): Promise<string> {
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}
