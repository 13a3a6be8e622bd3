// Errors across a thread boundary: serialized, structured-cloned (as postMessage does) and revived,
// every class comes back as itself with its code, fields, message, stack and cause.
import { describe, expect, it } from 'vitest';
import {
  BatonError,
  ForeignError,
  registerErrors,
  StorageIoError,
  UnsupportedRecordValueError,
  UserFunctionError,
  WorkerFailureError,
} from '../../src/index.ts';
import { reviveThrown, serializeThrown } from '../../src/errors/index.ts';
import { reviveWorkerFailure } from '../../src/runtime/worker-failure.ts';
import { serializeFailure } from '../../src/runtime/worker/worker-entry.ts';
import { samples } from './samples.ts';

/** What the other thread gets: the serialized form through structured clone, revived. */
function acrossThreads(thrown: unknown): unknown {
  return reviveThrown(structuredClone(serializeThrown(thrown)));
}

function ownFields(error: object): Record<string, unknown> {
  return { ...error };
}

describe('serialize and revive every error class', () => {
  for (const [name, make] of Object.entries(samples)) {
    it(`${name}: same class, code, fields, message, stack and cause`, () => {
      const original = make();
      const revived = acrossThreads(original) as Error;
      expect(revived.constructor).toBe(original.constructor);
      expect(revived).toBeInstanceOf(BatonError);
      expect((revived as BatonError).code).toBe((original as BatonError).code);
      expect(revived.name).toBe(original.name);
      expect(revived.message).toBe(original.message);
      expect(revived.stack).toBe(original.stack);
      expect(ownFields(revived)).toEqual(ownFields(original));
      expect(Object.hasOwn(revived, 'cause')).toBe(Object.hasOwn(original, 'cause'));
      if (original.cause instanceof Error) {
        const cause = revived.cause as Error;
        expect(cause.constructor).toBe(original.cause.constructor);
        expect(cause.message).toBe(original.cause.message);
        expect(cause.stack).toBe(original.cause.stack);
        expect(ownFields(cause)).toEqual(ownFields(original.cause));
      } else {
        expect(revived.cause).toEqual(original.cause);
      }
    });
  }

  it('getters work on a revived error (built without its constructor)', () => {
    const revived = acrossThreads(samples.UserFunctionError()) as UserFunctionError;
    expect(revived.original).toBeInstanceOf(RangeError);
    expect(revived.original).toBe(revived.cause);
    expect(revived).toMatchObject({ operatorUid: 'boom', subtaskIndex: 0, originalMessage: 'cannot handle record 5000' });
    expect(revived.originalStack).toContain('RangeError: cannot handle record 5000');
  });
});

describe('errors of other classes', () => {
  it("a built-in keeps its class and Node's code and fields", () => {
    const original = Object.assign(new TypeError('The "path" argument must be of type string'), { code: 'ERR_INVALID_ARG_TYPE' });
    const revived = acrossThreads(original) as TypeError & { code: string };
    expect(revived).toBeInstanceOf(TypeError);
    expect(revived).toMatchObject({ name: 'TypeError', code: 'ERR_INVALID_ARG_TYPE', message: original.message, stack: original.stack });
    const fsError = acrossThreads(samples.StorageIoError().cause) as Error;
    expect(Object.getPrototypeOf(fsError)).toBe(Error.prototype);
    expect(fsError).toMatchObject({ code: 'EACCES', errno: -13, syscall: 'open' });
  });

  it('an AggregateError keeps its errors', () => {
    const revived = acrossThreads(new AggregateError([new RangeError('a'), new StorageIoError('file:///x', 'k', 'get', 'gone')], 'two failed')) as AggregateError;
    expect(revived).toBeInstanceOf(AggregateError);
    expect(revived.errors[0]).toBeInstanceOf(RangeError);
    expect(revived.errors[1]).toBeInstanceOf(StorageIoError);
  });

  it("a class this thread does not know becomes a ForeignError with its name, code, plain fields and stack, never a plain Error", () => {
    class PaymentDeclined extends Error {
      override name = 'PaymentDeclined';
      readonly code = 'PAY_DECLINED';
      readonly amount = 42;
      readonly socket = { write: () => undefined };
    }
    const original = new PaymentDeclined('card expired');
    const revived = acrossThreads(original) as ForeignError & { amount: number };
    expect(revived).toBeInstanceOf(ForeignError);
    expect(revived).toBeInstanceOf(BatonError);
    expect(revived).toMatchObject({ name: 'PaymentDeclined', code: 'PAY_DECLINED', message: 'card expired', amount: 42, stack: original.stack });
    expect(Object.hasOwn(revived, 'socket')).toBe(false);
    // Without a code of its own it says so.
    expect((acrossThreads(new (class Oops extends Error {})('x')) as ForeignError).code).toBe('BATON_ERR_FOREIGN');
  });

  it('a BatonError subclass unknown here revives as a ForeignError, which crosses on as the original: registered, it is the class again', () => {
    class RefundRefused extends BatonError {
      static override readonly code: string = 'APP_ERR_REFUND_REFUSED';
      override name = 'RefundRefused';
      readonly orderId = 'o-7';
    }
    const foreign = acrossThreads(new RefundRefused('too late')) as ForeignError;
    expect(foreign).toBeInstanceOf(ForeignError);
    expect(foreign).toMatchObject({ name: 'RefundRefused', code: 'APP_ERR_REFUND_REFUSED', orderId: 'o-7' });
    registerErrors(RefundRefused);
    registerErrors(RefundRefused); // again: nothing happens
    const revived = acrossThreads(foreign) as RefundRefused;
    expect(revived).toBeInstanceOf(RefundRefused);
    expect(revived).toMatchObject({ name: 'RefundRefused', code: 'APP_ERR_REFUND_REFUSED', orderId: 'o-7', message: 'too late' });
  });

  it('registerErrors refuses a class without a code of its own, and a second class for a taken code', () => {
    class NoCode extends BatonError {}
    class Fenced extends BatonError {
      static override readonly code: string = 'BATON_ERR_FENCED';
    }
    expect(() => registerErrors(NoCode)).toThrow(/needs a static code of its own/);
    expect(() => registerErrors(Fenced)).toThrow(/BATON_ERR_FENCED is already the code of FencedError/);
  });

  it('thrown values that are not errors come back as themselves; fields that cannot cross become text; a cause loop ends', () => {
    expect(acrossThreads('boom')).toBe('boom');
    expect(acrossThreads({ reason: 'x', n: 1 })).toEqual({ reason: 'x', n: 1 });
    const withFunction = Object.assign(new UnsupportedRecordValueError('op', 0, 'function', 'record.fn'), { extra: () => 1 });
    expect((acrossThreads(withFunction) as { extra: unknown }).extra).toBe('[function extra]');
    const looped = new BatonError('loop');
    Object.defineProperty(looped, 'cause', { value: looped, enumerable: false });
    let depth = 0;
    for (let e = acrossThreads(looped) as Error | undefined; e instanceof Error; e = e.cause as Error | undefined) depth++;
    expect(depth).toBeGreaterThan(1);
    expect(depth).toBeLessThan(12);
  });
});

describe('what the main thread reports of a failed worker', () => {
  const fromWorker = (error: unknown) => reviveWorkerFailure(structuredClone(serializeFailure(error)), 1);

  it('a BatonError as its own class; a user function failure keeps its cause as its real class', () => {
    expect(fromWorker(samples.StorageIoError())).toBeInstanceOf(StorageIoError);
    const failure = fromWorker(new UserFunctionError('enrich', 2, samples.StorageIoError()));
    expect(failure).toBeInstanceOf(UserFunctionError);
    expect(failure).toMatchObject({ operatorUid: 'enrich', subtaskIndex: 2, code: 'BATON_ERR_USER_FUNCTION' });
    expect(failure.cause).toBeInstanceOf(StorageIoError);
    expect(failure.cause).toMatchObject({ code: 'BATON_ERR_STORAGE_IO', operation: 'put', attempts: 3 });
  });

  it('a record value or async timeout raised inside a user function is reported unwrapped', () => {
    const unsupported = new UnsupportedRecordValueError('enrich', 0, 'symbol', 'record.s');
    expect(fromWorker(new UserFunctionError('map', 0, unsupported))).toBeInstanceOf(UnsupportedRecordValueError);
  });

  it("anything else as a WorkerFailureError naming the worker, with the error's text and stack, and the error as cause", () => {
    const bug = new TypeError("Cannot read properties of undefined (reading 'x')");
    const failure = fromWorker(bug);
    expect(failure).toBeInstanceOf(WorkerFailureError);
    expect(failure).toMatchObject({ workerIndex: 1, code: 'BATON_ERR_WORKER_FAILURE' });
    expect(failure.message).toContain("worker 1: Cannot read properties of undefined (reading 'x')");
    expect(failure.message).toContain(bug.stack as string);
    expect(failure.cause).toBeInstanceOf(TypeError);
    const library = fromWorker(Object.assign(new (class ReplyError extends Error {})('WRONGTYPE'), { code: 'WRONGTYPE' }));
    expect(library).toBeInstanceOf(WorkerFailureError);
    expect(library.cause).toBeInstanceOf(ForeignError);
    expect(fromWorker('boom')).toMatchObject({ message: 'worker 1: boom\nthrown value: boom', cause: 'boom' });
  });
});
