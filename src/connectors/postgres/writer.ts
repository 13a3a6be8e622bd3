// The PostgreSQL sink's writer: batches rows into one serial queue of statements on its data connection;
// in mode 'exactly-once' one transaction per checkpoint, prepared at the barrier and committed (on a second,
// control connection) when the checkpoint completes.
import type { Client, ClientConfig } from 'pg';
import { BatonError, BatonInternalError, HostileCheckpointError, type SinkContext, type SinkWriter } from '../connector-api.ts';
import { PostgresPreparedTransactionsDisabledError, PostgresSinkError, PostgresUnavailableError, serverUnavailable, sqlStateOf } from './errors.ts';
import type { PostgresConnection, PostgresSinkTimeouts } from './options.ts';
import { type InsertStatements, lastPerKey } from './sql.ts';
import { type PostgresSinkState, postgresSinkStateProblem } from './state.ts';
import { newWriterId, parseTransactionId, transactionId, transactionIdPattern } from './transaction-ids.ts';

export interface PostgresWriterSettings<T> {
  readonly connection: PostgresConnection;
  /** `host:port/database`, for messages. */
  readonly server: string;
  /** The table, or 'statement', for messages. */
  readonly target: string;
  readonly mode: 'exactly-once' | 'upsert';
  /** Table mode: the INSERT texts. */
  readonly insert?: InsertStatements;
  /** Statement mode: the user's statement. */
  readonly statement?: string;
  readonly values: (record: T) => readonly unknown[];
  /** Rows per flush. */
  readonly batch: number;
  /** Upsert into a table: the key columns' positions, to keep one row per key in a statement. */
  readonly keyIndexes?: readonly number[];
  /** Mode 'exactly-once': see jobTransactionKey. */
  readonly jobKey?: string;
  readonly timeouts: Required<PostgresSinkTimeouts>;
}

/** SQLSTATE undefined_object: COMMIT/ROLLBACK PREPARED of an id that is not (or no longer) prepared. */
const NOT_PREPARED = '42704';

/** First pause between connection attempts to an unreachable server; it doubles up to MAX_BACKOFF_MS. */
const FIRST_BACKOFF_MS = 50;
const MAX_BACKOFF_MS = 1_000;

/** The rows' values in one array, as an INSERT's parameters (a plain loop: Array.prototype.flat showed in profiles). */
function flatten(rows: ReadonlyArray<readonly unknown[]>): unknown[] {
  const width = rows.length === 0 ? 0 : rows[0].length;
  const values = new Array<unknown>(rows.length * width);
  let k = 0;
  for (const row of rows) for (let c = 0; c < row.length; c++) values[k++] = row[c];
  values.length = k;
  return values;
}

function clientConfig(connection: PostgresConnection, applicationName: string, timeouts: Required<PostgresSinkTimeouts>): ClientConfig {
  const base = typeof connection === 'string' ? { connectionString: connection } : { ...connection };
  return { ...base, application_name: applicationName, connectionTimeoutMillis: timeouts.connectMs, query_timeout: timeouts.statementMs } as ClientConfig;
}

export class PostgresSinkWriter<T> implements SinkWriter<T> {
  private data: Client | undefined;
  private control: Client | undefined;
  private rows: Array<readonly unknown[]> = [];
  /** The serial queue of the data connection: statements run one after another, in order. */
  private tail: Promise<void> = Promise.resolve();
  private failure: Error | undefined;
  /** Exactly-once: a transaction is open on the data connection (rows since the last PREPARE). */
  private txnOpen = false;
  private staged: Array<{ checkpointId: number; gid: string }> = [];
  /** The chain of commit calls (see commit). */
  private commits: Promise<void> = Promise.resolve();
  private state: 'open' | 'finished' | 'aborted' = 'open';
  private readonly writerId = newWriterId();
  private readonly applicationName: string;

  constructor(
    private readonly settings: PostgresWriterSettings<T>,
    private readonly ctx: SinkContext,
  ) {
    this.applicationName = `baton:${ctx.uid}:${ctx.subtaskIndex}`.slice(0, 63);
    // Connect at once: a server that is unreachable or refuses 2PC fails the job at its start.
    void this.enqueue('connect', () => this.connectData());
  }

  write(value: T, _timestamp: number): void {
    if (this.failure) throw this.failure;
    if (this.state !== 'open') throw new BatonInternalError(`Sinks.postgres (${this.settings.target}): write after ${this.state}`);
    this.rows.push(this.settings.values(value));
    if (this.rows.length >= this.settings.batch) this.flushRows();
  }

  /**
   * Exactly-once: the rows since the last checkpoint go out, their transaction is prepared under an
   * id of this job, subtask and checkpoint; resolves (and the checkpoint can complete) once PostgreSQL
   * holds it durably. Upsert: resolves once every row so far is written.
   */
  prepareCommit(checkpointId: number): Promise<PostgresSinkState | undefined> {
    this.flushRows();
    if (this.settings.mode === 'upsert') return this.enqueue('flush', async () => undefined).then(() => undefined);
    if (this.txnOpen) {
      const gid = transactionId(this.settings.jobKey!, this.ctx.subtaskIndex, checkpointId, this.writerId);
      this.txnOpen = false;
      this.staged.push({ checkpointId, gid });
      void this.enqueue('PREPARE TRANSACTION', async () => {
        try {
          await this.data!.query(`PREPARE TRANSACTION '${gid}'`);
        } catch (error) {
          // 55000 object_not_in_prerequisite_state: "prepared transactions are disabled".
          if (sqlStateOf(error) === '55000' && /prepared transactions are disabled/i.test(String((error as Error).message))) {
            throw new PostgresPreparedTransactionsDisabledError(this.settings.server);
          }
          throw error;
        }
      });
    }
    const state: PostgresSinkState = { subtaskIndex: this.ctx.subtaskIndex, staged: this.staged.map((s) => ({ ...s })) };
    // Also when this checkpoint staged nothing: it must not complete before an earlier PREPARE did.
    return this.enqueue('PREPARE TRANSACTION', async () => undefined).then(() => state);
  }

  /**
   * Checkpoint n completed: its transactions (and older ones) are committed. Calls are serialized:
   * the runtime may notify checkpoint n+1 while n's commit still runs, and each transaction is
   * committed once.
   */
  commit(checkpointId: number): Promise<void> {
    const run = this.commits.then(() => this.commitUpTo(checkpointId));
    this.commits = run.catch(() => undefined);
    return run;
  }

  private async commitUpTo(checkpointId: number): Promise<void> {
    const ready = this.staged.filter((s) => s.checkpointId <= checkpointId);
    for (const entry of ready) {
      await this.finishPrepared('COMMIT', entry.gid, 'commit');
      this.staged = this.staged.filter((s) => s !== entry);
    }
  }

  /**
   * After a restore from checkpoint n: the transactions n's subtasks had prepared (those this subtask
   * owns: its own, and for subtask 0 those of old subtasks beyond the new parallelism) are committed;
   * any other prepared transaction of this job and sink that this subtask owns belongs to a
   * checkpoint after n, whose records are read again now, and is rolled back.
   */
  async recover(states: readonly unknown[]): Promise<void> {
    if (this.settings.mode === 'upsert') return;
    const jobKey = this.settings.jobKey!;
    states.forEach((raw, i) => {
      const problem = postgresSinkStateProblem(raw, jobKey);
      if (problem !== undefined) throw new HostileCheckpointError(`state of sink '${this.ctx.uid}'`, undefined, `states[${i}]${problem.field}`, problem.value, problem.expected);
    });
    const owner = (subtask: number) => (subtask < this.ctx.parallelism ? subtask : 0);
    const restored = new Set<string>();
    const commit: string[] = [];
    for (const raw of states) {
      const state = raw as PostgresSinkState | undefined | null;
      if (!state) continue;
      for (const entry of state.staged) {
        restored.add(entry.gid);
        if (owner(state.subtaskIndex) === this.ctx.subtaskIndex) commit.push(entry.gid);
      }
    }
    for (const gid of commit) await this.finishPrepared('COMMIT', gid, 'restore');
    const prepared = await this.onControl('restore', 'listing prepared transactions', async (control) => {
      const result = await control.query<{ gid: string }>('SELECT gid FROM pg_prepared_xacts WHERE database = current_database() AND gid LIKE $1', [transactionIdPattern(jobKey)]);
      return result.rows.map((r) => r.gid);
    });
    for (const gid of prepared) {
      const parsed = parseTransactionId(gid);
      if (parsed === undefined || parsed.jobKey !== jobKey || restored.has(gid) || owner(parsed.subtask) !== this.ctx.subtaskIndex) continue;
      await this.finishPrepared('ROLLBACK', gid, 'restore');
    }
  }

  /**
   * The subtask ended normally. With checkpointing on, the final checkpoint prepared and committed
   * everything; without it the rows are committed here (no exactly-once promise across failures then).
   */
  async finish(): Promise<void> {
    if (this.state !== 'open') return;
    this.flushRows();
    if (this.txnOpen) {
      this.txnOpen = false;
      void this.enqueue('COMMIT', async () => {
        await this.data!.query('COMMIT');
      });
    }
    await this.enqueue('finish', async () => undefined);
    await this.commit(Number.MAX_SAFE_INTEGER);
    this.state = 'finished';
    await this.closeClients();
  }

  /** Failure, cancel or suspend: the open transaction is rolled back (by closing its connection); prepared ones stay for a restore. */
  async abort(): Promise<void> {
    if (this.state !== 'open') return;
    this.state = 'aborted';
    this.rows = [];
    await this.closeClients();
  }

  private flushRows(): void {
    const rows = this.rows;
    if (rows.length === 0) return;
    this.rows = [];
    const exactlyOnce = this.settings.mode === 'exactly-once';
    const begin = exactlyOnce && !this.txnOpen;
    if (exactlyOnce) this.txnOpen = true;
    void this.enqueue('INSERT', async () => {
      const client = this.data!;
      if (begin) await client.query('BEGIN');
      await this.insert(client, rows, !exactlyOnce);
    });
  }

  private async insert(client: Client, rows: Array<readonly unknown[]>, autocommit: boolean): Promise<void> {
    const { insert, statement, keyIndexes } = this.settings;
    if (insert) {
      const batch = keyIndexes ? lastPerKey(rows, keyIndexes) : rows;
      const text = insert.text(batch.length);
      const values = flatten(batch);
      // A full batch (nearly every statement) is a named statement: PostgreSQL parses and plans its
      // hundreds of parameters once per connection instead of once per batch (half its CPU per row).
      if (batch.length === this.settings.batch) await client.query({ name: `baton-insert-${batch.length}`, text, values });
      else await client.query(text, values);
      return;
    }
    // A statement per record: in upsert mode the batch still commits once, not once per row.
    if (autocommit) await client.query('BEGIN');
    for (const row of rows) await client.query({ name: 'baton-sink', text: statement!, values: row as unknown[] });
    if (autocommit) await client.query('COMMIT');
  }

  /**
   * Runs `op` after everything queued before it. The first failure fails the job (its transaction is
   * gone: the rows in it come back by the restore) and every later operation with it.
   */
  private enqueue(action: string, op: () => Promise<void>): Promise<void> {
    const run = this.tail.then(async () => {
      if (this.failure) throw this.failure;
      if (this.aborted) throw this.abortedError(action);
      try {
        await op();
      } catch (error) {
        throw this.failed(action, error);
      }
    });
    this.tail = run.catch(() => undefined);
    return run;
  }

  /** A getter, so TypeScript does not narrow it across an await (abort() may run meanwhile). */
  private get aborted(): boolean {
    return this.state === 'aborted';
  }

  private abortedError(action: string): PostgresSinkError {
    return new PostgresSinkError(this.settings.target, action, 'the sink was aborted');
  }

  private failed(action: string, error: unknown): Error {
    if (this.failure === undefined) {
      this.failure = error instanceof BatonError ? error : new PostgresSinkError(this.settings.target, action, error);
      if (this.state === 'open') this.ctx.fail?.(this.failure);
    }
    return this.failure;
  }

  /**
   * A new connection. While the server is out of reach (see serverUnavailable) it tries again, with
   * backoff, for up to `timeouts.waitForServerMs`, then fails with PostgresUnavailableError; any other
   * error (a wrong password, a missing database) fails at once.
   */
  private async connect(action: string): Promise<Client> {
    // Loaded on first use: worker threads of jobs without this sink never load the driver.
    const pg = (await import('pg')).default;
    const started = Date.now();
    let backoff = FIRST_BACKOFF_MS;
    for (let attempt = 1; ; attempt++) {
      if (this.aborted) throw this.abortedError(`connecting (${action})`);
      const client = new pg.Client(clientConfig(this.settings.connection, this.applicationName, this.settings.timeouts));
      // A connection lost while idle is reported here; the next statement on it fails and says why.
      client.on('error', () => undefined);
      try {
        await client.connect();
        return client;
      } catch (error) {
        await client.end().catch(() => undefined);
        const waited = Date.now() - started;
        if (!serverUnavailable(error)) throw new PostgresSinkError(this.settings.target, 'connecting', error);
        if (waited + backoff > this.settings.timeouts.waitForServerMs) {
          throw new PostgresUnavailableError(this.settings.server, action, attempt, waited, error);
        }
        await new Promise((resolve) => setTimeout(resolve, backoff));
        backoff = Math.min(backoff * 2, MAX_BACKOFF_MS);
      }
    }
  }

  private async connectData(): Promise<void> {
    const client = await this.connect('start');
    if (this.state !== 'open') {
      await client.end().catch(() => undefined);
      throw new PostgresSinkError(this.settings.target, 'connect', `the sink was ${this.state} before the connection opened`);
    }
    this.data = client;
    if (this.settings.mode === 'exactly-once') {
      const { rows } = await client.query<{ max_prepared_transactions: string }>('SHOW max_prepared_transactions');
      if (Number(rows[0]?.max_prepared_transactions) === 0) throw new PostgresPreparedTransactionsDisabledError(this.settings.server);
    }
  }

  /**
   * Runs `op` on the control connection (connected on first use). Its statements (COMMIT/ROLLBACK
   * PREPARED, listing prepared transactions) can be repeated safely, so when the connection turns out
   * lost (the server restarted since it was last used), `op` runs once more on a new one.
   */
  private async onControl<R>(action: string, statement: string, op: (control: Client) => Promise<R>): Promise<R> {
    for (let attempt = 1; ; attempt++) {
      // An aborted writer commits nothing more: a restore decides about its prepared transactions.
      if (this.aborted) throw this.abortedError(statement);
      if (this.control === undefined) {
        const client = await this.connect(action);
        if (this.aborted) {
          await closeWithin(client, CLOSE_MS);
          throw this.abortedError(statement);
        }
        this.control = client;
      }
      const control = this.control;
      try {
        return await op(control);
      } catch (error) {
        if (error instanceof BatonError) throw error;
        if (attempt === 1 && serverUnavailable(error) && !this.aborted) {
          if (this.control === control) this.control = undefined;
          await closeWithin(control, CLOSE_MS);
          continue;
        }
        throw new PostgresSinkError(this.settings.target, statement, error);
      }
    }
  }

  /** COMMIT or ROLLBACK PREPARED; an id no longer prepared was finished already (by a predecessor, successor or earlier recover). */
  private async finishPrepared(verb: 'COMMIT' | 'ROLLBACK', gid: string, action: string): Promise<void> {
    // The id passed parseTransactionId (letters, digits, '-'): safe as a literal.
    if (parseTransactionId(gid) === undefined) throw new BatonInternalError(`Sinks.postgres: refusing transaction id ${JSON.stringify(gid)}`);
    await this.onControl(action, `${verb} PREPARED '${gid}'`, async (control) => {
      try {
        await control.query(`${verb} PREPARED '${gid}'`);
      } catch (error) {
        if (sqlStateOf(error) !== NOT_PREPARED) throw error;
      }
    });
  }

  private async closeClients(): Promise<void> {
    const clients = [this.data, this.control];
    this.data = undefined;
    this.control = undefined;
    // Ending the data connection rolls back its open transaction (a statement in flight ends the socket at once).
    await Promise.allSettled(clients.map((c) => (c ? closeWithin(c, CLOSE_MS) : undefined)));
  }
}

/** How long a connection gets to say goodbye before its socket is destroyed. */
const CLOSE_MS = 1_000;

/**
 * Ends `client`, destroying its socket when the server has not answered within `ms`: across a
 * network that drops packets, `end()` would wait for an answer until TCP gives up, minutes.
 */
async function closeWithin(client: Client, ms: number): Promise<void> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const ended = await Promise.race([
    client.end().then(
      () => true,
      () => true,
    ),
    new Promise<boolean>((resolve) => {
      timer = setTimeout(() => resolve(false), ms);
    }),
  ]);
  clearTimeout(timer);
  // pg has no public way to drop a connection: its socket is `connection.stream`.
  if (!ended) (client as unknown as { connection?: { stream?: { destroy?: () => void } } }).connection?.stream?.destroy?.();
}
