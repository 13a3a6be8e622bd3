// Example job: clicks from Redis Streams → clicks per user so far (keyed state) → PostgreSQL, exactly once.
// Used by `npm run demo -- redis-postgres` (a handover A → B on these servers) and `npm run bench -- connectors`.
import { type Collector, defineJob, KeyedProcessFunction, type KeyedProcessContext, type KeyedRuntimeContext, param, type RedisStreamEntry, Sinks, Sources, type ValueState } from 'baton';

/** One row of the table: the click's stream and entry ID, its user, and that user's clicks so far. */
export interface UserClicks {
  readonly stream: string;
  readonly entry: string;
  readonly user: string;
  readonly clicks: number;
}

/** The table's columns, in the order the sink writes them. */
export const USER_CLICKS_COLUMNS = ['stream', 'entry', 'user_id', 'clicks'] as const;

/**
 * The table the job writes. Mode 'upsert' needs a key to overwrite replayed rows with (stream and
 * entry ID); mode 'exactly-once' needs none, so a duplicate would show as a second row.
 *
 * @example await db.query(userClicksTableSql('user_clicks', 'exactly-once'));
 */
export function userClicksTableSql(table: string, mode: 'exactly-once' | 'upsert'): string {
  return `CREATE TABLE ${table} (stream text NOT NULL, entry text NOT NULL, user_id text NOT NULL, clicks integer NOT NULL${mode === 'upsert' ? ', PRIMARY KEY (stream, entry)' : ''})`;
}

/** Counts each user's clicks in keyed state; every click becomes a row with the count so far. */
export class ClicksPerUser extends KeyedProcessFunction<string, RedisStreamEntry, UserClicks> {
  private clicks!: ValueState<number>;

  override open(ctx: KeyedRuntimeContext): void {
    this.clicks = ctx.valueState<number>('clicks');
  }

  processElement(entry: RedisStreamEntry, ctx: KeyedProcessContext<string>, out: Collector<UserClicks>): void {
    const clicks = (this.clicks.value() ?? 0) + 1;
    this.clicks.update(clicks);
    out.collect({ stream: entry.stream, entry: entry.id, user: ctx.key, clicks });
  }
}

export default defineJob(
  {
    params: {
      redis: param.string({ required: true, description: "Redis URL, e.g. 'redis://127.0.0.1:6379'" }),
      streams: param.string({ default: 'clicks', description: 'stream keys, comma-separated (each one a split)' }),
      postgres: param.string({ required: true, description: "PostgreSQL URL, e.g. 'postgres://app:secret@127.0.0.1:5432/shop'" }),
      table: param.string({ default: 'user_clicks', description: 'the table written (see userClicksTableSql)' }),
      mode: param.string({ choices: ['exactly-once', 'upsert'], default: 'exactly-once', description: 'Sinks.postgres mode' }),
      end: param.string({ choices: ['unbounded', 'bounded'], default: 'unbounded', description: "'bounded': read what the streams hold when the job starts, then end" }),
      intervalMs: param.number({ default: 1_000, integer: true, min: 10, description: 'checkpoint interval (ms): rows are committed at each checkpoint' }),
    },
  },
  (env, p) => {
    env.enableCheckpointing({ intervalMs: p.intervalMs });
    const mode = p.mode as 'exactly-once' | 'upsert';
    env
      .fromSource(Sources.redisStreams({ url: p.redis, streams: p.streams.split(','), start: 'earliest', end: p.end as 'unbounded' | 'bounded' }), 'clicks')
      .uid('clicks')
      .keyBy((entry) => entry.fields.user)
      .process(new ClicksPerUser())
      .uid('clicks-per-user')
      .sinkTo(
        Sinks.postgres<UserClicks>({
          connection: p.postgres,
          mode,
          table: p.table,
          columns: USER_CLICKS_COLUMNS,
          values: (row) => [row.stream, row.entry, row.user, row.clicks],
          ...(mode === 'upsert' ? { key: ['stream', 'entry'] } : {}),
        }),
      )
      .uid('user-clicks-pg');
  },
);
