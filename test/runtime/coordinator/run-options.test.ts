// parseRunJobOptions: defaults, and every invalid value rejected with a JobConfigError naming its option.
import { describe, expect, it } from 'vitest';
import { parseRunJobOptions } from '../../../src/runtime/coordinator/run-options.ts';
import { JobConfigError, UnknownOptionError } from '../../../src/runtime/errors.ts';

function configError(options: unknown): JobConfigError {
  try {
    parseRunJobOptions(options);
  } catch (error) {
    expect(error).toBeInstanceOf(JobConfigError);
    return error as JobConfigError;
  }
  throw new Error(`accepted ${JSON.stringify(options)}`);
}

describe('parseRunJobOptions', () => {
  it('fills in defaults for missing, empty and undefined options', () => {
    const expected = { parallelism: 1, maxParallelism: 128, batchSize: 1024, channelCredits: 8, metricsIntervalMs: 500 };
    for (const input of [undefined, null, {}]) {
      const parsed = parseRunJobOptions(input);
      expect(parsed).toMatchObject(expected);
      expect(parsed.jobId).toBeUndefined();
      expect(parsed.workers).toBeUndefined();
    }
  });

  it("accepts restoreFrom 'latest', 'latest-valid', 'latest-or-empty', a number and a chk-<n> path", () => {
    for (const restoreFrom of ['latest', 'latest-valid', 'latest-or-empty', 3, '12', '/data/jobs/a/chk-3', 's3://b/p/a/chk-3/', 'file:///d/a/chk-3/_metadata']) {
      expect(parseRunJobOptions({ restoreFrom }).restoreFrom).toBe(restoreFrom);
    }
  });

  it("rejects restoreFrom 'chk-3' suggesting the number to use, and other strings naming what is accepted", () => {
    const error = configError({ restoreFrom: 'chk-3' });
    expect(error.option).toBe('restoreFrom');
    expect(error.message).toContain('restoreFrom: 3');
    expect(error.message).toContain('--restore-from 3');
    expect(configError({ restoreFrom: 'newest' }).message).toMatch(/not 'latest', 'latest-valid', 'latest-or-empty', a checkpoint number or a path ending in chk-<n>/);
  });

  it('keeps valid values as given', () => {
    const parsed = parseRunJobOptions({ jobId: 'job-1.a_b', parallelism: 4, maxParallelism: 32768, workers: 2, batchSize: 1, channelCredits: 4096, metricsIntervalMs: 10 });
    expect(parsed).toMatchObject({ jobId: 'job-1.a_b', parallelism: 4, maxParallelism: 32768, workers: 2, batchSize: 1, channelCredits: 4096, metricsIntervalMs: 10 });
  });

  it.each([0, -1, 1.5, '2', 1025, Number.NaN, null])('rejects parallelism %s naming the option', (parallelism) => {
    const error = configError({ parallelism });
    expect(error.option).toBe('parallelism');
    expect(error.message).toContain('parallelism');
  });

  it.each([
    ['maxParallelism', 0],
    ['maxParallelism', 32769],
    ['workers', 0],
    ['workers', 2.5],
    ['batchSize', 0],
    ['batchSize', 65537],
    ['channelCredits', 0],
    ['channelCredits', '4'],
    ['metricsIntervalMs', 9],
  ])('rejects %s = %s naming the option', (option, value) => {
    expect(configError({ [option]: value }).option).toBe(option);
  });

  it.each(['../x', '', '.hidden', 'a/b', 'has space', 'x'.repeat(129), 42])('rejects jobId %j', (jobId) => {
    const error = configError({ jobId });
    expect(error.option).toBe('jobId');
    expect(error.message).toContain(JSON.stringify(jobId));
  });

  it('accepts a 128-character jobId', () => {
    expect(parseRunJobOptions({ jobId: 'a'.repeat(128) }).jobId).toBe('a'.repeat(128));
  });

  it('rejects an unknown key, naming it', () => {
    const error = configError({ parallelism: 2, paralelism: 3 });
    expect(error.option).toBe('paralelism');
    expect(error.message).toContain("unknown option 'paralelism'");
    expect(error.message).toContain('parallelism');
  });

  it('names an unknown key of a nested option object by its path, with the likely intended key', () => {
    for (const [options, option, key, suggestion] of [
      [{ handover: { timeoutMS: 5 } }, 'handover.timeoutMS', 'timeoutMS', 'timeoutMs'],
      [{ s3: { endpiont: 'http://127.0.0.1:9000' } }, 's3.endpiont', 'endpiont', 'endpoint'],
      [{ storageTimeouts: { retries: 3 } }, 'storageTimeouts.retries', 'retries', undefined],
      [{ restartStrategy: { type: 'fixedDelay', attempts: 2, delayMS: 0 } }, 'restartStrategy.delayMS', 'delayMS', 'delayMs'],
    ] as const) {
      const error = configError(options);
      expect(error).toBeInstanceOf(UnknownOptionError);
      expect(error).toMatchObject({ option, key, suggestion, code: 'BATON_ERR_UNKNOWN_OPTION' });
      expect(error.message).toContain(`unknown option '${key}'`);
      if (suggestion) expect(error.message).toContain(`did you mean '${suggestion}'?`);
    }
    // The known keys listed are the nested object's, not runJob's.
    expect(configError({ handover: { timeoutMS: 5 } }).message).toContain(
      '(known: targetCheckpoint, leaseMs, timeoutMs, onTimeout, pollMs, requestStop, allowStaleTarget, mode, shadow, promotionGuard, guardTimeoutMs, onGuardTimeout)',
    );
    expect(configError({ handover: { mode: 'shadow', shadow: { promoteAfter: 5 } } })).toMatchObject({ option: 'handover.shadow.promoteAfter', suggestion: 'promoteAfterMs' });
  });

  it('shadow mode: defaults (manual promotion, a sample of 100), and a guard must say what its timeout means', () => {
    expect(parseRunJobOptions({ handover: { mode: 'shadow' } }).handover).toMatchObject({
      mode: 'shadow',
      shadow: { promoteAfterMs: 'manual', sampleSize: 100, sampleEveryMs: 1_000 },
      guardTimeoutMs: 30_000,
    });
    expect(parseRunJobOptions({ handover: {} }).handover?.mode).toBe('checkpoint');
    const guard = async () => true as const;
    expect(configError({ handover: { promotionGuard: guard } })).toMatchObject({ option: 'handover.onGuardTimeout' });
    expect(configError({ handover: { promotionGuard: guard } }).message).toContain("'promote' or 'abort'");
    expect(parseRunJobOptions({ handover: { promotionGuard: guard, onGuardTimeout: 'abort', guardTimeoutMs: 50 } }).handover).toMatchObject({ onGuardTimeout: 'abort', guardTimeoutMs: 50 });
    expect(configError({ handover: { promotionGuard: 'yes', onGuardTimeout: 'abort' } }).message).toContain('must be a function');
  });

  it('rejects options that are not an object', () => {
    expect(configError(5).option).toBe('options');
  });
});
