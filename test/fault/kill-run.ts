// Runs one kill schedule against s3rver through a holding proxy and compares the committed output with a failure-free run.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { type JobHandle, type JobResult, runJob } from '../../src/index.ts';
import { committedLines } from '../e2e/checkpoint-helpers.ts';
import { type Deployment, startDeployment } from '../e2e/deployment.ts';
import { type Gate, type ProxiedRequestInfo, type S3GateProxy, startS3GateProxy } from '../support/s3-gate-proxy.ts';
import type { S3rverHandle } from '../support/s3rver.ts';
import { expectedLines, KEYS, RECORDS } from './fault-variants.ts';
import { compareLines, type LineDiff } from './line-diff.ts';
import { describeSchedule, type KillPoint, type Schedule } from './schedule.ts';
import { type DirWatch, watchDir } from './watch-dir.ts';

const JOB_PATH = fileURLToPath(new URL('./jobs/fault-job.ts', import.meta.url));
/** A schedule that has not ended after this long is reported as hung (and its job stopped). */
const HANG_MS = 240_000;
/** Records the source reads per completed checkpoint. */
const SEGMENT = 250;

/** One kill the schedule asked for, and whether it landed before the run ended by itself. */
export interface KillRecord {
  readonly point: KillPoint | 'restore-first';
  readonly landed: boolean;
}

export interface ScheduleOutcome {
  readonly schedule: Schedule;
  readonly description: string;
  readonly kills: readonly KillRecord[];
  readonly finalStatus: string;
  readonly diff: LineDiff;
  readonly passed: boolean;
  readonly durationMs: number;
  /** What went wrong, in words (empty when passed). */
  readonly problem: string;
}

export interface FaultContext {
  readonly s3: S3rverHandle;
  /** A directory for this file's runs (signals, outputs, result files). */
  readonly root: string;
}

/** A running deployment of the schedule: the in-process job (worker kills) or the current child process. */
interface Target {
  /** Resolves when the run ended by itself (finished, failed, or the process exited). */
  readonly ended: Promise<unknown>;
  /** Kills now; resolves once the thread or process is dying (or the run had ended: false). */
  kill(slot: number): Promise<boolean>;
  /** After the kill: resolves with whether it made the job restart (process kills: the process is gone). */
  landed(): Promise<boolean>;
}

/** `promise`, or undefined if `ended` comes first. */
function unlessEnded<T>(promise: Promise<T>, ended: Promise<unknown>): Promise<T | undefined> {
  return Promise.race([promise, ended.then(() => undefined, () => undefined)]);
}

const checkpointFile = (jobId: string) => new RegExp(`/${jobId}/chk-(\\d+)/([^/?]+)`);
const sharedFile = (jobId: string) => new RegExp(`/${jobId}/shared/[^/?]+`);

/** Requests of this job's checkpoint files, by checkpoint id and file name. */
function requestMatchers(jobId: string) {
  const chk = checkpointFile(jobId);
  const shared = sharedFile(jobId);
  const file = (r: ProxiedRequestInfo) => {
    const m = chk.exec(r.path);
    return m ? { id: Number(m[1]), name: m[2] } : undefined;
  };
  return {
    /** PUT of chk-<id>/_metadata with id >= min. */
    metadataPut: (min: number) => (r: ProxiedRequestInfo) => r.method === 'PUT' && (file(r)?.name === '_metadata' && file(r)!.id >= min),
    /** Any write of checkpoint state: a chk-<n>/ file other than the markers, or a shared chunk. */
    stateWrite: (r: ProxiedRequestInfo) => r.method === 'PUT' && (shared.test(r.path) || (file(r) !== undefined && !file(r)!.name.startsWith('_'))),
    sharedWrite: (r: ProxiedRequestInfo) => r.method === 'PUT' && shared.test(r.path),
    /** A read of restored state: a shared chunk or a checkpoint's exclusive file (not its markers). */
    stateRead: (r: ProxiedRequestInfo) => r.method === 'GET' && (shared.test(r.path) || (file(r) !== undefined && !file(r)!.name.startsWith('_'))),
    file,
  };
}

/** The proxy, remembering every gate opened on it (to fail them all if a run hangs). */
function trackGates(proxy: S3GateProxy): S3GateProxy & { readonly gates: Gate[] } {
  const gates: Gate[] = [];
  return Object.assign(Object.create(proxy) as S3GateProxy, {
    gates,
    hold(predicate: (r: ProxiedRequestInfo) => boolean, options?: { phase?: 'request' | 'response' }) {
      const gate = proxy.hold(predicate, options);
      gates.push(gate);
      return gate;
    },
  });
}

/** Fails every request `predicate` accepts from now on (a writer of a dead attempt retrying), until `stop`. */
function refuseFrom(proxy: S3GateProxy, predicate: (r: ProxiedRequestInfo) => boolean): { stop(): void } {
  let gate: Gate = proxy.hold(predicate);
  let stopped = false;
  void (async () => {
    while (!stopped) {
      await gate.held();
      if (stopped) return;
      gate.fail();
      gate = proxy.hold(predicate);
    }
  })();
  return {
    stop() {
      stopped = true;
      gate.fail();
    },
  };
}

/** Writes `<signals>/completed-<count>` each time a `_metadata` PUT of the job is stored: the paced source reads on. */
function announceCompletions(proxy: S3GateProxy, jobId: string, signalsDir: string): { stop(): void } {
  const isMetadata = requestMatchers(jobId).metadataPut(0);
  const seen = new Set<ProxiedRequestInfo>();
  let stopped = false;
  void (async () => {
    while (!stopped) {
      const stored = await proxy.passed((r) => isMetadata(r) && !seen.has(r));
      if (stopped) return;
      seen.add(stored);
      writeFileSync(join(signalsDir, `completed-${seen.size}`), stored.path);
    }
  })();
  return {
    stop() {
      stopped = true;
    },
  };
}

/** Where a kill point is reached: `reached` resolves at the moment to kill; `afterKill` runs once the kill landed. */
interface ArmedPoint {
  readonly reached: Promise<unknown>;
  afterKill(): void;
}

const visible = (name: string) => name.startsWith('part-');

function armPoint(point: KillPoint, k: number, jobId: string, proxy: S3GateProxy, output: DirWatch, signals: DirWatch): ArmedPoint {
  const m = requestMatchers(jobId);
  const none = () => {};
  switch (point) {
    case 'processing':
    case 'restore': {
      // After checkpoint k completed and something was committed (or the next one completed).
      const reached = proxy.passed(m.metadataPut(k)).then(() => Promise.race([output.next(visible), proxy.passed(m.metadataPut(k + 1))]));
      return { reached, afterKill: none };
    }
    case 'snapshot': {
      let armed = false;
      let taken = false;
      void proxy.passed(m.metadataPut(k - 1)).then(() => {
        armed = true;
      });
      const gate = proxy.hold((r) => {
        if (!armed || taken || !m.stateWrite(r)) return false;
        taken = true;
        return true;
      });
      return { reached: gate.held(), afterKill: () => gate.release() };
    }
    case 'upload': {
      let armed = false;
      void proxy.passed(m.metadataPut(k - 1)).then(() => {
        armed = true;
      });
      const gate = proxy.hold((r) => armed && m.sharedWrite(r));
      return {
        reached: gate.held(),
        afterKill: () => {
          // A writer of the dead attempt may retry: those chunks never land.
          const paths = new Set(gate.requests.map((r) => r.path));
          refuseFrom(proxy, (r) => r.method === 'PUT' && paths.has(r.path));
          gate.fail();
        },
      };
    }
    case 'before-metadata': {
      let heldId: number | undefined;
      const gate = proxy.hold((r) => {
        if (!m.metadataPut(k)(r)) return false;
        heldId ??= m.file(r)!.id;
        return m.file(r)!.id === heldId;
      });
      return {
        reached: gate.held(),
        afterKill: () => {
          // The dead attempt's coordinator may retry the write: it never lands.
          refuseFrom(proxy, (r) => r.method === 'PUT' && m.file(r)?.id === heldId && m.file(r)?.name === '_metadata');
          gate.fail();
        },
      };
    }
    case 'commit': {
      let taken = false;
      const gate = proxy.hold(
        (r) => {
          if (taken || !m.metadataPut(k)(r)) return false;
          taken = true;
          return true;
        },
        { phase: 'response' },
      );
      return { reached: gate.held(), afterKill: () => gate.release() };
    }
    case 'end-of-input': {
      const reached = signals.next((n) => n === 'input-ended', ['input-ended']).then(() => output.next(visible));
      return { reached, afterKill: none };
    }
  }
}

/** With backpressure, small batches and few credits: the slow stage holds its producers back within a segment. */
function channels(s: Schedule): { batchSize: number; channelCredits: number } {
  return s.backpressure ? { batchSize: 16, channelCredits: 2 } : { batchSize: 256, channelCredits: 8 };
}

function jobParams(s: Schedule, output: string, signals: string): Record<string, string | number> {
  return {
    variant: s.variant,
    mode: s.mode,
    to: RECORDS,
    keys: KEYS,
    // The input advances one segment per completed checkpoint: at least RECORDS / SEGMENT - 1 of them during the input.
    segment: SEGMENT,
    intervalMs: 30,
    slowMicros: s.backpressure ? (s.variant === 'keyed' ? 300 : 1_000) : 0,
    output,
    signals,
  };
}

/**
 * Runs schedule `s`: starts the job (in this process for worker kills, as a child `baton run`
 * for process kills), kills it where the schedule says (restore: twice), lets it restore from
 * latest and finish, and compares the committed lines with those of a failure-free run.
 */
export async function runSchedule(s: Schedule, ctx: FaultContext): Promise<ScheduleOutcome> {
  const started = Date.now();
  const jobId = `s${s.seed}-${s.kind}`;
  const dir = join(ctx.root, jobId);
  const output = join(dir, 'out');
  const signalsDir = join(dir, 'signals');
  mkdirSync(dir, { recursive: true });
  const out = watchDir(output);
  const signals = watchDir(signalsDir);
  const proxy = trackGates(await startS3GateProxy(ctx.s3.endpoint));
  const gates = proxy.gates;
  const storage = `s3://${ctx.s3.bucket}/fault`;
  const params = jobParams(s, output, signalsDir);
  const m = requestMatchers(jobId);
  const kills: KillRecord[] = [];
  let finalStatus = 'UNKNOWN';
  let problem = '';
  let stage = 'starting';
  // A failure detector, not a synchronization: a run that has not ended by then is reported as hung.
  let abandon: () => void = () => {};
  const watchdog = setTimeout(() => {
    problem = `hung: no end within ${HANG_MS} ms (${stage})`;
    abandon();
    // Whatever the run waits for at the proxy, it gets an error now.
    refuseFrom(proxy, () => true);
    for (const gate of gates) gate.fail('destroy');
  }, HANG_MS);
  const announcer = announceCompletions(proxy, jobId, signalsDir);
  try {
    const first = armPoint(s.point, s.checkpoint, jobId, proxy, out, signals);
    // Armed from the start: only a restore reads state files.
    const restoreGate = s.point === 'restore' ? proxy.hold(m.stateRead) : undefined;
    const plan: Array<{ point: KillRecord['point']; armed: () => ArmedPoint }> = [{ point: s.point === 'restore' ? 'restore-first' : s.point, armed: () => first }];
    if (restoreGate) plan.push({ point: 'restore', armed: () => ({ reached: restoreGate.held(), afterKill: () => restoreGate.fail('destroy') }) });

    if (s.kind === 'worker') {
      const job = await runJob(pathToFileURL(JOB_PATH), {
        jobId,
        parallelism: s.parallelism,
        checkpointStorage: storage,
        s3: { endpoint: proxy.endpoint, region: ctx.s3.region, credentials: ctx.s3.credentials },
        restartStrategy: { type: 'fixedDelay', attempts: plan.length + 1, delayMs: 0 },
        ...channels(s),
        params,
      });
      abandon = () => void job.cancel();
      const target = workerTarget(job, signalsDir, signals);
      for (const [slot, step] of plan.entries()) {
        const armed = step.armed();
        stage = `waiting for ${step.point}`;
        const at = await unlessEnded(armed.reached, target.ended);
        stage = `killing at ${step.point}`;
        const dying = at !== undefined && (await target.kill(slot + 1));
        // Held requests go on (or fail) only once the thread is dying: the failed attempt drains
        // its pending writes before it restarts.
        armed.afterKill();
        const landed = dying && (await target.landed());
        kills.push({ point: step.point, landed });
        if (!landed) break;
      }
      stage = `running to the end after ${kills.filter((k) => k.landed).length} kill(s)`;
      const result = await job.done.catch((e: unknown) => e);
      finalStatus = isResult(result) ? result.status : `failed: ${String(result)}`;
    } else {
      const env = {
        AWS_ENDPOINT_URL_S3: proxy.endpoint,
        AWS_ACCESS_KEY_ID: ctx.s3.credentials.accessKeyId,
        AWS_SECRET_ACCESS_KEY: ctx.s3.credentials.secretAccessKey,
        AWS_REGION: ctx.s3.region,
      };
      const { batchSize, channelCredits } = channels(s);
      const args = [
        ...['--job-id', jobId, '-p', String(s.parallelism), '--checkpoint-storage', storage, '--batch-size', String(batchSize), '--channel-credits', String(channelCredits)],
        ...Object.entries(params).flatMap(([k, v]) => ['--param', `${k}=${v}`]),
      ];
      let run = 0;
      let child = startDeployment(JOB_PATH, args, join(dir, `result-${run}.json`), env);
      abandon = () => child.child.kill('SIGKILL');
      for (const step of plan) {
        const armed = step.armed();
        const target = processTarget(child);
        stage = `waiting for ${step.point}`;
        const at = await unlessEnded(armed.reached, target.ended);
        stage = `killing at ${step.point}`;
        const landed = at !== undefined && (await target.kill(0));
        armed.afterKill();
        kills.push({ point: step.point, landed });
        if (!landed) break;
        run++;
        // A kill may land before the first checkpoint completed: then there is nothing to restore and the run starts over.
        child = startDeployment(JOB_PATH, [...args, '--restore-from', 'latest-or-empty'], join(dir, `result-${run}.json`), env);
      }
      stage = `running to the end after ${kills.filter((k) => k.landed).length} kill(s)`;
      const exit = await child.exited;
      if (process.env.FAULT_VERBOSE) console.log(exit.output);
      finalStatus = exit.code === 0 && exit.result ? exit.result.status : `exit ${exit.code}: ${exit.output.split('\n').slice(-8).join('\n')}`;
    }
  } catch (error) {
    problem ||= `run error: ${String(error)}`;
  } finally {
    clearTimeout(watchdog);
    announcer.stop();
    out.close();
    signals.close();
    if (process.env.FAULT_VERBOSE) console.log(proxy.requests.slice(-40).map((r) => `${r.method} ${r.path} ${r.status}`).join('\n'));
    await proxy.close();
  }
  const diff = compareLines(committedLines(output), expectedLines(s.variant));
  if (!problem && finalStatus !== 'FINISHED') problem = `ended ${finalStatus}`;
  if (!problem && !diff.equal) problem = diff.summary;
  const description = describeSchedule(s);
  return { schedule: s, description, kills, finalStatus, diff, passed: problem === '', durationMs: Date.now() - started, problem };
}

function isResult(value: unknown): value is JobResult {
  return typeof value === 'object' && value !== null && 'status' in value && 'attempts' in value;
}

function workerTarget(job: JobHandle, signalsDir: string, signals: DirWatch): Target {
  let restarts = 0;
  let before = 0;
  const waiting: Array<() => void> = [];
  job.on('status', (e) => {
    if (e.status !== 'RESTARTING') return;
    restarts++;
    for (const w of waiting.splice(0)) w();
  });
  const ended = job.done.catch(() => undefined);
  return {
    ended,
    async kill(slot) {
      before = restarts;
      writeFileSync(join(signalsDir, `kill-${slot}`), 'kill');
      // The thread claims the kill just before it exits.
      const claimed = await unlessEnded(signals.next((n) => n === `claimed-${slot}`, [`claimed-${slot}`]), ended);
      return claimed !== undefined;
    },
    async landed() {
      if (restarts > before) return true;
      const restarted = new Promise<void>((resolve) => waiting.push(resolve));
      await Promise.race([restarted, ended]);
      return restarts > before;
    },
  };
}

function processTarget(child: Deployment): Target {
  let killed = false;
  return {
    ended: child.exited,
    async kill() {
      const alive = child.child.exitCode === null && child.child.signalCode === null;
      child.child.kill('SIGKILL');
      const exit = await child.exited;
      killed = alive && exit.code === -1;
      return killed;
    },
    landed: async () => killed,
  };
}
