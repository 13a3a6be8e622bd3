// Test helper: AWS S3's conditional-write semantics (PUT with If-None-Match: *) in front of s3rver, which ignores the header.
import { createServer, type IncomingHttpHeaders, type IncomingMessage, request, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { forwardRequest, listenOnLoopback, type Upstream, upstreamOf } from './http-forward.ts';

export interface S3ConditionalProxy {
  /** e.g. `http://127.0.0.1:40123`: use as the S3 endpoint instead of s3rver's. */
  readonly endpoint: string;
  /** Conditional PUTs seen, and how many of them were refused with 412 because the key existed. */
  readonly conditional: { readonly puts: number; readonly refused: number };
  close(): Promise<void>;
}

/** One request as the proxy saw it: from its arrival to the end of its answer (epoch ms). For benches that look at the traffic. */
export interface ProxiedExchange {
  readonly method: string;
  /** The request's path and query, e.g. `/bucket/jobs/j1/chk-4/_metadata`. */
  readonly url: string;
  readonly status: number;
  readonly receivedAt: number;
  readonly answeredAt: number;
}

const PRECONDITION_FAILED =
  '<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>PreconditionFailed</Code><Message>At least one of the pre-conditions you specified did not hold</Message><Condition>If-None-Match</Condition></Error>';

const INTERNAL_ERROR = '<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>InternalError</Code><Message>the proxy could not check the key</Message></Error>';

/** Headers a HEAD of the same object needs to be let in by s3rver (it checks the access key, not the signature). */
const AUTH_HEADERS = ['authorization', 'x-amz-date', 'x-amz-security-token', 'x-amz-content-sha256', 'host'] as const;

/**
 * Starts a proxy on 127.0.0.1 in front of `target` (an s3rver endpoint) that gives a PUT carrying
 * `If-None-Match: *` the semantics AWS S3 has had since 2024 (and MinIO, R2 and others): the
 * object is created only if the key is absent, otherwise the answer is 412 PreconditionFailed
 * and nothing is written. How: every write (PUT, DELETE) of one key passes one at a time (a queue
 * per key, so a check and its write are never interleaved with another write of the key); a
 * conditional PUT first HEADs the key at s3rver, answers 412 if it exists, else forwards the PUT
 * and holds the key until s3rver answered. Everything else is forwarded untouched. It does not
 * cover multi-object deletes (`POST ?delete`), which baton never races with a create, nor
 * 409 ConditionalRequestConflict (real S3's answer to overlapping conditional writes: here they
 * simply wait their turn).
 *
 * @example
 * ```ts
 * const s3 = await startS3rver();
 * const proxy = await startS3ConditionalProxy(s3.endpoint);
 * const storage = new S3Storage(`s3://${s3.bucket}/jobs`, { endpoint: proxy.endpoint, credentials: s3.credentials });
 * await storage.putIfAbsent('a', bytes); // true
 * await storage.putIfAbsent('a', bytes); // false (412)
 * ```
 */
export async function startS3ConditionalProxy(target: string, options: { readonly onExchange?: (exchange: ProxiedExchange) => void } = {}): Promise<S3ConditionalProxy> {
  const upstream = upstreamOf(target);
  const queues = new Map<string, Promise<void>>();
  const sockets = new Set<Socket>();
  const conditional = { puts: 0, refused: 0 };

  /** Runs `write` after every earlier write of `key` has ended. */
  const inTurn = (key: string, write: () => Promise<void>) => {
    const previous = queues.get(key) ?? Promise.resolve();
    const next = previous.then(write, write);
    const settled = next.catch(() => undefined);
    queues.set(key, settled);
    void settled.then(() => {
      if (queues.get(key) === settled) queues.delete(key);
    });
  };

  const server = createServer((req, res) => {
    const method = req.method ?? 'GET';
    const observe = options.onExchange;
    if (observe) {
      const receivedAt = Date.now();
      res.on('close', () => observe({ method, url: req.url ?? '/', status: res.statusCode, receivedAt, answeredAt: Date.now() }));
    }
    if (method !== 'PUT' && method !== 'DELETE') {
      forwardRequest(upstream, req, res);
      return;
    }
    // The body waits in the paused socket until the key's turn comes.
    req.pause();
    const key = (req.url ?? '/').split('?')[0];
    inTurn(key, async () => {
      if (method === 'PUT' && req.headers['if-none-match'] === '*') {
        conditional.puts++;
        let found: boolean;
        try {
          found = await exists(upstream, key, req.headers);
        } catch {
          // Not knowing is a transient server error to the client, which sends the PUT again.
          req.resume();
          res.writeHead(500, { 'content-type': 'application/xml', connection: 'close' }).end(INTERNAL_ERROR);
          return;
        }
        if (found) {
          conditional.refused++;
          req.resume();
          res.writeHead(412, { 'content-type': 'application/xml' }).end(PRECONDITION_FAILED);
          return;
        }
      }
      await forwardedAndAnswered(upstream, req, res);
    });
  });
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });

  const endpoint = await listenOnLoopback(server);
  return {
    endpoint,
    conditional,
    async close() {
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      for (const socket of sockets) socket.destroy();
      upstream.agent.destroy();
      await closed;
    },
  };
}

/** Forwards the write; resolves once s3rver's answer has been passed on in full (or the exchange broke). */
function forwardedAndAnswered(upstream: Upstream, req: IncomingMessage, res: ServerResponse): Promise<void> {
  return new Promise((resolve) => {
    res.on('close', () => resolve());
    const headers = { ...req.headers };
    // s3rver ignores it anyway; sent on it would only look honoured.
    delete headers['if-none-match'];
    forwardRequest(upstream, req, res, undefined, headers);
  });
}

/** Whether s3rver has the object at `path` (`/bucket/key`), asked with the write's credentials. */
function exists(upstream: Upstream, path: string, headers: IncomingHttpHeaders): Promise<boolean> {
  const auth: Record<string, string | string[]> = {};
  for (const name of AUTH_HEADERS) {
    const value = headers[name];
    if (value !== undefined) auth[name] = value;
  }
  return new Promise((resolve, reject) => {
    const head = request({ agent: upstream.agent, host: upstream.host, port: upstream.port, method: 'HEAD', path, headers: auth }, (answer) => {
      answer.resume();
      if (answer.statusCode === 200) resolve(true);
      else if (answer.statusCode === 404) resolve(false);
      else reject(new Error(`HEAD ${path} answered ${answer.statusCode}`));
    });
    head.on('error', reject);
    head.end();
  });
}
