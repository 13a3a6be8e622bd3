// Tests of Sinks.collect and Sinks.discard.
import { describe, expect, it } from 'vitest';
import { Sinks } from '../../../src/api/sinks/index.ts';

const ctx = { uid: 'out', subtaskIndex: 0, parallelism: 1 };

describe('Sinks.collect', () => {
  it('returns what each writer received, in order', async () => {
    const sink = Sinks.collect<number>();
    sink.validate();
    const first = sink.createWriter(ctx);
    const second = sink.createWriter({ ...ctx, subtaskIndex: 1 });
    for (let i = 0; i < 5; i++) first.write(i, 0);
    second.write(42, 0);
    await first.finish();
    await second.finish();
    expect(first.result?.()).toEqual([0, 1, 2, 3, 4]);
    expect(second.result?.()).toEqual([42]);
  });
});

describe('Sinks.discard', () => {
  it('accepts and drops anything', async () => {
    const sink = Sinks.discard<string>();
    sink.validate();
    const writer = sink.createWriter(ctx);
    for (let i = 0; i < 1000; i++) writer.write(`r${i}`, i);
    await writer.finish();
    await writer.abort();
    expect(writer.result).toBeUndefined();
    expect(Sinks.discard<string>()).not.toBe(sink);
  });
});
