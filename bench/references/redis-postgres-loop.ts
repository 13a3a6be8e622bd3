// Reference for the connectors bench: what a Node team writes without an engine. One loop reads a Redis
// stream with XREAD, counts clicks per user in a Map and writes (stream, entry, user, clicks so far) rows with
// multi-row INSERTs, each its own transaction (autocommit): at-least-once, no checkpoints, no state saved.
import { Redis } from 'ioredis';
import pg from 'pg';

export interface LoopOptions {
  readonly redisUrl: string;
  readonly postgresUrl: string;
  readonly stream: string;
  readonly table: string;
  /** Entries per XREAD (COUNT), as the baton source's default `batch`. */
  readonly readBatch: number;
  /** Rows per INSERT, as Sinks.postgres's default `batch`. */
  readonly insertBatch: number;
  /**
   * false: read, count, insert, one after another (each `await`ed). true: one INSERT may be in
   * flight while the loop reads and counts the next entries (awaited before the next INSERT).
   */
  readonly pipelined: boolean;
}

export interface LoopResult {
  readonly entries: number;
  /** From the first entries read (the first XREAD's reply) to the last INSERT's reply; connecting is before it. */
  readonly ms: number;
}

const COLUMNS = 4;

/** `INSERT INTO table (stream, entry, user_id, clicks) VALUES ($1, $2, $3, $4), …` for `rows` rows. */
function insertText(table: string, rows: number): string {
  const tuples: string[] = [];
  for (let r = 0; r < rows; r++) tuples.push(`(${Array.from({ length: COLUMNS }, (_, c) => `$${r * COLUMNS + c + 1}`).join(', ')})`);
  return `INSERT INTO ${table} (stream, entry, user_id, clicks) VALUES ${tuples.join(', ')}`;
}

type XreadReply = Array<[stream: string, entries: Array<[id: string, fields: string[]]>]> | null;

/**
 * Reads the whole stream as it is when the loop starts (up to its last entry then) and returns
 * how long that took. The table must exist.
 *
 * @example const { ms } = await runRedisPostgresLoop({ redisUrl, postgresUrl, stream: 'clicks', table: 'hand_written', readBatch: 1000, insertBatch: 500, pipelined: false });
 */
export async function runRedisPostgresLoop(options: LoopOptions): Promise<LoopResult> {
  const { stream, readBatch, insertBatch, pipelined } = options;
  const redis = new Redis(options.redisUrl, { lazyConnect: true, protocol: 2 });
  const db = new pg.Client({ connectionString: options.postgresUrl });
  await Promise.all([redis.connect(), db.connect()]);
  try {
    const fullInsert = insertText(options.table, insertBatch);
    const last = (await redis.xrevrange(stream, '+', '-', 'COUNT', 1))[0]?.[0];
    const counts = new Map<string, number>();
    let params: unknown[] = [];
    let inFlight: Promise<unknown> = Promise.resolve();
    let entries = 0;
    let after = '0-0';
    let started: number | undefined;
    while (last !== undefined && after !== last) {
      const reply = (await redis.xread('COUNT', readBatch, 'STREAMS', stream, after)) as XreadReply;
      if (reply === null) break;
      started ??= performance.now();
      for (const [id, fields] of reply[0][1]) {
        let user = '';
        for (let i = 0; i + 1 < fields.length; i += 2) if (fields[i] === 'user') user = fields[i + 1];
        const clicks = (counts.get(user) ?? 0) + 1;
        counts.set(user, clicks);
        params.push(stream, id, user, clicks);
        entries++;
        after = id;
        if (params.length === insertBatch * COLUMNS) {
          const values = params;
          params = [];
          if (pipelined) {
            await inFlight;
            inFlight = db.query(fullInsert, values);
          } else {
            await db.query(fullInsert, values);
          }
        }
        if (id === last) break;
      }
    }
    await inFlight;
    if (params.length > 0) await db.query(insertText(options.table, params.length / COLUMNS), params);
    return { entries, ms: started === undefined ? 0 : performance.now() - started };
  } finally {
    redis.disconnect();
    await db.end();
  }
}
