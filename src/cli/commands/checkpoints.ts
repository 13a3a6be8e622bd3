// `baton checkpoints list|status|inspect <job-dir>`: reads checkpoint state from storage alone.
import type { Command } from 'commander';
import { describeAbsentCheckpoint, explainAbsentCheckpoint } from '../../checkpoint/status/absent-checkpoint.ts';
import { listCheckpoints, checkpointStatus, readMetadata } from '../../checkpoint/index.ts';
import { jobDirectoryShape, requireJobDirectory } from '../../checkpoint/status/job-directory.ts';
import { type CheckpointStorage, openStorage } from '../../checkpoint/storage/index.ts';
import type { CheckpointStatus } from '../../checkpoint/index.ts';
import { formatCount } from '../format.ts';
import { parsePositiveInt } from '../parse-params.ts';

/** Exit codes of `baton checkpoints status`, so scripts can branch on them. */
export const STATUS_EXIT_CODES: Readonly<Record<CheckpointStatus, number>> = {
  COMPLETED: 0,
  FAILED: 3,
  IN_PROGRESS: 4,
  UNKNOWN: 5,
  CORRUPT: 6,
};

/**
 * Exit code of `baton checkpoints status` for a checkpoint that existed but was deleted (newer ones
 * exist: retention removed it, or it was swept after failing); UNKNOWN (5) is one never written.
 */
export const DELETED_EXIT_CODE = 8;

/** Opens the job directory for one command and always closes it. */
async function withJobDir(jobDir: string, use: (storage: CheckpointStorage) => Promise<void>): Promise<void> {
  const storage = openStorage(jobDir);
  try {
    await use(storage);
  } finally {
    await storage.close();
  }
}

/** Why checkpoint n is CORRUPT, in one line. */
async function corruption(storage: CheckpointStorage, n: number): Promise<string> {
  try {
    await readMetadata(storage, n);
    return 'its metadata reads correctly now';
  } catch (error) {
    return error instanceof Error ? error.message : String(error);
  }
}

export function registerCheckpointsCommand(program: Command, out: (line: string) => void, setExitCode: (code: number) => void): void {
  const checkpoints = program.command('checkpoints').description('inspect the checkpoints in a job directory (<root>/<jobId>, file:// or s3://)');

  checkpoints
    .command('list')
    .argument('<job-dir>', 'URI or path of the directory holding chk-<n>')
    .description(`lists every checkpoint with its status (each _metadata verified); exit code ${STATUS_EXIT_CODES.CORRUPT} when one is CORRUPT`)
    .action(async (jobDir: string) => {
      await withJobDir(jobDir, async (storage) => {
        // A storage root or a wrong path is refused (naming the job directories a root holds), not listed as empty.
        await requireJobDirectory(storage);
        // Verified: a damaged or tampered `_metadata` shows as CORRUPT, not COMPLETED.
        const entries = await listCheckpoints(storage, { verify: true });
        if (entries.length === 0) out(`no checkpoints in ${storage.uri}`);
        for (const e of entries) out(`chk-${e.id}\t${e.status}`);
        if (entries.some((e) => e.status === 'CORRUPT')) setExitCode(STATUS_EXIT_CODES.CORRUPT);
      });
    });

  checkpoints
    .command('status')
    .argument('<job-dir>', 'URI or path of the directory holding chk-<n>')
    .argument('<n>', 'checkpoint number', parsePositiveInt('<n>'))
    .description(
      `prints the status; exit code ${Object.entries(STATUS_EXIT_CODES).map(([s, c]) => `${c} ${s}`).join(', ')}, ${DELETED_EXIT_CODE} DELETED (newer checkpoints exist: removed by retention or swept)`,
    )
    .action(async (jobDir: string, n: number) => {
      await withJobDir(jobDir, async (storage) => {
        const status = await checkpointStatus(storage, n, { verify: true });
        if (status === 'UNKNOWN') {
          // Deleted by retention and never written are both "no files": the other checkpoints tell them apart.
          const absent = await explainAbsentCheckpoint(storage, n);
          // The storage root instead of a job directory is a wrong path, not an unknown checkpoint. A
          // missing or empty directory stays UNKNOWN: a script may ask before the job wrote anything.
          if (absent.kind === 'never-existed' && absent.newest === undefined && (await jobDirectoryShape(storage)).kind === 'root') await requireJobDirectory(storage);
          out(`${absent.kind === 'deleted' ? 'DELETED' : 'UNKNOWN'}: ${describeAbsentCheckpoint(n, storage.uri, absent)}`);
          setExitCode(absent.kind === 'deleted' ? DELETED_EXIT_CODE : STATUS_EXIT_CODES.UNKNOWN);
          return;
        }
        out(status === 'CORRUPT' ? `CORRUPT: ${await corruption(storage, n)}` : status);
        setExitCode(STATUS_EXIT_CODES[status]);
      });
    });

  checkpoints
    .command('inspect')
    .argument('<job-dir>', 'URI or path of the directory holding chk-<n>')
    .argument('<n>', 'checkpoint number', parsePositiveInt('<n>'))
    .action(async (jobDir: string, n: number) => {
      await withJobDir(jobDir, async (storage) => {
        const meta = await readMetadata(storage, n);
        out(`checkpoint ${meta.checkpointId} of job '${meta.jobId}': triggered ${new Date(meta.triggeredAt).toISOString()}, completed in ${meta.completedAt - meta.triggeredAt} ms, maxParallelism ${meta.maxParallelism}`);
        for (const op of meta.operators) {
          const bytes = op.keyed.reduce((a, c) => a + c.chain.reduce((b, r) => b + r.bytes, 0), 0);
          out(`operator '${op.uid}' parallelism ${op.parallelism}: ${op.keyed.length} key-group range(s), ${formatCount(bytes)} state bytes, ${op.subtasks.length} subtask state(s)`);
          for (const chain of op.keyed) {
            const size = chain.chain.reduce((a, r) => a + r.bytes, 0);
            const deltas = chain.chain.filter((r) => r.kind === 'delta').length;
            out(`  key groups ${chain.range.start}-${chain.range.end}: chain of ${chain.chain.length} (base + ${deltas} delta), ${formatCount(size)} bytes`);
          }
        }
        for (const t of meta.taskStats ?? []) {
          out(
            `task '${t.uid}' #${t.subtaskIndex}: ${t.unaligned ? 'unaligned' : 'aligned'}, alignment ${t.alignmentMs} ms, sync ${t.syncMs} ms, async ${t.asyncMs} ms, state ${formatCount(t.stateBytes)} B, channel state ${formatCount(t.channelStateBytes)} B`,
          );
        }
      });
    });
}
