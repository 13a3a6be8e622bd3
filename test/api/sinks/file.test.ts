// Tests of Sinks.file: content, in-progress naming, visibility only after finish, abort, validation.
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Sinks } from '../../../src/api/sinks/index.ts';
import { configError } from '../helpers.ts';

let root = '';

beforeEach(() => {
  root = mkdtempSync(join(tmpdir(), 'baton-file-sink-'));
});

afterEach(() => {
  rmSync(root, { recursive: true, force: true });
});

/** Files a consumer of the directory would pick up (not hidden). */
function visible(dir: string): string[] {
  return readdirSync(dir)
    .filter((name) => !name.startsWith('.'))
    .sort();
}


describe('Sinks.file', () => {
  it('writes one JSON line per record and makes the part file visible only on finish', async () => {
    const dir = join(root, 'out', 'nested');
    const sink = Sinks.file<{ n: number; s: string }>({ path: dir });
    sink.validate();
    const writer = sink.createWriter({ uid: 'counts', subtaskIndex: 3, parallelism: 4 });
    const records = Array.from({ length: 20_000 }, (_, n) => ({ n, s: `line\n${n} é😀` }));
    for (const record of records) writer.write(record, 0);

    // Enough was written to flush: the data sits in a hidden in-progress file.
    expect(readdirSync(dir)).toEqual(['.part-counts-3-0.inprogress']);
    expect(visible(dir)).toEqual([]);

    await writer.finish();
    expect(readdirSync(dir)).toEqual(['part-counts-3-0']);
    const lines = readFileSync(join(dir, 'part-counts-3-0'), 'utf8').split('\n');
    expect(lines.pop()).toBe('');
    expect(lines.map((line) => JSON.parse(line))).toEqual(records);

    // Finishing twice or aborting after finish leaves the output alone.
    await writer.finish();
    await writer.abort();
    expect(visible(dir)).toEqual(['part-counts-3-0']);
  });

  it('writes one part file per subtask with a custom format and a sanitized uid', async () => {
    const sink = Sinks.file<[string, number]>({ path: root, format: ([word, count]) => `${word},${count}` });
    const writers = [0, 1].map((subtaskIndex) => sink.createWriter({ uid: 'word count/v2', subtaskIndex, parallelism: 2 }));
    writers[0].write(['a', 1], 0);
    writers[0].write(['b', 2], 0);
    writers[1].write(['c', 3], 0);
    expect(visible(root)).toEqual([]);
    await writers[0].finish();
    expect(visible(root)).toEqual(['part-word_count_v2-0-0']);
    await writers[1].finish();
    expect(visible(root)).toEqual(['part-word_count_v2-0-0', 'part-word_count_v2-1-0']);
    expect(readFileSync(join(root, 'part-word_count_v2-0-0'), 'utf8')).toBe('a,1\nb,2\n');
    expect(readFileSync(join(root, 'part-word_count_v2-1-0'), 'utf8')).toBe('c,3\n');
    expect(readdirSync(root).some((name) => name.endsWith('.inprogress'))).toBe(false);
  });

  it('writes no part file for a subtask without records, and null for undefined', async () => {
    const sink = Sinks.file<unknown>({ path: root });
    const empty = sink.createWriter({ uid: 'u', subtaskIndex: 0, parallelism: 2 });
    const odd = sink.createWriter({ uid: 'u', subtaskIndex: 1, parallelism: 2 });
    odd.write(undefined, 0);
    odd.write('x', 0);
    await empty.finish();
    await odd.finish();
    expect(readdirSync(root)).toEqual(['part-u-1-0']);
    expect(readFileSync(join(root, 'part-u-1-0'), 'utf8')).toBe('null\n"x"\n');
  });

  it('never overwrites committed output of an earlier attempt', async () => {
    writeFileSync(join(root, 'part-u-0-0'), 'earlier\n');
    const writer = Sinks.file<number>({ path: root }).createWriter({ uid: 'u', subtaskIndex: 0, parallelism: 1 });
    writer.write(1, 0);
    await writer.finish();
    expect(readdirSync(root).sort()).toEqual(['part-u-0-0', 'part-u-0-1']);
    expect(readFileSync(join(root, 'part-u-0-0'), 'utf8')).toBe('earlier\n');
    expect(readFileSync(join(root, 'part-u-0-1'), 'utf8')).toBe('1\n');
  });

  it('stages output per checkpoint and makes it visible only when that checkpoint completes', async () => {
    const writer = Sinks.file<number>({ path: root }).createWriter({ uid: 't', subtaskIndex: 0, parallelism: 1 });
    writer.write(1, 0);
    const state1 = writer.prepareCommit?.(1);
    writer.write(2, 0);
    const state2 = writer.prepareCommit?.(2);
    writer.write(3, 0);
    expect(readdirSync(root).filter((f) => !f.startsWith('.'))).toEqual([]);
    expect(state1).toEqual({ subtaskIndex: 0, staged: [{ checkpointId: 1, seqs: [0] }] });
    expect(state2).toEqual({ subtaskIndex: 0, staged: [{ checkpointId: 1, seqs: [0] }, { checkpointId: 2, seqs: [1] }] });
    await writer.commit?.(1);
    expect(readdirSync(root).filter((f) => !f.startsWith('.'))).toEqual(['part-t-0-0']);
    // A failure now: checkpoint 2 never completes, record 3 was never checkpointed.
    await writer.abort();
    // The restore of checkpoint 2 (which completed after all, say) commits what it staged.
    const restored = Sinks.file<number>({ path: root }).createWriter({ uid: 't', subtaskIndex: 0, parallelism: 1 });
    await restored.recover?.([state2]);
    expect(readdirSync(root).sort()).toEqual(['part-t-0-0', 'part-t-0-1']);
    restored.write(4, 0);
    await restored.finish();
    const lines = readdirSync(root).sort().flatMap((f) => readFileSync(join(root, f), 'utf8').split('\n').filter(Boolean));
    expect(lines).toEqual(['1', '2', '4']);
  });

  it('a restore discards what later, never completed checkpoints staged', async () => {
    const writer = Sinks.file<number>({ path: root }).createWriter({ uid: 'd', subtaskIndex: 1, parallelism: 2 });
    writer.write(1, 0);
    const state1 = writer.prepareCommit?.(1);
    writer.write(2, 0);
    writer.prepareCommit?.(2);
    writer.write(3, 0);
    await writer.abort();
    const restored = Sinks.file<number>({ path: root }).createWriter({ uid: 'd', subtaskIndex: 1, parallelism: 2 });
    await restored.recover?.([state1]);
    expect(readdirSync(root)).toEqual(['part-d-1-0']);
  });

  it('abort() leaves nothing behind, flushed or not', async () => {
    const sink = Sinks.file<string>({ path: root });
    const flushed = sink.createWriter({ uid: 'a', subtaskIndex: 0, parallelism: 2 });
    const buffered = sink.createWriter({ uid: 'a', subtaskIndex: 1, parallelism: 2 });
    for (let i = 0; i < 10_000; i++) flushed.write(`record ${i}`, 0);
    buffered.write('only one', 0);
    expect(existsSync(join(root, '.part-a-0-0.inprogress'))).toBe(true);
    await flushed.abort();
    await buffered.abort();
    expect(readdirSync(root)).toEqual([]);
    // A finish after abort must not resurrect the output.
    await flushed.finish();
    expect(readdirSync(root)).toEqual([]);
    expect(() => flushed.write('late', 0)).toThrow(/after aborted/);
  });

  it('names the bad option in validation errors', () => {
    const file = join(root, 'a-file');
    writeFileSync(file, 'x');
    const bad = (options: unknown) => configError(() => Sinks.file(options as { path: string }).validate());
    expect(bad({ path: '' }).option).toBe('Sinks.file path');
    expect(bad({}).option).toBe('Sinks.file path');
    expect(bad({ path: file }).option).toBe('Sinks.file path');
    expect(bad({ path: file }).message).toMatch(/^invalid Sinks\.file path: /);
    expect(bad({ path: root, format: 'json' }).option).toBe('Sinks.file format');
    expect(() => Sinks.file({ path: join(root, 'missing', 'dir') }).validate()).not.toThrow();
    expect(() => Sinks.file({ path: root }).validate()).not.toThrow();
  });
});

describe('Sinks.file restored state from storage (hostile input)', () => {
  it('checkRestoredState accepts what prepareCommit returns and names the first bad field otherwise', () => {
    const sink = Sinks.file<string>({ path: join(root, 'out') });
    const writer = sink.createWriter({ uid: 'out', subtaskIndex: 1, parallelism: 2 });
    writer.write('a', 0);
    expect(sink.checkRestoredState?.(writer.prepareCommit?.(4))).toBeUndefined();
    expect(sink.checkRestoredState?.(undefined)).toBeUndefined();
    for (const [state, field, value] of [
      [{ subtaskIndex: 'X/../../victim/secret', staged: [] }, '.subtaskIndex', 'X/../../victim/secret'],
      [{ subtaskIndex: 0, staged: [{ checkpointId: 1, seqs: [0, '../x'] }] }, '.staged[0].seqs[1]', '../x'],
      [{ subtaskIndex: 0, staged: [{ checkpointId: 1, seqs: [1.5] }] }, '.staged[0].seqs[0]', 1.5],
      [{ subtaskIndex: 0, staged: [{ checkpointId: -1, seqs: [] }] }, '.staged[0].checkpointId', -1],
      [{ subtaskIndex: 0, staged: [null] }, '.staged[0]', null],
      [{ subtaskIndex: 0 }, '.staged', undefined],
      ['part-out-0-0', '', 'part-out-0-0'],
    ] as const) {
      expect(sink.checkRestoredState?.(state), JSON.stringify(state)).toMatchObject({ field, value });
    }
  });

  it('recover refuses a hostile state before renaming anything, also outside the coordinator', async () => {
    const dir = join(root, 'out');
    const sink = Sinks.file<string>({ path: dir });
    const first = sink.createWriter({ uid: 'out', subtaskIndex: 0, parallelism: 1 });
    first.write('kept', 0);
    const staged = first.prepareCommit?.(1);
    await first.abort();
    // A victim a path escape would reach: <root>/victim/secret-0.pending → secret-0.
    const victim = join(root, 'victim');
    mkdirSync(victim);
    writeFileSync(join(victim, 'secret-0.pending'), 'victim');
    const restored = sink.createWriter({ uid: 'out', subtaskIndex: 0, parallelism: 1 });
    expect(() => restored.recover?.([staged, { subtaskIndex: 'X/../../victim/secret', staged: [{ checkpointId: 1, seqs: [0] }] }])).toThrow(/subtaskIndex/);
    expect(readdirSync(victim)).toEqual(['secret-0.pending']);
    // The valid state was not committed either: nothing is touched when any state is refused.
    expect(visible(dir)).toEqual([]);
  });
});
