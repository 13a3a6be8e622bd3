// Option objects of the job API: a key baton does not know is named (with the likely intended one), never ignored.
import { describe, expect, it } from 'vitest';
import { Sinks, Sources, StreamExecutionEnvironment } from '../../src/index.ts';
import { closestKey, UnknownOptionError } from '../../src/errors/index.ts';
import { configError } from './helpers.ts';

const env = () => new StreamExecutionEnvironment(1, 128);

function unknownOption(run: () => void): UnknownOptionError {
  const error = configError(run);
  expect(error).toBeInstanceOf(UnknownOptionError);
  expect((error as UnknownOptionError).code).toBe('BATON_ERR_UNKNOWN_OPTION');
  return error as UnknownOptionError;
}

describe('unknown keys in option objects', () => {
  it("enableCheckpointing({ intervalMS }) names 'intervalMS' as unknown and suggests intervalMs (not 'intervalMs must be a number')", () => {
    const error = unknownOption(() => env().enableCheckpointing({ intervalMS: 200 } as never));
    expect(error).toMatchObject({ option: 'enableCheckpointing intervalMS', key: 'intervalMS', suggestion: 'intervalMs' });
    expect(error.message).toBe(
      "invalid enableCheckpointing intervalMS: unknown option 'intervalMS'; did you mean 'intervalMs'? (known: intervalMs, mode, alignedTimeoutMs, timeoutMs, minPauseMs, tolerableFailures, retain, unaligned, materialization)",
    );
  });

  it('enableCheckpointing: an unknown key next to valid ones, and in its nested objects', () => {
    expect(unknownOption(() => env().enableCheckpointing({ intervalMs: 100, retian: 3 } as never))).toMatchObject({ key: 'retian', suggestion: 'retain' });
    expect(unknownOption(() => env().enableCheckpointing({ intervalMs: 100, checkpointTimeout: 5 } as never)).suggestion).toBeUndefined();
    const nested = unknownOption(() => env().enableCheckpointing({ intervalMs: 100, mode: 'unaligned', unaligned: { spil: 'continuous' } } as never));
    expect(nested).toMatchObject({ option: 'enableCheckpointing unaligned.spil', suggestion: 'spill' });
    expect(unknownOption(() => env().enableCheckpointing({ intervalMs: 100, materialization: { maxDelta: 4 } } as never))).toMatchObject({
      option: 'enableCheckpointing materialization.maxDelta',
      suggestion: 'maxDeltas',
    });
    // Known keys, with undefined values too, are accepted.
    expect(() => env().enableCheckpointing({ intervalMs: 100, unaligned: undefined, retain: 2 })).not.toThrow();
  });

  it('sources and sinks name an unknown option', () => {
    expect(unknownOption(() => Sources.sequence({ from: 0, to: 3, rate: 10 } as never).validate())).toMatchObject({ option: 'Sources.sequence rate', key: 'rate' });
    expect(unknownOption(() => Sources.file({ path: '.', splitbytes: 64 } as never).validate())).toMatchObject({ option: 'Sources.file splitbytes', suggestion: 'splitBytes' });
    expect(unknownOption(() => Sinks.file({ path: 'out', fromat: String } as never).validate())).toMatchObject({ option: 'Sinks.file fromat', suggestion: 'format' });
  });

  it('closestKey suggests only a close key: same letters in another case, or a few edits away', () => {
    expect(closestKey('INTERVALMS', ['intervalMs'])).toBe('intervalMs');
    expect(closestKey('paralelism', ['parallelism', 'params'])).toBe('parallelism');
    expect(closestKey('timeoutMs', ['intervalMs', 'retain'])).toBeUndefined();
    expect(closestKey('x', ['mode'])).toBeUndefined();
  });
});
