// On worker threads, a typed error thrown in a worker reaches the main thread as its own class,
// with its code, fields and the worker's stack (as the cause of the UserFunctionError naming the
// operator whose function threw it).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { runJob, StorageNotFoundError, UserFunctionError } from '../../src/index.ts';
import { jobUrl } from './helpers.ts';
import { PaymentDeclinedError } from './jobs/typed-errors.ts';

const dir = mkdtempSync(join(tmpdir(), 'baton-typed-errors-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function failure(params: Record<string, string>): Promise<UserFunctionError> {
  const job = await runJob(jobUrl('typed-errors'), { parallelism: 2, params });
  const error = await job.done.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(UserFunctionError);
  expect(job.liveWorkerThreads()).toBe(0);
  return error as UserFunctionError;
}

describe('typed errors thrown on worker threads', () => {
  it("baton's storage error in an asyncMap function: the cause is a StorageNotFoundError with its fields and the worker's stack", async () => {
    const storage = pathToFileURL(dir).href;
    const error = await failure({ mode: 'storage', storage });
    expect(error).toMatchObject({ operatorUid: 'lookup', code: 'BATON_ERR_USER_FUNCTION' });
    const cause = error.cause as StorageNotFoundError;
    expect(cause).toBeInstanceOf(StorageNotFoundError);
    expect(cause).toMatchObject({ name: 'StorageNotFoundError', code: 'BATON_ERR_STORAGE_NOT_FOUND', key: 'prices/500', uri: storage });
    // Thrown on the worker: its stack passed through the job's function there.
    expect(cause.stack).toContain('lookupMissing');
    expect(error.originalStack).toBe(cause.stack);
  });

  it("the job's own registered error class: the cause is a PaymentDeclinedError with its code, fields and the user's stack", async () => {
    const error = await failure({ mode: 'payment' });
    expect(error).toMatchObject({ operatorUid: 'charge', originalMessage: 'payment of order 500 declined (EUR)' });
    const cause = error.cause as PaymentDeclinedError;
    expect(cause).toBeInstanceOf(PaymentDeclinedError);
    expect(cause).toMatchObject({ code: 'APP_ERR_PAYMENT_DECLINED', orderId: 500, currency: 'EUR' });
    expect(cause.stack).toContain('chargeOrder');
    expect(cause.stack).toContain('typed-errors.ts');
  });
});
