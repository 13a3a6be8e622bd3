// A real redis-server (Debian's package, installed by .ci/run) on 127.0.0.1, a random port and a throw-away
// directory, started by a test, a bench or `baton demo redis-postgres`, and removed afterwards.
import { type ChildProcess, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { RedisServerMissingError } from './errors.ts';
import { freePort } from './free-port.ts';
import { exited, startServerProcess } from './server-process.ts';

/** A running redis-server. */
export interface RedisServerHandle {
  readonly host: string;
  readonly port: number;
  /** e.g. `redis://127.0.0.1:40123` */
  readonly url: string;
  /** The server's process id (e.g. to read its CPU time from /proc). */
  readonly pid: number;
  /** Its throw-away working directory, removed by close. */
  readonly dir: string;
  /** Stops the server and removes its directory. */
  close(): Promise<void>;
}

export interface RedisServerOptions {
  /** The server binary; default `$BATON_REDIS_SERVER`, else `redis-server` on the PATH. */
  readonly binary?: string;
  /** Who needs the server, for the message of RedisServerMissingError (default 'this test'). */
  readonly neededBy?: string;
}

/** The redis-server binary used: `$BATON_REDIS_SERVER`, else `redis-server` on the PATH. */
function defaultBinary(): string {
  return process.env.BATON_REDIS_SERVER ?? 'redis-server';
}

/**
 * Throws RedisServerMissingError unless `binary --version` runs (default: the binary
 * startRedisServer would run).
 *
 * @example checkRedisServerBinary(undefined, 'the demo');
 */
export function checkRedisServerBinary(binary = defaultBinary(), neededBy?: string): void {
  const probe = spawnSync(binary, ['--version'], { encoding: 'utf8' });
  if (probe.error || probe.status !== 0) {
    throw new RedisServerMissingError(probe.error ? `${binary}: ${(probe.error as NodeJS.ErrnoException).code ?? probe.error.message}` : `${binary} --version exited with ${probe.status}`, neededBy);
  }
}

/**
 * Starts redis-server for a test (or a bench, or the demo): 127.0.0.1 only, no persistence (no RDB snapshots, no AOF), its
 * working directory a temp directory removed on close. Throws {@link RedisServerMissingError} when
 * the binary is missing.
 *
 * @example
 * ```ts
 * const redis = await startRedisServer();
 * const client = new Redis(redis.url);
 * // ...
 * await redis.close();
 * ```
 */
export async function startRedisServer(options: RedisServerOptions = {}): Promise<RedisServerHandle> {
  const binary = options.binary ?? defaultBinary();
  checkRedisServerBinary(binary, options.neededBy);
  const dir = mkdtempSync(join(tmpdir(), 'baton-redis-'));
  try {
    // redis-server cannot bind port 0 (it means "no TCP"): pick one, and another if it was taken meanwhile.
    for (let attempt = 1; ; attempt++) {
      const port = await freePort();
      const args = ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir, '--daemonize', 'no', '--loglevel', 'notice'];
      let child: ChildProcess;
      try {
        ({ child } = await startServerProcess('redis-server', binary, args, 'Ready to accept connections'));
      } catch (error) {
        if (attempt < 5 && /Address already in use|Could not create server TCP listening socket/i.test(String(error))) continue;
        throw error;
      }
      const killOnExit = () => child.kill('SIGKILL');
      process.once('exit', killOnExit);
      let closing: Promise<void> | undefined;
      return {
        host: '127.0.0.1',
        port,
        url: `redis://127.0.0.1:${port}`,
        pid: child.pid!,
        dir,
        close() {
          closing ??= (async () => {
            process.off('exit', killOnExit);
            child.kill('SIGTERM');
            await exited(child);
            rmSync(dir, { recursive: true, force: true });
          })();
          return closing;
        },
      };
    }
  } catch (error) {
    rmSync(dir, { recursive: true, force: true });
    throw error;
  }
}
