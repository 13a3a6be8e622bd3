// Starting a server process and knowing when it is ready (a line in its output) or gone: shared by the local servers.
import { type ChildProcess, spawn, type SpawnOptions } from 'node:child_process';
import { LocalServerError } from './errors.ts';

/**
 * Spawns `file` and resolves once its output (stdout or stderr) contains `readyText`; rejects with
 * its output if it exits first. `server` names it in the LocalServerError.
 *
 * @example const { child } = await startServerProcess('redis-server', 'redis-server', ['--port', '6390'], 'Ready to accept connections');
 */
export function startServerProcess(server: LocalServerError['server'], file: string, args: readonly string[], readyText: string, options: SpawnOptions = {}): Promise<{ child: ChildProcess; output: () => string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(file, args, { ...options, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    let ready = false;
    const onData = (chunk: Buffer) => {
      output += chunk.toString();
      if (!ready && output.includes(readyText)) {
        ready = true;
        resolve({ child, output: () => output });
      }
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', onData);
    child.once('error', reject);
    child.once('exit', (code, signal) => {
      if (!ready) reject(new LocalServerError(server, `exited before it was ready (code ${code}, signal ${signal}):\n${output}`));
    });
  });
}

/** Resolves once `child` has exited (at once if it already has). @example await exited(child); */
export function exited(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => child.once('exit', () => resolve()));
}
