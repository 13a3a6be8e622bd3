// The package as a user gets it: `npm pack`, installed into a fresh project, runs a TypeScript job
// with `npx baton run` and from a test that imports `baton` — no tsx, no build step in that project.
import { execFile } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const run = promisify(execFile);
const REPO = fileURLToPath(new URL('../../', import.meta.url));
const project = mkdtempSync(join(tmpdir(), 'baton-install-'));
afterAll(() => rmSync(project, { recursive: true, force: true }));

// The job a user would write next to their package.json: TypeScript, importing `baton` and a
// helper module of its own by relative path, reading a file beside itself through import.meta.url.
const JOB = `import { readFileSync } from 'node:fs';
import { defineJob, KeyedProcessFunction, Sinks, Sources, type Collector, type KeyedProcessContext, type KeyedRuntimeContext, type ValueState } from 'baton';
import { keyOf } from './keys.ts';

const offset = Number(readFileSync(new URL('./offset.txt', import.meta.url), 'utf8'));

class Count extends KeyedProcessFunction<number, number, string> {
  private count!: ValueState<number>;
  override open(ctx: KeyedRuntimeContext): void {
    this.count = ctx.valueState<number>('count');
  }
  processElement(n: number, ctx: KeyedProcessContext<number>, out: Collector<string>): void {
    const count = (this.count.value() ?? 0) + 1;
    this.count.update(count);
    // Each of the 10 keys sees 100 of the numbers, in whatever order the source subtasks send them.
    if (count === 100) out.collect(\`\${ctx.key}:\${count}:\${offset}\`);
  }
}

export default defineJob((env) => {
  env
    .fromSource(Sources.sequence({ from: 1, to: 1_000 }), 'numbers')
    .uid('numbers')
    .keyBy(keyOf)
    .process(new Count())
    .uid('count')
    .sinkTo(Sinks.collect())
    .uid('out');
});
`;

const TEST = `import { test } from 'node:test';
import assert from 'node:assert/strict';
import { runJob } from 'baton';

test('runs the job from a test', async () => {
  const job = await runJob(new URL('./job.ts', import.meta.url), { parallelism: 2 });
  const result = await job.done;
  assert.equal(result.status, 'FINISHED');
  assert.deepEqual([...result.collected.out].sort(), Array.from({ length: 10 }, (_, k) => \`\${k}:100:7\`));
});
`;

// baton/testing from the installed package: an inline job, run in the test's thread.
const KIT_TEST = `import { test } from 'node:test';
import assert from 'node:assert/strict';
import { defineJob, Sinks, Sources } from 'baton';
import { testJob } from 'baton/testing';

const job = defineJob((env) => {
  env.fromSource(Sources.elements([]), 'numbers').uid('numbers').map((n) => n * 2).uid('double').sinkTo(Sinks.collect()).uid('out');
});

test('testJob runs an inline job in this thread', async () => {
  const driver = await testJob(job, { parallelism: 2 });
  await driver.input('numbers').pushAll([1, 2, 3]);
  await driver.checkpoint();
  assert.deepEqual(driver.output('out').committed.sort(), [2, 4, 6]);
  assert.equal(driver.handle.liveWorkerThreads(), 0);
  await driver.close();
});
`;

describe('installed from `npm pack` into a fresh project', { timeout: 240_000 }, () => {
  beforeAll(async () => {
    // Packed from a copy: `npm pack` builds dist/ (prepare), and the checkout's own dist/ is in use
    // by the other test files' worker threads meanwhile.
    const copy = join(project, 'baton-src');
    mkdirSync(copy);
    for (const entry of ['package.json', 'package-lock.json', 'README.md', 'bin', 'src', 'examples', 'scripts', 'docs', 'tsconfig.json']) {
      cpSync(join(REPO, entry), join(copy, entry), { recursive: true });
    }
    symlinkSync(join(REPO, 'node_modules'), join(copy, 'node_modules'));
    const { stdout } = await run('npm', ['pack', '--pack-destination', project, '--silent'], { cwd: copy, maxBuffer: 16 << 20 });
    const tarball = stdout.trim().split('\n').at(-1)!;
    writeFileSync(join(project, 'package.json'), JSON.stringify({ name: 'my-jobs', private: true, type: 'module' }, null, 2));
    writeFileSync(join(project, 'job.ts'), JOB);
    writeFileSync(join(project, 'keys.ts'), 'export const keyOf = (n: number): number => n % 10;\n');
    writeFileSync(join(project, 'offset.txt'), '7');
    mkdirSync(join(project, 'test'));
    writeFileSync(join(project, 'test', 'job.test.mjs'), TEST.replace('./job.ts', '../job.ts'));
    writeFileSync(join(project, 'test', 'kit.test.mjs'), KIT_TEST);
    // From the npm cache `npm ci` filled: the same packages the lockfile names, no network needed for them.
    await run('npm', ['install', '--prefer-offline', '--no-audit', '--no-fund', join(project, tarball)], { cwd: project, maxBuffer: 16 << 20 });
  }, 240_000);

  it('`npx baton run job.ts` runs a TypeScript job', async () => {
    const { stdout } = await run('npx', ['baton', 'run', 'job.ts', '-p', '2', '--result-json', 'result.json'], { cwd: project, maxBuffer: 16 << 20 });
    expect(stdout).toMatch(/job 'job' FINISHED/);
    const result = JSON.parse(readFileSync(join(project, 'result.json'), 'utf8')) as { collected: Record<string, string[]> };
    expect([...result.collected.out].sort()).toEqual(Array.from({ length: 10 }, (_, k) => `${k}:100:7`));
  });

  it('`npx baton demo clickstream` finds the package\'s own example job', async () => {
    const { stdout } = await run('npx', ['baton', 'demo', 'clickstream', '--clicks', '2000'], { cwd: project, maxBuffer: 16 << 20 });
    expect(stdout).toMatch(/every click counted once: 2,000 of 2,000/);
    expect(stdout).toMatch(/job FINISHED/);
  });

  it('tests that import `baton` and `baton/testing` run jobs (node --test, plain Node)', async () => {
    const { stdout } = await run(process.execPath, ['--test', 'test/'], { cwd: project, maxBuffer: 16 << 20 });
    expect(stdout).toMatch(/# pass 2/);
    expect(stdout).toMatch(/# fail 0/);
  });

  it('ships compiled JavaScript: the package has dist/ and no TypeScript loader in its dependencies', () => {
    const pkg = JSON.parse(readFileSync(join(project, 'node_modules', 'baton', 'package.json'), 'utf8')) as { dependencies: Record<string, string>; exports: Record<string, { default: string }> };
    expect(pkg.exports['.'].default).toBe('./dist/index.js');
    expect(pkg.dependencies.tsx).toBeUndefined();
    expect(readFileSync(join(project, 'node_modules', 'baton', 'dist', 'worker.js'), 'utf8').length).toBeGreaterThan(0);
  });
});
