// findGraphProblems: every problem of a graph at once, each naming the option or operator at fault.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { defineJob, Sinks, Sources } from '../../../src/index.ts';
import { JobConfigError } from '../../../src/runtime/errors.ts';
import { findGraphProblems, validateGraph } from '../../../src/runtime/graph/index.ts';
import type { StreamExecutionEnvironment } from '../../../src/api/index.ts';

const dir = mkdtempSync(join(tmpdir(), 'baton-graph-problems-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function build(job: (env: StreamExecutionEnvironment) => void, maxParallelism = 128) {
  return defineJob(job).buildGraph({ parallelism: 1, maxParallelism, params: {} });
}

describe('findGraphProblems', () => {
  it('finds nothing wrong with a valid keyed pipeline', () => {
    const graph = build((env) => {
      env.fromSource(Sources.sequence({ from: 1, to: 10 })).keyBy((n) => n % 2).reduce((a, b) => a + b).setParallelism(4).sinkTo(Sinks.collect());
    });
    expect(findGraphProblems(graph)).toEqual([]);
  });

  it('reports every problem, not only the first, and validateGraph throws the first of them', () => {
    const notADirectory = join(dir, 'a-file');
    writeFileSync(notADirectory, '');
    const graph = build((env) => {
      env
        .fromElements(1, 2, 3)
        .setParallelism(2)
        .uid('elements')
        .keyBy((n) => n)
        .reduce((a, b) => a + b)
        .setParallelism(9)
        .uid('sums')
        .sinkTo(Sinks.file<number>({ path: notADirectory }))
        .uid('elements');
    }, 8);
    const problems = findGraphProblems(graph);
    expect(problems.every((p) => p instanceof JobConfigError)).toBe(true);
    expect(problems.map((p) => p.message)).toEqual([
      "invalid uid 'elements': is used by two operators (elements and sink:file); uids must be unique",
      "invalid parallelism of source 'elements': elements sources run with at most 1 subtask(s), got 2",
      "invalid parallelism of operator 'sums': 9 exceeds maxParallelism 8 (a keyed operator needs at least one key group per subtask)",
      `invalid Sinks.file path: '${notADirectory}' exists and is not a directory`,
    ]);
    expect(() => validateGraph(graph)).toThrow(problems[0].message);
  });

  it('reports a bad source option and a job without a source', () => {
    const badSource = build((env) => {
      env.fromSource(Sources.sequence({ from: 5, to: 1 }), 'numbers').uid('numbers').sinkTo(Sinks.discard());
    });
    expect(findGraphProblems(badSource).map((p) => p.option)).toEqual([expect.stringContaining('Sources.sequence')]);
    expect(findGraphProblems(build(() => {})).map((p) => p.message)).toEqual(['invalid job: the job defines no operators (call env.fromSource(...) and sinkTo(...))']);
  });

  it('lets a defect in a source that is not a JobConfigError propagate', () => {
    const graph = build((env) => {
      env.fromSource({ ...Sources.sequence({ from: 1, to: 2 }), kind: 'broken', createReader: () => { throw new Error('unused'); }, createSplits: () => [], validate: () => { throw new TypeError('bug in validate'); } }).sinkTo(Sinks.discard());
    });
    expect(() => findGraphProblems(graph)).toThrow(TypeError);
  });
});
