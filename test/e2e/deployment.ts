// Test helper: a job deployment as its own process (`baton run`), with its output lines and JSON result.
import { type ChildProcess, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { JobResult } from '../../src/index.ts';

const BIN = fileURLToPath(new URL('../../bin/baton.mjs', import.meta.url));

export interface Deployment {
  readonly child: ChildProcess;
  /** Every stdout/stderr line so far. */
  readonly lines: string[];
  /** Calls `listener` with every line from now on. */
  onLine(listener: (line: string) => void): void;
  /** Resolves with the first line (seen or to come) matching `pattern`; rejects if the process exits first. */
  line(pattern: RegExp): Promise<RegExpMatchArray>;
  /** Exit code and the job result it wrote (undefined when it failed before writing one). */
  readonly exited: Promise<{ code: number; result: JobResult | undefined; output: string }>;
}

/** Starts `baton run <job> ...args --result-json <resultFile>` in a new Node process. */
export function startDeployment(job: string, args: readonly string[], resultFile: string, env: NodeJS.ProcessEnv = {}): Deployment {
  const child = spawn(process.execPath, [BIN, 'run', job, ...args, '--progress-ms', '60000', '--result-json', resultFile], {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const lines: string[] = [];
  const waiters: Array<{ pattern: RegExp; resolve: (m: RegExpMatchArray) => void; reject: (e: Error) => void }> = [];
  const listeners: Array<(line: string) => void> = [];
  let ended = false;
  const onText = (chunk: Buffer) => {
    for (const line of chunk.toString('utf8').split('\n')) {
      if (line.length === 0) continue;
      lines.push(line);
      for (const listener of listeners) listener(line);
      for (const w of [...waiters]) {
        const m = line.match(w.pattern);
        if (m) {
          waiters.splice(waiters.indexOf(w), 1);
          w.resolve(m);
        }
      }
    }
  };
  child.stdout!.on('data', onText);
  child.stderr!.on('data', onText);
  const exited = new Promise<{ code: number; result: JobResult | undefined; output: string }>((resolve) => {
    child.on('exit', (code) => {
      ended = true;
      for (const w of waiters.splice(0)) w.reject(new Error(`deployment exited (${code}) before a line matched ${w.pattern}:\n${lines.join('\n')}`));
      let result: JobResult | undefined;
      try {
        result = JSON.parse(readFileSync(resultFile, 'utf8')) as JobResult;
      } catch {
        result = undefined;
      }
      resolve({ code: code ?? -1, result, output: lines.join('\n') });
    });
  });
  return {
    child,
    lines,
    exited,
    onLine(listener) {
      listeners.push(listener);
    },
    line(pattern) {
      for (const l of lines) {
        const m = l.match(pattern);
        if (m) return Promise.resolve(m);
      }
      if (ended) return Promise.reject(new Error(`deployment already exited; no line matched ${pattern}`));
      return new Promise((resolve, reject) => waiters.push({ pattern, resolve, reject }));
    },
  };
}
