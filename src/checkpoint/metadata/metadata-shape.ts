// Checks that a decoded value has the shape of CheckpointMetadata, naming the first bad field by path.
import { MAX_MAX_PARALLELISM } from '../../state/index.ts';
import { describeValue } from '../errors.ts';
import { channelStateFileName, isValidChunkId, isValidExclusiveName } from '../layout.ts';
// Not through ownership/index.ts: the fence there reads metadata, which would make an import cycle.
import { isValidRunId, RUN_ID_RULE } from '../ownership/run-id.ts';
import type { CheckpointMetadata } from '../types.ts';

/** The first bad field of a metadata value: where, what was expected, what was found. */
export interface MetadataProblem {
  readonly path: string;
  readonly expected: string;
  readonly value: unknown;
  /** A name or path that could leave its directory or break the pattern baton writes: tampering, not damage. */
  readonly hostile: boolean;
}

type Problem = MetadataProblem | undefined;

const SAFE_NAME_RULE = "[A-Za-z0-9._-], no '..', no leading '.' or '_'";

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

const isCount = (v: unknown): v is number => Number.isSafeInteger(v) && (v as number) >= 0;

function check(path: string, ok: boolean, expected: string, value: unknown): Problem {
  return ok ? undefined : { path, expected, value, hostile: false };
}

/** Like check, for a name that becomes part of a storage key. */
function checkName(path: string, ok: boolean, expected: string, value: unknown): Problem {
  return ok ? undefined : { path, expected, value, hostile: true };
}

function firstProblem<T>(items: readonly T[], each: (item: T, index: number) => Problem): Problem {
  for (let i = 0; i < items.length; i++) {
    const problem = each(items[i], i);
    if (problem !== undefined) return problem;
  }
  return undefined;
}

function chunkProblem(path: string, chunk: unknown, index: number): Problem {
  if (!isRecord(chunk)) return check(path, false, 'a chunk reference', chunk);
  return (
    checkName(`${path}.id`, typeof chunk.id === 'string' && isValidChunkId(chunk.id), `a chunk id safe as a file name (${SAFE_NAME_RULE})`, chunk.id) ??
    check(`${path}.kind`, chunk.kind === 'base' || chunk.kind === 'delta', "'base' or 'delta'", chunk.kind) ??
    // A base replaces everything before it, so one in the middle means the chain was built wrong.
    check(`${path}.kind`, index === 0 || chunk.kind === 'delta', "'delta' (a base may only start a chain)", chunk.kind) ??
    check(`${path}.bytes`, isCount(chunk.bytes), 'a non-negative integer', chunk.bytes) ??
    check(`${path}.entries`, isCount(chunk.entries), 'a non-negative integer', chunk.entries)
  );
}

function chainProblem(path: string, chain: unknown, maxParallelism: number): Problem {
  if (!isRecord(chain)) return check(path, false, 'a key-group chain', chain);
  const range = chain.range;
  if (!isRecord(range)) return check(`${path}.range`, false, 'a key-group range', range);
  const { start, end } = range;
  const problem =
    check(`${path}.range.start`, isCount(start) && start < maxParallelism, `an integer in [0, ${maxParallelism})`, start) ??
    // `end < start` is the empty range (more subtasks than key groups).
    check(`${path}.range.end`, Number.isSafeInteger(end) && (end as number) >= (start as number) - 1 && (end as number) < maxParallelism, `an integer in [start - 1, ${maxParallelism})`, end);
  if (problem !== undefined) return problem;
  if (!Array.isArray(chain.chain)) return check(`${path}.chain`, false, 'an array', chain.chain);
  const rebased = chain.rebased;
  return (
    firstProblem(chain.chain, (chunk, i) => chunkProblem(`${path}.chain[${i}]`, chunk, i)) ??
    (rebased === undefined
      ? undefined
      : !isRecord(rebased) || !Array.isArray(rebased.from) || !Array.isArray(rebased.delta)
        ? check(`${path}.rebased`, false, '{ from: chunk ids, delta: chunk references }', rebased)
        : (firstProblem(rebased.from, (id, i) => checkName(`${path}.rebased.from[${i}]`, typeof id === 'string' && isValidChunkId(id), 'a chunk id', id)) ??
          firstProblem(rebased.delta, (chunk, i) => chunkProblem(`${path}.rebased.delta[${i}]`, chunk, i + 1))))
  );
}

function operatorProblem(path: string, op: unknown, maxParallelism: number, uids: Set<string>): Problem {
  if (!isRecord(op)) return check(path, false, 'an operator snapshot', op);
  const problem =
    check(`${path}.uid`, typeof op.uid === 'string' && op.uid.length > 0, 'a non-empty string', op.uid) ??
    check(`${path}.uid`, !uids.has(op.uid as string), 'a uid not used by another operator', op.uid) ??
    check(`${path}.parallelism`, isCount(op.parallelism) && op.parallelism > 0, 'a positive integer', op.parallelism) ??
    check(`${path}.keyed`, Array.isArray(op.keyed), 'an array', op.keyed) ??
    check(`${path}.subtasks`, Array.isArray(op.subtasks), 'an array', op.subtasks);
  if (problem !== undefined) return problem;
  uids.add(op.uid as string);
  const parallelism = op.parallelism as number;
  return (
    firstProblem(op.keyed as unknown[], (chain, i) => chainProblem(`${path}.keyed[${i}]`, chain, maxParallelism)) ??
    firstProblem(op.subtasks as unknown[], (sub, i) =>
      isRecord(sub)
        ? check(`${path}.subtasks[${i}].subtaskIndex`, isCount(sub.subtaskIndex) && sub.subtaskIndex < parallelism, `an integer in [0, ${parallelism})`, sub.subtaskIndex)
        : check(`${path}.subtasks[${i}]`, false, 'a subtask state', sub),
    )
  );
}

/**
 * The first way `value` is not valid CheckpointMetadata, as `path: problem`, or undefined when it
 * is valid. Every chunk id and exclusive file name is checked against layout.ts, so paths built
 * from valid metadata never leave the job directory.
 *
 * @example metadataProblem({ jobId: '' }) // 'jobId: expected a non-empty string, got ""'
 */
export function metadataProblem(value: unknown): string | undefined {
  const problem = findMetadataProblem(value);
  return problem === undefined ? undefined : `${problem.path}: expected ${problem.expected}, got ${describeValue(problem.value)}`;
}

/**
 * Like {@link metadataProblem}, with the field, the offending value and whether it is a hostile name.
 *
 * @example findMetadataProblem({ jobId: '' })?.path // 'jobId'
 */
export function findMetadataProblem(value: unknown): MetadataProblem | undefined {
  if (!isRecord(value)) return check('metadata', false, 'an object', value);
  const m = value;
  const problem =
    check('jobId', typeof m.jobId === 'string' && m.jobId.length > 0, 'a non-empty string', m.jobId) ??
    check('checkpointId', isCount(m.checkpointId), 'a non-negative integer', m.checkpointId) ??
    check('triggeredAt', Number.isFinite(m.triggeredAt), 'a finite number', m.triggeredAt) ??
    check('completedAt', Number.isFinite(m.completedAt), 'a finite number', m.completedAt) ??
    (m.lastRecordAt === undefined ? undefined : check('lastRecordAt', Number.isFinite(m.lastRecordAt), 'a finite number', m.lastRecordAt)) ??
    (m.endsJob === undefined ? undefined : check('endsJob', typeof m.endsJob === 'boolean', 'a boolean', m.endsJob)) ??
    (m.runId === undefined ? undefined : check('runId', isValidRunId(m.runId), `a run id (${RUN_ID_RULE})`, m.runId)) ??
    (m.previousCheckpoint === undefined
      ? undefined
      : check(
          'previousCheckpoint',
          isCount(m.previousCheckpoint) && isCount(m.checkpointId) && m.previousCheckpoint < m.checkpointId,
          'a non-negative integer below checkpointId',
          m.previousCheckpoint,
        )) ??
    (m.nextOwner === undefined ? undefined : check('nextOwner', isValidRunId(m.nextOwner), `a run id (${RUN_ID_RULE})`, m.nextOwner)) ??
    check('maxParallelism', isCount(m.maxParallelism) && m.maxParallelism >= 1 && m.maxParallelism <= MAX_MAX_PARALLELISM, `an integer in [1, ${MAX_MAX_PARALLELISM}]`, m.maxParallelism) ??
    check('operators', Array.isArray(m.operators), 'an array', m.operators) ??
    check('exclusiveFiles', Array.isArray(m.exclusiveFiles), 'an array', m.exclusiveFiles);
  if (problem !== undefined) return problem;
  const uids = new Set<string>();
  const files = new Set(m.exclusiveFiles as unknown[]);
  return (
    firstProblem(m.operators as unknown[], (op, i) => operatorProblem(`operators[${i}]`, op, m.maxParallelism as number, uids)) ??
    firstProblem(m.exclusiveFiles as unknown[], (name, i) =>
      checkName(`exclusiveFiles[${i}]`, typeof name === 'string' && isValidExclusiveName(name), `a file name safe in chk-<n>/ (${SAFE_NAME_RULE})`, name),
    ) ??
    (m.channelState === undefined
      ? undefined
      : (check('channelState', Array.isArray(m.channelState), 'an array', m.channelState) ??
        firstProblem(m.channelState as unknown[], (ref, i) => {
          if (!isRecord(ref)) return check(`channelState[${i}]`, false, 'an object', ref);
          return (
            check(`channelState[${i}].uid`, typeof ref.uid === 'string' && ref.uid.length > 0, 'a non-empty string', ref.uid) ??
            check(`channelState[${i}].subtaskIndex`, isCount(ref.subtaskIndex), 'a non-negative integer', ref.subtaskIndex) ??
            check(`channelState[${i}].bytes`, isCount(ref.bytes), 'a non-negative integer', ref.bytes) ??
            checkName(`channelState[${i}].file`, typeof ref.file === 'string' && files.has(ref.file), 'a file listed in exclusiveFiles', ref.file) ??
            // The name is derived from uid and subtask: anything else was not written by baton.
            checkName(
              `channelState[${i}].file`,
              ref.file === channelStateFileName(ref.uid as string, ref.subtaskIndex as number),
              `'${channelStateFileName(ref.uid as string, ref.subtaskIndex as number)}' (the name baton gives this subtask's channel state)`,
              ref.file,
            ) ??
            (ref.segments === undefined
              ? undefined
              : (check(`channelState[${i}].segments`, Array.isArray(ref.segments), 'an array', ref.segments) ??
                firstProblem(ref.segments as unknown[], (id, j) =>
                  checkName(`channelState[${i}].segments[${j}]`, typeof id === 'string' && isValidChunkId(id), `a chunk id (${SAFE_NAME_RULE})`, id),
                )))
          );
        })))
  );
}

/** Narrows `value` to CheckpointMetadata when {@link metadataProblem} finds nothing. @example if (isCheckpointMetadata(v)) use(v.checkpointId) */
export function isCheckpointMetadata(value: unknown): value is CheckpointMetadata {
  return metadataProblem(value) === undefined;
}
