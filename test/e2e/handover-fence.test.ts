// One owner per job directory: separate processes racing for it; exactly one commits, combined output exactly once. On a directory and on S3 with conditional writes.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FENCED_EXIT_CODE } from '../../src/cli/main.ts';
import { type S3ConditionalProxy, startS3ConditionalProxy } from '../support/s3-conditional-proxy.ts';
import { type S3rverHandle, startS3rver } from '../support/s3rver.ts';
import { checkpointPacer, committedLines, expectedSums, jobDirs } from './checkpoint-helpers.ts';
import { type Deployment, startDeployment } from './deployment.ts';

const JOB = fileURLToPath(new URL('./jobs/checkpointed-sum.ts', import.meta.url));
const root = mkdtempSync(join(tmpdir(), 'baton-fence-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
const fresh = jobDirs(root);

const TO = 8_000;
interface Place {
  readonly jobId: string;
  readonly storage: string;
  readonly dir: string;
  readonly env: NodeJS.ProcessEnv;
}

/** Same replayable input for every deployment; it advances 1 000 numbers per checkpoint ended by any of them (`<dir>/paced`). */
function args(t: Place, output: string, extra: string[] = []): string[] {
  const paced = ['--param', `pacedBy=${join(t.dir, 'paced')}`, '--param', 'segment=1000'];
  // retain 10: a run restoring while another runs must not lose its checkpoint to the other's retention (not what is tested here).
  return ['--job-id', t.jobId, '-p', '2', '--checkpoint-storage', t.storage, '--param', `output=${join(t.dir, output)}`, '--param', `to=${TO}`, '--param', 'intervalMs=100', '--param', 'retain=10', ...paced, ...extra];
}

const pacers = new Map<string, ReturnType<typeof checkpointPacer>>();
/** `paces`: whether this deployment's ended checkpoints advance the input now (a test holds A's input back with it). */
function deploy(t: Place, name: string, extra: string[] = [], paces: () => boolean = () => true): Deployment {
  const pacer = pacers.get(t.dir) ?? checkpointPacer(join(t.dir, 'paced'));
  pacers.set(t.dir, pacer);
  const d = startDeployment(JOB, args(t, `out-${name}`, extra), join(t.dir, `${name}.json`), t.env);
  d.onLine((line) => {
    if (/checkpoint \d+ (COMPLETED|FAILED)/.test(line) && paces()) pacer.ended();
  });
  return d;
}

const combined = (t: Place, ...names: string[]) => names.flatMap((n) => committedLines(join(t.dir, `out-${n}`))).sort();

type Exit = Awaited<Deployment['exited']>;
function expectFenced(e: Exit): void {
  expect(e.code, e.output).toBe(FENCED_EXIT_CODE);
  expect(e.output).toMatch(/baton: fenced \(BATON_ERR_FENCED\): run [\w-]+ is fenced at checkpoint \d+/);
  expect(e.output).toMatch(/fenced at chk-\d+ \((metadata-exists|newer-checkpoint|not-next-owner)\)/);
}

let s3: S3rverHandle | undefined;
let proxy: S3ConditionalProxy | undefined;
afterAll(async () => {
  await proxy?.close();
  await s3?.close();
});

const places: Array<{ name: string; place: (name: string) => Place }> = [
  { name: 'a local directory', place: (name) => ({ ...fresh(name), env: {} }) },
  {
    name: 'S3 with conditional writes (s3rver behind the conditional-write proxy)',
    place: (name) => {
      const t = fresh(name);
      const env = { AWS_ENDPOINT_URL_S3: proxy!.endpoint, AWS_ACCESS_KEY_ID: s3!.credentials.accessKeyId, AWS_SECRET_ACCESS_KEY: s3!.credentials.secretAccessKey, AWS_REGION: s3!.region };
      return { ...t, storage: `s3://${s3!.bucket}/${t.jobId}`, env };
    },
  },
];

describe.each(places)('one owner per job directory, on $name', { timeout: 180_000 }, ({ name, place }) => {
  beforeAll(async () => {
    if (!name.startsWith('S3') || s3) return;
    s3 = await startS3rver();
    proxy = await startS3ConditionalProxy(s3.endpoint);
  });

  it('two B’s with the same target: exactly one takes over, the other is fenced; A + B + B equals one uninterrupted run', async () => {
    const t = place('two-b');
    const target = 4;
    // Both B's announce before A starts: A's stop checkpoint names whichever request it read.
    const b1 = deploy(t, 'b1', ['--handover-target', String(target)]);
    const b2 = deploy(t, 'b2', ['--handover-target', String(target)]);
    await Promise.all([b1.line(/WAITING_FOR_START_SIGNAL/), b2.line(/WAITING_FOR_START_SIGNAL/)]);
    const a = deploy(t, 'a');
    const [ea, e1, e2] = await Promise.all([a.exited, b1.exited, b2.exited]);
    expect(ea.code, ea.output).toBe(0);
    expect(ea.result!.stoppedAtCheckpoint).toBe(target);
    const winners = [e1, e2].filter((e) => e.code === 0);
    const losers = [e1, e2].filter((e) => e.code !== 0);
    expect(winners, [e1.output, e2.output].join('\n----\n')).toHaveLength(1);
    expect(winners[0].result!.status).toBe('FINISHED');
    expect(winners[0].result!.restoredFrom).toBe(target);
    // The loser either saw its request replaced by the other's and gave up (HandoverAbortedError),
    // or went on and was fenced at A's stop checkpoint, which names the winner as next owner.
    if (/handover aborted: lost its stop request/.test(losers[0].output)) expect(losers[0].code, losers[0].output).not.toBe(0);
    else {
      expectFenced(losers[0]);
      expect(losers[0].output).toMatch(/not-next-owner/);
    }
    expect(combined(t, 'a', 'b1', 'b2')).toEqual(expectedSums(TO));
  });

  // On a directory only (not defined for S3): the S3 path of the same commit point is covered by the two B's above.
  if (!name.startsWith('S3'))
    it('an old A that wakes up (SIGSTOP, another run restores and commits, SIGCONT) is fenced before it commits anything more', async () => {
    const t = place('old-a');
    const a1 = deploy(t, 'a1');
    await a1.line(/checkpoint 2 COMPLETED/);
    a1.child.kill('SIGSTOP');
    try {
      const a2 = deploy(t, 'a2', ['--restore-from', 'latest']);
      // A2 owns the directory once it committed a checkpoint of its own.
      await a2.line(/checkpoint \d+ COMPLETED/);
      a1.child.kill('SIGCONT');
      const [e1, e2] = await Promise.all([a1.exited, a2.exited]);
      expectFenced(e1);
      expect(e2.code, e2.output).toBe(0);
      expect(e2.result!.status).toBe('FINISHED');
    } finally {
      a1.child.kill('SIGCONT');
    }
    expect(combined(t, 'a1', 'a2')).toEqual(expectedSums(TO));
  });
});

describe('one owner per job directory, a B that timed out into start-from-latest', { timeout: 180_000 }, () => {
  it('while A lives: one of them is fenced (whichever commits second), never both commit; with a third run finishing the input, output is exactly once', async () => {
    const t = { ...fresh('latest-b'), env: {} };
    // A's input stays within its first segments until B runs: A is alive, whatever B's start-up takes.
    let bRunning = false;
    const a = deploy(t, 'a', [], () => bRunning);
    await a.line(/checkpoint 2 COMPLETED/);
    // B gives up waiting for a target that never comes and restores A's newest checkpoint while A runs on.
    const b = deploy(t, 'b', ['--handover-target', '100000', '--handover-timeout', '300', '--handover-on-timeout', 'start-from-latest']);
    void b.line(/\sRUNNING$/).then(
      () => {
        bRunning = true;
      },
      () => undefined,
    );
    const [ea, eb] = await Promise.all([a.exited, b.exited]);
    const exits = [ea, eb];
    const fenced = exits.filter((e) => e.code === FENCED_EXIT_CODE);
    expect(fenced.length, exits.map((e) => e.output).join('\n----\n')).toBeGreaterThanOrEqual(1);
    for (const e of fenced) expectFenced(e);
    const finished = exits.filter((e) => e.code === 0);
    expect(finished.length + fenced.length).toBe(2);
    // Both fenced (each saw the other's checkpoint): the directory still holds one consistent history, which a third run finishes.
    const names = ['a', 'b'];
    if (finished.length === 0) {
      const c = deploy(t, 'c', ['--restore-from', 'latest']);
      const ec = await c.exited;
      expect(ec.code, ec.output).toBe(0);
      names.push('c');
    }
    expect(combined(t, ...names)).toEqual(expectedSums(TO));
  });
});
