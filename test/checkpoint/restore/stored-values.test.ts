// The checks every name, path and number read back from a checkpoint passes before use.
import { describe, expect, it } from 'vitest';
import { firstStoredProblem, isConfiguredPath, isSafeSegment, isStoredIndex, storedCheck } from '../../../src/checkpoint/restore/stored-values.ts';

const PART = /^\.?part-out-\d+-\d+(\.pending)?$/;

describe('isSafeSegment', () => {
  it('accepts a single name of the pattern', () => {
    for (const name of ['part-out-0-3', '.part-out-12-0.pending']) expect(isSafeSegment(name, PART), name).toBe(true);
  });

  it('refuses separators, dot names, NUL, other types and names off the pattern', () => {
    for (const name of ['X/../../../victim/secret', '../part-out-0-1', 'part-out-0-1/..', '.', '..', 'a\\b', 'part-out-0-1\0', '', 'part-in-0-1', 'x'.repeat(256)]) {
      expect(isSafeSegment(name, /.*/) && isSafeSegment(name, PART), JSON.stringify(name)).toBe(false);
    }
    for (const value of [1, null, undefined, ['part-out-0-1'], { name: 'part-out-0-1' }]) expect(isSafeSegment(value, /.*/)).toBe(false);
  });
});

describe('isStoredIndex', () => {
  it('accepts non-negative safe integers only', () => {
    expect([0, 1, 2 ** 53 - 1].every(isStoredIndex)).toBe(true);
    for (const v of [-1, 1.5, Number.NaN, Number.POSITIVE_INFINITY, 2 ** 53, '1', 'X/../..', null, undefined, 1n]) expect(isStoredIndex(v), String(v)).toBe(false);
  });
});

describe('isConfiguredPath', () => {
  const configured = { files: ['/data/in.txt'], dirs: ['/data/logs'] };

  it('accepts the configured file and files directly in the configured directory', () => {
    for (const path of ['/data/in.txt', '/data/logs/a.log', '/data/logs/.hidden']) expect(isConfiguredPath(path, configured), path).toBe(true);
  });

  it('refuses anything else, also paths that resolve into the directory', () => {
    for (const path of ['/etc/passwd', '/data/logs', '/data/logs/', '/data/logs/sub/a.log', '/data/logs/../in.txt', '/data/logs/./a.log', '/data/logs/..', 'data/in.txt', '../data/in.txt', '/data/in.txt\0', '/data/logsx/a.log', '//data/in.txt']) {
      expect(isConfiguredPath(path, configured), path).toBe(false);
    }
    for (const value of [undefined, 7, { path: '/data/in.txt' }]) expect(isConfiguredPath(value, configured)).toBe(false);
  });
});

describe('storedCheck and firstStoredProblem', () => {
  it('name the field of the first bad item below the value checked', () => {
    expect(storedCheck('.a', true, 'x', 1)).toBeUndefined();
    const problem = firstStoredProblem([1, 2, 'bad', 'worse'], (v) => storedCheck('', isStoredIndex(v), 'an index', v));
    expect(problem).toEqual({ field: '[2]', expected: 'an index', value: 'bad' });
  });
});
