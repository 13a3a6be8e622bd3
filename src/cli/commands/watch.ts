// `baton watch <job-dir> --target N`: waits until a handover target checkpoint is COMPLETED.
import type { Command } from 'commander';
import { openStorage } from '../../checkpoint/storage/index.ts';
import { DEFAULT_WATCH_POLL_MS, type TargetWatchAction, type WatchForCheckpointResult, watchForCheckpoint } from '../../handover/index.ts';
import { parsePositiveInt } from '../parse-params.ts';

/**
 * Exit codes of `baton watch` per outcome, so scripts can branch on them. Besides these, as for
 * every command: 1 for an error (storage, or a stale target: older than the newest completed
 * checkpoint), 2 for bad usage (e.g. a missing or invalid `--target`).
 */
export const WATCH_EXIT_CODES: Readonly<Record<WatchForCheckpointResult['outcome'], number>> = {
  ready: 0,
  'timed-out': 6,
};

/**
 * Without `--timeout`, give up after 10 minutes: a watch that never ends hides a stuck job from
 * the script waiting on it, and a handover target is normally a few checkpoint intervals ahead.
 */
export const WATCH_DEFAULT_TIMEOUT_MS = 600_000;

/** The line printed for a change the watch observed, or undefined for none (`ready` is printed with its format). */
function describeAction(action: TargetWatchAction): string | undefined {
  switch (action.type) {
    case 'target-status':
      return `chk-${action.checkpointId} ${action.status}`;
    case 'target-moved':
      return `target moved ${action.move.from} -> ${action.move.to}: ${action.move.reason}`;
    case 'ready':
    case 'timed-out':
      return undefined;
  }
}

function describeResult(result: WatchForCheckpointResult): string {
  if (result.outcome === 'ready') return `chk-${result.checkpointId} COMPLETED (${result.format === 'unknown' ? 'unknown format' : result.format})`;
  return `timed out after ${result.waitedMs} ms: chk-${result.checkpointId} is ${result.status}`;
}

/**
 * Adds `baton watch <job-dir> --target N [--timeout MS] [--poll MS]`; `setExitCode` receives a
 * {@link WATCH_EXIT_CODES} value.
 *
 * @example registerWatchCommand(program, io.out, (code) => { exitCode = code; });
 */
export function registerWatchCommand(program: Command, out: (line: string) => void, setExitCode: (code: number) => void): void {
  program
    .command('watch')
    .description(
      `waits until checkpoint N is COMPLETED, moving on past FAILED ones; exit code ${Object.entries(WATCH_EXIT_CODES).map(([o, c]) => `${c} ${o}`).join(', ')}`,
    )
    .argument('<job-dir>', 'URI or path of the directory holding chk-<n>')
    .requiredOption('--target <n>', 'checkpoint number to wait for', parsePositiveInt('--target'))
    .option('--timeout <ms>', `give up after this long (default ${WATCH_DEFAULT_TIMEOUT_MS}, 10 minutes)`, parsePositiveInt('--timeout'))
    .option('--poll <ms>', `time between two listings of the job directory (default ${DEFAULT_WATCH_POLL_MS})`, parsePositiveInt('--poll'))
    .action(async (jobDir: string, opts: { target: number; timeout?: number; poll?: number }) => {
      const storage = openStorage(jobDir);
      try {
        const result = await watchForCheckpoint(storage, {
          target: opts.target,
          timeoutMs: opts.timeout ?? WATCH_DEFAULT_TIMEOUT_MS,
          pollMs: opts.poll,
          onObservation: (o) => {
            for (const action of o.actions) {
              const line = describeAction(action);
              if (line !== undefined) out(line);
            }
          },
        });
        out(describeResult(result));
        setExitCode(WATCH_EXIT_CODES[result.outcome]);
      } finally {
        await storage.close();
      }
    });
}
