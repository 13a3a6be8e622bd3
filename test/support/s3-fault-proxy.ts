// Test helper: an HTTP proxy in front of an S3 endpoint that injects faults into a seeded fraction of requests.
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { forwardRequest, listenOnLoopback, upstreamOf } from './http-forward.ts';
import type { ProxiedRequestInfo, RequestPredicate } from './s3-gate-proxy.ts';
import { type Random, seededRandom } from './seeded-random.ts';

/**
 * - `500` / `503`: answered by the proxy with an S3 error document; nothing reaches the store.
 * - `stall`: never answered in full (until the proxy closes): an unresponsive store. A GET gets
 *   its headers and half its body, then nothing more; any other request is never forwarded.
 * - `reset`: the connection is dropped, either before forwarding (nothing written) or after the
 *   store answered (the write happened, the client does not know): both chosen by the seed.
 * - `truncate`: a GET answer is cut half way through its body, then the connection dropped.
 */
export type FaultKind = '500' | '503' | 'stall' | 'reset' | 'truncate';

export const FAULT_KINDS: readonly FaultKind[] = ['500', '503', 'stall', 'reset', 'truncate'];

export interface FaultPlan {
  /** Fraction of matching requests that get a fault, 0..1. */
  readonly rate: number;
  /** Faults to choose from (uniformly, by the seed). */
  readonly kinds: readonly FaultKind[];
  /** Which requests may get a fault (default: every one). */
  readonly match?: RequestPredicate;
}

export interface S3FaultProxy {
  /** e.g. `http://127.0.0.1:40123`: use as the S3 endpoint. */
  readonly endpoint: string;
  readonly seed: number;
  /** Faults injected so far, per kind. */
  readonly injected: Readonly<Record<FaultKind, number>>;
  /** Requests seen so far. */
  readonly requests: number;
  /** Replaces the fault plan; `undefined` forwards everything untouched. */
  setPlan(plan: FaultPlan | undefined): void;
  /** Drops every connection (stalled ones too) and closes the server. */
  close(): Promise<void>;
}

const errorBody = (code: string) =>
  `<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>${code}</Code><Message>injected by the test proxy</Message></Error>`;

/**
 * Starts a fault-injecting proxy on 127.0.0.1 (port chosen by the OS) forwarding to `target`.
 * Which requests get which fault follows a PRNG seeded with `seed`, so a failing run can print
 * its seed (requests from several threads arrive in varying order, so a replay draws the same
 * sequence of decisions, not necessarily for the same requests).
 *
 * @example
 * ```ts
 * const proxy = await startS3FaultProxy(s3.endpoint, 1234);
 * proxy.setPlan({ rate: 0.15, kinds: ['500', 'reset'] });
 * // ... run a job with s3: { endpoint: proxy.endpoint, ... }
 * console.log(proxy.injected);
 * await proxy.close();
 * ```
 */
export async function startS3FaultProxy(target: string, seed: number): Promise<S3FaultProxy> {
  const upstream = upstreamOf(target);
  const random: Random = seededRandom(seed);
  const injected: Record<FaultKind, number> = { '500': 0, '503': 0, stall: 0, reset: 0, truncate: 0 };
  const sockets = new Set<Socket>();
  let plan: FaultPlan | undefined;
  let requests = 0;

  const choose = (info: ProxiedRequestInfo): FaultKind | undefined => {
    if (!plan || plan.kinds.length === 0 || (plan.match && !plan.match(info))) return undefined;
    if (random() >= plan.rate) return undefined;
    const kind = plan.kinds[Math.floor(random() * plan.kinds.length)];
    // Only a GET answer has a body worth cutting.
    if (kind === 'truncate' && info.method !== 'GET') return undefined;
    return kind;
  };

  const forward = (req: IncomingMessage, res: ServerResponse, onAnswer?: (answer: IncomingMessage) => boolean) => forwardRequest(upstream, req, res, onAnswer);

  const server = createServer((req, res) => {
    requests++;
    const info: ProxiedRequestInfo = { method: req.method ?? 'GET', path: req.url ?? '/', headers: req.headers };
    const kind = choose(info);
    if (kind !== undefined) injected[kind]++;
    switch (kind) {
      case undefined:
        forward(req, res);
        return;
      case '500':
      case '503':
        req.resume();
        req.on('end', () => {
          const code = kind === '500' ? 'InternalError' : 'ServiceUnavailable';
          res.writeHead(Number(kind), { 'content-type': 'application/xml', connection: 'close' }).end(errorBody(code));
        });
        return;
      case 'stall':
        if (info.method === 'GET') {
          forward(req, res, (answer) => cutBody(answer, res, 'hang'));
          return;
        }
        // Held with its body unread: the store never sees it, the client never hears back.
        req.pause();
        return;
      case 'reset':
        if (random() < 0.5) {
          req.socket.destroy();
          return;
        }
        // The store does the work; the answer is lost.
        forward(req, res, (answer) => {
          answer.resume();
          answer.on('end', () => res.socket?.destroy());
          return true;
        });
        return;
      case 'truncate':
        forward(req, res, (answer) => cutBody(answer, res, 'drop'));
        return;
    }
  });
  /** Sends the headers and half the body of a 2xx answer, then drops the connection or leaves it hanging. */
  const cutBody = (answer: IncomingMessage, res: ServerResponse, then: 'drop' | 'hang'): boolean => {
    const length = Number(answer.headers['content-length'] ?? 0);
    if ((answer.statusCode ?? 0) >= 300 || length < 2) return false;
    res.writeHead(answer.statusCode ?? 200, answer.headers);
    let sent = 0;
    const half = Math.floor(length / 2);
    const end = () => {
      if (then === 'drop') res.socket?.destroy();
    };
    answer.on('data', (chunk: Buffer) => {
      if (sent >= half) return;
      const part = chunk.subarray(0, Math.max(0, half - sent));
      sent += part.length;
      res.write(part);
      if (sent >= half) end();
    });
    answer.on('end', end);
    return true;
  };

  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });

  const endpoint = await listenOnLoopback(server);
  return {
    endpoint,
    seed,
    injected,
    get requests() {
      return requests;
    },
    setPlan(next) {
      plan = next;
    },
    async close() {
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      for (const socket of sockets) socket.destroy();
      upstream.agent.destroy();
      await closed;
    },
  };
}
