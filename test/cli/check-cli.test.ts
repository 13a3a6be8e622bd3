// `baton check <job>`: one line per problem and exit code 1, an ok line and 0 for a clean job;
// the type-check names TypeScript errors and says so when TypeScript is missing; `baton run`
// warns once per stateful operator without a uid.
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { checkJob, typeCheckJob } from '../../src/cli/check/index.ts';
import { main } from '../../src/cli/main.ts';

const jobs = (name: string) => fileURLToPath(new URL(`./check-jobs/${name}.ts`, import.meta.url));
const tmp = mkdtempSync(join(tmpdir(), 'baton-check-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

function capture() {
  const out: string[] = [];
  const err: string[] = [];
  return { io: { out: (l: string) => out.push(l), err: (l: string) => err.push(l) }, out, err };
}

describe('baton check (graph)', () => {
  it('accepts a clean job with exit code 0', async () => {
    const { io, out, err } = capture();
    expect(await main(['node', 'baton', 'check', jobs('clean'), '--no-type-check'], io)).toBe(0);
    expect(out).toEqual([`${jobs('clean')}: ok: types not checked; graph of 4 operators valid`]);
    expect(err).toEqual([]);
  });

  it('prints every graph problem on its own line and exits 1', async () => {
    const notADirectory = join(tmp, 'a-file');
    writeFileSync(notADirectory, '');
    const { io, out } = capture();
    const code = await main(['node', 'baton', 'check', jobs('bad-graph'), '--no-type-check', '--max-parallelism', '3', '--param', `sinkPath=${notADirectory}`], io);
    expect(code).toBe(1);
    expect(out).toHaveLength(3);
    expect(out[0]).toMatch(/bad-graph\.ts: invalid parallelism of source 'elements': elements sources run with at most 1 subtask\(s\), got 2$/);
    expect(out[1]).toMatch(/invalid parallelism of operator 'sums': 4 exceeds maxParallelism 3/);
    expect(out[2]).toMatch(/invalid Sinks\.file path: '.*a-file' exists and is not a directory$/);
  });

  it('reports a file that does not exist as the path given', async () => {
    const { io, out } = capture();
    expect(await main(['node', 'baton', 'check', join(tmp, 'nope.ts')], io)).toBe(1);
    expect(out).toEqual([`${join(tmp, 'nope.ts')}: no such file`]);
  });
});

describe('typeCheckJob', () => {
  it("reports type errors with file, line and column, under the tsconfig.json's options", async () => {
    const dir = mkdtempSync(join(tmp, 'project-'));
    const job = join(dir, 'job.ts');
    writeFileSync(
      job,
      ['declare function enableCheckpointing(options: { intervalMs: number }): void;', 'enableCheckpointing({ intervalMS: 1_000 });', 'export function twice(n) { return n * 2; }', ''].join('\n'),
    );
    // Without a tsconfig.json TypeScript 7's defaults apply (strict: no implicit any); this tsconfig.json allows it.
    const defaults = await typeCheckJob(job);
    expect(defaults.kind === 'checked' && defaults.configFile).toBe(undefined);
    expect(defaults.kind === 'checked' && defaults.errors).toEqual([
      `${job}:2:23 - error TS2561: Object literal may only specify known properties, but 'intervalMS' does not exist in type '{ intervalMs: number; }'. Did you mean to write 'intervalMs'?`,
      `${job}:3:23 - error TS7006: Parameter 'n' implicitly has an 'any' type.`,
    ]);
    writeFileSync(join(dir, 'tsconfig.json'), JSON.stringify({ compilerOptions: { strict: false, noEmit: true }, include: ['*.ts'] }));
    const lax = await typeCheckJob(job);
    expect(lax.kind === 'checked' && lax.configFile).toBe(join(dir, 'tsconfig.json'));
    expect(lax.kind === 'checked' && lax.errors).toEqual([expect.stringMatching(/job\.ts:2:23 - error TS2561: /)]);
  });

  it('says it skipped the type-check, and why, when no typescript package can be found', async () => {
    const job = join(tmp, 'job.ts');
    writeFileSync(job, 'export {};\n');
    expect(await typeCheckJob(job, [job])).toEqual({
      kind: 'skipped',
      reason: `the 'typescript' package is not installed (looked from ${tmp}); install it with npm install --save-dev typescript`,
    });
  });
});

describe('checkJob without TypeScript', () => {
  it('warns that it skipped the type-check and still validates the graph', async () => {
    const report = await checkJob(jobs('missing-uids'), { typeScriptFrom: [join(tmp, 'job.ts')] });
    expect(report.warnings).toEqual([`type-check skipped: the 'typescript' package is not installed (looked from ${tmp}); install it with npm install --save-dev typescript`]);
    expect(report.problems.map((l) => /operator '([^']+)'/.exec(l)?.[1])).toEqual(['source-0', 'reduce-2', 'sink-3']);
  });
});

describe('typeCheckJob with an older TypeScript', () => {
  it('says it skipped the type-check and names the version found when the job project has TypeScript < 7', async () => {
    const project = mkdtempSync(join(tmp, 'ts5-'));
    // Only the manifest is read before the version is refused: nothing of the package is run.
    mkdirSync(join(project, 'node_modules', 'typescript'), { recursive: true });
    writeFileSync(join(project, 'node_modules', 'typescript', 'package.json'), JSON.stringify({ name: 'typescript', version: '5.9.3' }));
    const job = join(project, 'job.ts');
    writeFileSync(job, 'export {};\n');
    expect(await typeCheckJob(job)).toEqual({
      kind: 'skipped',
      reason: 'typescript 5.9.3 is installed, but the check uses the API of typescript 7 or newer; install it with npm install --save-dev typescript@7',
    });
  });
});

describe('missing uids', () => {
  it('baton check reports each stateful operator without a uid when checkpointing is on (a separate process)', () => {
    const bin = fileURLToPath(new URL('../../bin/baton.mjs', import.meta.url));
    const run = spawnSync(process.execPath, [bin, 'check', jobs('missing-uids'), '--no-type-check'], { encoding: 'utf8', timeout: 60_000 });
    expect(run.stderr).toBe('');
    expect(run.status).toBe(1);
    expect(run.stdout.trimEnd().split('\n').map((l) => /operator '([^']+)'/.exec(l)?.[1])).toEqual(['source-0', 'reduce-2', 'sink-3']);
  });

  it('baton run warns on stderr once per such operator, and runs the job', async () => {
    const { io, out, err } = capture();
    const code = await main(['node', 'baton', 'run', jobs('missing-uids'), '--param', `out=${join(tmp, 'out')}`, '--checkpoint-storage', join(tmp, 'checkpoints')], io);
    expect(code).toBe(0);
    expect(err.map((l) => /^warning: operator '([^']+)'/.exec(l)?.[1])).toEqual(['source-0', 'reduce-2', 'sink-3']);
    expect(out.join('\n')).toMatch(/job 'missing-uids' FINISHED/);
  });
});
