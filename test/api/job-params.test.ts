// Declared job parameters: declarations, conversion of given values, errors naming the parameter,
// the typed values a builder gets, `--param` parsing, and what `baton check` / `baton run` report.
import { fileURLToPath } from 'node:url';
import { describe, expect, expectTypeOf, it } from 'vitest';
import { describeParams, JobParamError, param, resolveParams } from '../../src/api/job-params.ts';
import { checkJob } from '../../src/cli/check/index.ts';
import { main } from '../../src/cli/main.ts';
import { parseParam } from '../../src/cli/parse-params.ts';
import { defineJob, JobConfigError, runJob, Sinks, UnknownOptionError } from '../../src/index.ts';
import type { JobParam } from '../../src/runtime/types.ts';

const declared = {
  clicks: param.number({ default: 200_000, integer: true, min: 1, description: 'clicks to generate' }),
  region: param.string({ required: true }),
  dryRun: param.boolean(),
  mode: param.string({ default: 'fast', choices: ['fast', 'exact'] }),
};
const specs = Object.fromEntries(Object.entries(declared).map(([k, d]) => [k, d.spec]));

function errorOf(fn: () => unknown): unknown {
  try {
    fn();
  } catch (e) {
    return e;
  }
  throw new Error('did not throw');
}

describe('param declarations', () => {
  it('describe themselves for baton check', () => {
    expect(describeParams(specs)).toEqual(['clicks: integer, in [1, ∞], default 200000 (clicks to generate)', 'region: string, required', 'dryRun: boolean, optional', 'mode: string (fast|exact), default "fast"']);
  });

  it('refuse contradictory or misspelled options and defaults of the wrong type', () => {
    expect(() => param.number({ required: true, default: 1 } as never)).toThrow(/a required parameter has no default/);
    const typo = errorOf(() => param.number({ defualt: 1 } as never));
    expect(typo).toBeInstanceOf(UnknownOptionError);
    expect((typo as UnknownOptionError).suggestion).toBe('default');
    expect(() => param.number({ default: 'x' as never })).toThrow(/param.number\(\) default: expected a number/);
    expect(() => param.number({ default: 0, min: 1 })).toThrow(/must be >= 1/);
    expect(() => param.string({ default: 'slow', choices: ['fast'] })).toThrow(/must be one of fast/);
  });
});

describe('resolveParams', () => {
  it('fills in defaults, leaves optional ones undefined, converts strings to the declared type', () => {
    expect(resolveParams(specs, { region: 'eu' })).toEqual({ clicks: 200_000, region: 'eu', dryRun: undefined, mode: 'fast' });
    expect(resolveParams(specs, { region: 'eu', clicks: '5000', dryRun: 'true', mode: 'exact' })).toEqual({ clicks: 5_000, region: 'eu', dryRun: true, mode: 'exact' });
    // A number given for a string param is its text (what `--param region=123` gives).
    expect(resolveParams(specs, { region: 123 }).region).toBe('123');
  });

  it('names the parameter at fault: missing required, wrong type, out of bounds, not a choice', () => {
    const missing = errorOf(() => resolveParams(specs, {}));
    expect(missing).toBeInstanceOf(JobParamError);
    expect(missing).toBeInstanceOf(JobConfigError);
    expect((missing as JobParamError).code).toBe('BATON_ERR_JOB_PARAM');
    expect((missing as JobParamError).param).toBe('region');
    expect((missing as Error).message).toBe("invalid param 'region': is required: pass --param region=<string> to baton run, or params.region to runJob");
    expect((missing as JobParamError).declared).toEqual(describeParams(specs));
    const cases: Array<[Record<string, JobParam>, RegExp]> = [
      [{ region: 'eu', clicks: 'many' }, /param 'clicks': expected a number, got 'many'/],
      [{ region: 'eu', clicks: true }, /param 'clicks': expected a number, got boolean true/],
      [{ region: 'eu', clicks: 1.5 }, /param 'clicks': must be an integer, got 1.5/],
      [{ region: 'eu', clicks: 0 }, /param 'clicks': must be >= 1, got 0/],
      [{ region: 'eu', dryRun: 'yes' }, /param 'dryRun': expected true or false, got 'yes'/],
      [{ region: 'eu', dryRun: 1 }, /param 'dryRun': expected true or false, got number 1/],
      [{ region: 'eu', mode: 'slow' }, /param 'mode': must be one of fast, exact, got 'slow'/],
    ];
    for (const [given, message] of cases) {
      const e = errorOf(() => resolveParams(specs, given));
      expect(e).toBeInstanceOf(JobParamError);
      expect((e as Error).message).toMatch(message);
    }
  });

  it('refuses a parameter the job does not declare, suggesting the one it likely meant', () => {
    const e = errorOf(() => resolveParams(specs, { region: 'eu', clikcs: 5 }));
    expect(e).toBeInstanceOf(UnknownOptionError);
    expect((e as UnknownOptionError).suggestion).toBe('clicks');
  });
});

describe('defineJob with params', () => {
  it('gives the builder typed values and env.params the same; the plain form keeps its untyped bag', () => {
    let seen: unknown;
    let envParams: unknown;
    const job = defineJob({ params: declared }, (env, params) => {
      expectTypeOf(params.clicks).toEqualTypeOf<number>();
      expectTypeOf(params.region).toEqualTypeOf<string>();
      expectTypeOf(params.dryRun).toEqualTypeOf<boolean | undefined>();
      seen = params;
      envParams = env.params;
      env.fromElements(1).sinkTo(Sinks.discard());
    });
    expect(job.params?.region).toEqual({ type: 'string', required: true });
    job.buildGraph({ parallelism: 1, maxParallelism: 128, params: { region: 'us', clicks: '10' } });
    expect(seen).toEqual({ clicks: 10, region: 'us', dryRun: undefined, mode: 'fast' });
    expect(envParams).toEqual({ clicks: 10, region: 'us', mode: 'fast' });

    const plain = defineJob((env) => {
      envParams = env.params;
      env.fromElements(1).sinkTo(Sinks.discard());
    });
    expect(plain.params).toBeUndefined();
    plain.buildGraph({ parallelism: 1, maxParallelism: 128, params: { anything: 'goes' } });
    expect(envParams).toEqual({ anything: 'goes' });
  });

  it('refuses a spec that is not made of param declarations', () => {
    expect(() => defineJob({ params: { n: 5 } } as never, () => {})).toThrow(/defineJob params.n: expected a declaration made with param/);
    expect(() => defineJob({ params: {}, extra: 1 } as never, () => {})).toThrow(/unknown key 'extra'/);
    expect(() => defineJob({ params: {} } as never)).toThrow(/expected the job builder/);
  });

  it('runJob fails before anything starts, naming the parameter', async () => {
    const url = new URL('../cli/check-jobs/declared-params.ts', import.meta.url);
    const error = await runJob(url, { params: { clicks: 10 } }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(JobParamError);
    expect((error as JobParamError).param).toBe('region');
  });
});

describe('the CLI', () => {
  const jobPath = fileURLToPath(new URL('../cli/check-jobs/declared-params.ts', import.meta.url));
  function capture() {
    const out: string[] = [];
    const err: string[] = [];
    return { io: { out: (l: string) => out.push(l), err: (l: string) => err.push(l) }, out, err };
  }

  it('--param types true/false and numbers written as JavaScript prints them, and keeps any other text as typed', () => {
    let params = parseParam('n=42');
    params = parseParam('fast=true', params);
    params = parseParam('zip=007', params);
    params = parseParam('big=1e3', params);
    params = parseParam('neg=-1.5', params);
    expect(params).toEqual({ n: 42, fast: true, zip: '007', big: '1e3', neg: -1.5 });
    // A declared number still gets 1000 from '1e3'; a declared string gets '007' back.
    expect(resolveParams({ big: { type: 'number', required: false }, zip: { type: 'string', required: false } }, { big: '1e3', zip: '007' })).toEqual({ big: 1_000, zip: '007' });
  });

  it('baton check lists the declared params, and names a missing one as a problem', async () => {
    const report = await checkJob(jobPath, { typeCheck: false, params: { region: 'eu' } });
    expect(report.problems).toEqual([]);
    expect(report.params && Object.keys(report.params)).toEqual(['clicks', 'region', 'dryRun']);

    const ok = capture();
    expect(await main(['node', 'baton', 'check', jobPath, '--no-type-check', '--param', 'region=eu'], ok.io)).toBe(0);
    expect(ok.out.slice(1)).toEqual(['  param clicks: integer, in [1, ∞], default 100 (clicks to generate)', '  param region: string (eu|us), required', '  param dryRun: boolean, optional']);

    const missing = capture();
    expect(await main(['node', 'baton', 'check', jobPath, '--no-type-check', '--param', 'clicks=5'], missing.io)).toBe(1);
    expect(missing.out).toEqual([expect.stringMatching(/declared-params\.ts: invalid param 'region': is required: pass --param region=eu\|us to baton run/)]);
    expect(missing.err).toEqual(['the job declares these params:', '  clicks: integer, in [1, ∞], default 100 (clicks to generate)', '  region: string (eu|us), required', '  dryRun: boolean, optional']);
  });

  it('baton run fails with exit code 1, naming the parameter and listing the declared ones', async () => {
    const run = capture();
    expect(await main(['node', 'baton', 'run', jobPath, '--param', 'region=eu', '--param', 'clicks=lots'], run.io)).toBe(1);
    expect(run.err[0]).toBe("baton: invalid param 'clicks': expected a number, got 'lots'");
    expect(run.err.slice(1, 3)).toEqual(['the job declares these params:', '  clicks: integer, in [1, ∞], default 100 (clicks to generate)']);
  });

  it('baton run converts --param strings to the declared types', async () => {
    const run = capture();
    expect(await main(['node', 'baton', 'run', jobPath, '--param', 'region=us', '--param', 'clicks=3', '--param', 'dryRun=false'], run.io)).toBe(0);
    expect(run.out.join('\n')).toMatch(/FINISHED/);
  });
});

describe('a job with declared params under runJob', () => {
  it('runs with converted values', async () => {
    const job = await runJob(new URL('../cli/check-jobs/declared-params.ts', import.meta.url), { params: { region: 'us', clicks: '3' } });
    const result = await job.done;
    expect(result.collected.out).toEqual(['us:1', 'us:2', 'us:3']);
  });
});
