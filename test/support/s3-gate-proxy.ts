// Test helper: an HTTP proxy in front of an S3 endpoint that can hold chosen requests until a test releases or fails them.
import { createServer, type IncomingHttpHeaders, type IncomingMessage, type ServerResponse } from 'node:http';
import { forwardRequest, listenOnLoopback, upstreamOf } from './http-forward.ts';

/** What a predicate sees of a request: method, path with query (`/bucket/key?x-id=PutObject`), headers. */
export interface ProxiedRequestInfo {
  readonly method: string;
  readonly path: string;
  readonly headers: IncomingHttpHeaders;
}

/** A request that went through the proxy (or was held, then failed); filled in as it progresses. */
export interface ProxiedRequest extends ProxiedRequestInfo {
  /** Sent on to the target (after a hold: released). */
  forwarded: boolean;
  /** The status the client got, once it got one (the target's, or the 500 of a failed hold). */
  status?: number;
  /** The client's connection closed before it got a complete answer (e.g. its thread was killed). */
  aborted: boolean;
}

/** A request a gate holds: nothing of it reaches the target until it is released. */
export interface HeldRequest extends ProxiedRequest {
  /** `Date.now()` when it was held. */
  readonly heldAt: number;
}

export type RequestPredicate = (request: ProxiedRequestInfo) => boolean;

/** Holds every request its predicate accepts until {@link Gate.release} or {@link Gate.fail}. */
export interface Gate {
  /** Requests held so far (also those since released or failed). */
  readonly requests: readonly HeldRequest[];
  /** Resolves with the first held request that `predicate` accepts (default: any), held already or later. */
  held(predicate?: RequestPredicate): Promise<HeldRequest>;
  /** Stops holding and forwards every held request whose client is still connected. */
  release(): void;
  /**
   * Stops holding and answers every held request without forwarding it: `status` (default)
   * answers 500 InternalError, `destroy` drops the connection.
   */
  fail(how?: 'status' | 'destroy'): void;
}

export interface S3GateProxy {
  /** e.g. `http://127.0.0.1:40123`: use as the S3 endpoint instead of the target. */
  readonly endpoint: string;
  /** Every request seen, in arrival order. */
  readonly requests: readonly ProxiedRequest[];
  /**
   * Starts holding requests `predicate` accepts (predicates run once per request, in arrival order).
   * With `{ phase: 'response' }` the request is sent on and the target's answer is held instead:
   * the operation has happened, the client does not know yet (failing it drops the connection).
   */
  hold(predicate: RequestPredicate, options?: { phase?: 'request' | 'response' }): Gate;
  /**
   * Resolves with the first request `predicate` accepts that the target answered with a 2xx
   * status (already answered or answered later): proof the object operation happened.
   */
  passed(predicate: RequestPredicate): Promise<ProxiedRequest>;
  /** Fails everything still held (connection dropped), closes every connection and the server. */
  close(): Promise<void>;
}

interface GateState {
  readonly predicate: RequestPredicate;
  readonly phase: 'request' | 'response';
  active: boolean;
  readonly held: Array<{ record: HeldRequest; settled: boolean; forward: () => void; answer: (how: 'status' | 'destroy') => void }>;
  readonly waiters: Array<{ predicate: RequestPredicate; resolve: (r: HeldRequest) => void }>;
}

const INTERNAL_ERROR =
  '<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>InternalError</Code><Message>held request failed by the test proxy</Message></Error>';

/**
 * Starts a proxy on 127.0.0.1 (port chosen by the OS) forwarding every request to `target`
 * (method, path, headers unchanged; bodies streamed both ways). A held request is not sent on
 * until it is released (its body waits, paused, in the proxy's socket), so the write it carries
 * has not reached the target; failing it answers the client without ever sending it on.
 *
 * @example
 * ```ts
 * const proxy = await startS3GateProxy(s3.endpoint);
 * const gate = proxy.hold(({ method, path }) => method === 'PUT' && /\/chk-\d+\/channel-/.test(path));
 * const first = await gate.held();
 * // ... the write is in progress for as long as the test likes ...
 * gate.fail();
 * await proxy.close();
 * ```
 */
export async function startS3GateProxy(target: string): Promise<S3GateProxy> {
  const upstream = upstreamOf(target);
  const requests: ProxiedRequest[] = [];
  const gates: GateState[] = [];
  const passWaiters: Array<{ predicate: RequestPredicate; resolve: (r: ProxiedRequest) => void }> = [];

  const answered = (record: ProxiedRequest, status: number) => {
    record.status = status;
    if (status < 200 || status >= 300) return;
    for (const waiter of [...passWaiters]) {
      if (!waiter.predicate(record)) continue;
      passWaiters.splice(passWaiters.indexOf(waiter), 1);
      waiter.resolve(record);
    }
  };

  const forward = (req: IncomingMessage, res: ServerResponse, record: ProxiedRequest, holdAnswer?: (pass: () => void) => void) => {
    if (record.aborted || res.destroyed) return;
    record.forwarded = true;
    forwardRequest(upstream, req, res, (answer) => {
      if (!holdAnswer) {
        answer.on('end', () => answered(record, answer.statusCode ?? 502));
        if (!res.destroyed) return false;
        answer.resume();
        return true;
      }
      // The whole answer is read (S3 answers to writes are small) before the client gets any of it.
      const chunks: Buffer[] = [];
      answer.on('data', (chunk: Buffer) => chunks.push(chunk));
      answer.on('error', () => res.destroy());
      answer.on('end', () => {
        answered(record, answer.statusCode ?? 502);
        holdAnswer(() => {
          if (res.destroyed) return;
          res.writeHead(answer.statusCode ?? 502, answer.headers).end(Buffer.concat(chunks));
        });
      });
      return true;
    });
  };

  const server = createServer((req, res) => {
    const record: ProxiedRequest = { method: req.method ?? 'GET', path: req.url ?? '/', headers: req.headers, forwarded: false, aborted: false };
    requests.push(record);
    res.on('close', () => {
      if (!res.writableFinished) record.aborted = true;
    });
    const gate = gates.find((g) => g.active && g.predicate(record));
    if (!gate) {
      forward(req, res, record);
      return;
    }
    if (gate.phase === 'response') {
      forward(req, res, record, (pass) => holdRequest(gate, record, pass, res, req));
      return;
    }
    // Held: the body waits in the paused socket until the request is released.
    req.pause();
    holdRequest(gate, record, () => forward(req, res, record), res, req);
  });

  /** Puts a request (or its answer) on hold at `gate`; `pass` sends it on when released. */
  const holdRequest = (gate: GateState, record: ProxiedRequest, pass: () => void, res: ServerResponse, req: IncomingMessage) => {
    const held = Object.assign(record, { heldAt: Date.now() }) as HeldRequest;
    gate.held.push({
      record: held,
      settled: false,
      forward: pass,
      answer: (how) => {
        if (record.aborted || res.destroyed) return;
        if (how === 'destroy') {
          record.aborted = true;
          res.destroy();
          req.destroy();
          return;
        }
        // A held answer: the target did the operation, so the client must not get a clean error.
        if (gate.phase === 'response') {
          record.aborted = true;
          res.destroy();
          return;
        }
        res.writeHead(500, { 'content-type': 'application/xml', connection: 'close' }).end(INTERNAL_ERROR);
        record.status = 500;
      },
    });
    for (const waiter of [...gate.waiters]) {
      if (!waiter.predicate(held)) continue;
      gate.waiters.splice(gate.waiters.indexOf(waiter), 1);
      waiter.resolve(held);
    }
  };

  const endpoint = await listenOnLoopback(server);

  const settle = (gate: GateState, each: (h: GateState['held'][number]) => void) => {
    gate.active = false;
    for (const h of gate.held) {
      if (h.settled) continue;
      h.settled = true;
      each(h);
    }
  };

  return {
    endpoint,
    requests,
    hold(predicate, options) {
      const state: GateState = { predicate, phase: options?.phase ?? 'request', active: true, held: [], waiters: [] };
      gates.push(state);
      return {
        get requests() {
          return state.held.map((h) => h.record);
        },
        held(match = () => true) {
          const found = state.held.find((h) => match(h.record));
          if (found) return Promise.resolve(found.record);
          return new Promise<HeldRequest>((resolve) => state.waiters.push({ predicate: match, resolve }));
        },
        release() {
          settle(state, (h) => h.forward());
        },
        fail(how = 'status') {
          settle(state, (h) => h.answer(how));
        },
      };
    },
    passed(predicate) {
      const found = requests.find((r) => r.status !== undefined && r.status >= 200 && r.status < 300 && predicate(r));
      if (found) return Promise.resolve(found);
      return new Promise<ProxiedRequest>((resolve) => passWaiters.push({ predicate, resolve }));
    },
    async close() {
      for (const gate of gates) settle(gate, (h) => h.answer('destroy'));
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeAllConnections();
      upstream.agent.destroy();
      await closed;
    },
  };
}
