// How the main thread reports what a worker failed with. Loads every error class a worker of the
// runtime can throw (the runtime's, state's, checkpoint storage's, the built-in connectors'), so
// each is registered here and revives as its own class whatever else this thread imported.
import '../checkpoint/errors.ts';
import '../checkpoint/restore/plan-restore.ts';
import '../checkpoint/storage/index.ts';
import '../connectors/postgres/errors.ts';
import '../connectors/redis-streams/errors.ts';
import '../state/errors.ts';
import '../state/lmdb/errors.ts';
import '../state/snapshot/errors.ts';
import '../state/ttl/errors.ts';
import './operators/two-input-errors.ts';
import './operators/window/window-state.ts';
import { BatonError, describeError, ForeignError, reviveThrown, type SerializedThrown, WorkerFailureError } from './errors.ts';

/**
 * What worker `workerIndex` failed with, as the job's error: a BatonError (a user function's, a
 * hook's, storage's, a connector's, ...) as its own class with its fields and the worker's stack;
 * anything else (a bug's TypeError, a library's error, a thrown string) as a WorkerFailureError
 * naming the worker, with the text and stack in its message and the revived error as its `cause`.
 *
 * @example this.fail(reviveWorkerFailure(event.error, workerIndex));
 */
export function reviveWorkerFailure(serialized: SerializedThrown, workerIndex: number): BatonError {
  const revived = reviveThrown(serialized);
  if (revived instanceof BatonError && !(revived instanceof ForeignError)) return revived;
  const { message, stack } = describeError(revived);
  return new WorkerFailureError(workerIndex, `${message}\n${stack}`, { cause: revived });
}
