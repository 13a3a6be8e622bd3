// Options of runJob, validated with zod before anything starts; errors name the option.
// A namespace import lets the build keep only the parts of zod these schemas use (a third of its import time).
import * as z from 'zod';
import { DEFAULT_MAX_PARALLELISM, MAX_MAX_PARALLELISM } from '../../state/index.ts';
import { JobConfigError, UnknownOptionError } from '../errors.ts';
import type { PromotionGuard } from './start-sequence.ts';

/**
 * Why a `restoreFrom` string is not a checkpoint reference, or undefined when it may be one.
 * A bare `chk-<n>` is the directory name, not a path: it gets the number to use instead.
 *
 * @example restoreFromProblem('chk-3') // "'chk-3' is a checkpoint directory name: to restore checkpoint 3 use restoreFrom: 3 (CLI: --restore-from 3)"
 */
export function restoreFromProblem(value: string): string | undefined {
  if (value === 'latest' || value === 'latest-valid' || value === 'latest-or-empty' || /^\d+$/.test(value)) return undefined;
  const bare = /^chk-(\d+)\/?(?:_metadata)?$/.exec(value);
  if (bare) return `'${value}' is a checkpoint directory name: to restore checkpoint ${Number(bare[1])} use restoreFrom: ${Number(bare[1])} (CLI: --restore-from ${Number(bare[1])})`;
  if (!/(^|\/)chk-\d+\/?(_metadata)?$/.test(value.replace(/\/+$/, ''))) {
    return `'${value}' is not 'latest', 'latest-valid', 'latest-or-empty', a checkpoint number or a path ending in chk-<n>`;
  }
  return undefined;
}

const RunJobOptionsSchema = z
  .object({
    jobId: z
      .string()
      .regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/, 'must be 1-128 characters of letters, digits, ".", "_" or "-", starting with a letter or digit')
      .optional(),
    parallelism: z.number().int().min(1).max(1024).default(1),
    maxParallelism: z.number().int().min(1).max(MAX_MAX_PARALLELISM).default(DEFAULT_MAX_PARALLELISM),
    workers: z.number().int().min(1).max(1024).optional(),
    batchSize: z.number().int().min(1).max(65536).default(1024),
    channelCredits: z.number().int().min(1).max(4096).default(8),
    metricsIntervalMs: z.number().int().min(10).default(500),
    params: z.record(z.string(), z.union([z.string(), z.number(), z.boolean()])).default({}),
    /** Root of checkpoint storage: `file:///dir`, a path, or `s3://bucket/prefix`; this job's files go under `<root>/<jobId>/`. */
    checkpointStorage: z.string().min(1).optional(),
    s3: z
      .object({
        endpoint: z.string().url().optional(),
        region: z.string().min(1).optional(),
        forcePathStyle: z.boolean().optional(),
        credentials: z.object({ accessKeyId: z.string().min(1), secretAccessKey: z.string().min(1), sessionToken: z.string().optional() }).strict().optional(),
        concurrency: z.number().int().min(1).max(256).optional(),
      })
      .strict()
      .optional(),
    /**
     * Bounds of every checkpoint-storage call (file and S3): deadline of one attempt, attempts of a
     * transiently failing call, first backoff. A checkpoint whose writes exceed them fails (and counts
     * against `tolerableFailures`); nothing waits on an unresponsive store for longer.
     */
    storageTimeouts: z
      .object({
        requestMs: z.number().int().min(1).optional(),
        attempts: z.number().int().min(1).max(100).optional(),
        backoffMs: z.number().int().min(0).optional(),
      })
      .strict()
      .optional(),
    /**
     * `'latest'` (the newest COMPLETED checkpoint; a corrupt one fails the job), `'latest-valid'`
     * (the newest one that reads correctly, warning about and reporting newer ones passed over),
     * a checkpoint number, or a `.../chk-<n>` path in this job's directory. With no checkpoint in
     * the directory, 'latest' and 'latest-valid' fail (NoCheckpointToRestoreError) before any
     * thread starts; `'latest-or-empty'` is 'latest' that starts empty when there is none.
     */
    restoreFrom: z
      .union([z.literal('latest'), z.literal('latest-valid'), z.literal('latest-or-empty'), z.number().int().min(1), z.string().min(1)])
      .superRefine((value, ctx) => {
        const problem = typeof value === 'string' ? restoreFromProblem(value) : undefined;
        if (problem !== undefined) ctx.addIssue({ code: 'custom', message: problem });
      })
      .optional(),
    allowNonRestoredState: z.boolean().default(false),
    stopAfterCheckpoint: z.number().int().min(1).optional(),
    /** How often a running job reads the stop request (`handover/stop-request.json`) in its directory. */
    stopRequestPollMs: z.number().int().min(10).default(250),
    /**
     * How often the running job looks at its directory while a successor's stop is under way (the
     * stop checkpoint, then the standby): a withdrawn request or the successor's first checkpoint is
     * seen this soon, so it bounds the rollback's detection time.
     */
    handoverPollMs: z.number().int().min(5).default(20),
    /**
     * Deployment B of a handover: take over from the job running on the same directory. By default
     * (`targetCheckpoint: 'when-ready'`) B asks the running job to stop once B is ready and caught
     * up, and takes over at that stop checkpoint; a number fixes the checkpoint in advance.
     */
    handover: z
      .object({
        targetCheckpoint: z.union([z.literal('when-ready'), z.number().int().min(1)]).default('when-ready'),
        /** B's stop request is void unless B renews it within this time (B renews it every third of it). */
        leaseMs: z.number().int().min(100).default(5_000),
        timeoutMs: z.number().int().min(1).default(600_000),
        onTimeout: z.enum(['fail', 'start-from-latest']).default('fail'),
        pollMs: z.number().int().min(10).default(100),
        /** Write the stop request for the target, so the running job ends right after it. Default true. */
        requestStop: z.boolean().default(true),
        /** Accept a target older than the newest completed checkpoint (start from that one). Default false. */
        allowStaleTarget: z.boolean().default(false),
        /**
         * `'checkpoint'` (default): B preloads and takes over at the running job's stop checkpoint.
         * `'shadow'`: B bootstraps from the running job's newest checkpoint, processes the live input
         * itself beside it (status SHADOW, sinks to their shadow destination), and on promotion the
         * output switches at a cut in the input: A commits what came before, B what comes after.
         */
        mode: z.enum(['checkpoint', 'shadow']).default('checkpoint'),
        /** Shadow mode settings. */
        shadow: z
          .object({
            /** Promote after this long in SHADOW (ms), or `'manual'`: when `JobHandle.promote()` is called. Default 'manual'. */
            promoteAfterMs: z.union([z.number().int().min(0), z.literal('manual')]).default('manual'),
            /** Records each sink subtask keeps as the sample the guard sees (the newest ones). Default 100. */
            sampleSize: z.number().int().min(0).max(100_000).default(100),
            /** How often the shadow is sampled (shadow destinations made visible, `shadow-sample` events). Default 1000. */
            sampleEveryMs: z.number().int().min(10).default(1_000),
          })
          .strict()
          .default({ promoteAfterMs: 'manual', sampleSize: 100, sampleEveryMs: 1_000 }),
        /**
         * Asked before promotion (shadow mode) or before B announces itself (checkpoint mode): `true`
         * promotes, `{ ok: false, reason }` refuses (A stays live, B stops, the reason is reported).
         */
        promotionGuard: z.custom<PromotionGuard>((value) => typeof value === 'function', { message: 'must be a function (ctx) => true | { ok: false, reason }' }).optional(),
        /** How long the guard may take (ms). Default 30 000. */
        guardTimeoutMs: z.number().int().min(1).default(30_000),
        /** What a guard that did not answer in time means: `'abort'` (refuse) or `'promote'`. Required with a guard. */
        onGuardTimeout: z.enum(['promote', 'abort']).optional(),
      })
      .strict()
      .superRefine((value, ctx) => {
        if (value.promotionGuard !== undefined && value.onGuardTimeout === undefined) {
          ctx.addIssue({ code: 'custom', path: ['onGuardTimeout'], message: "say what a guard that times out means: 'promote' or 'abort'" });
        }
      })
      .optional(),
    stateBackend: z.enum(['lmdb', 'heap']).default('lmdb'),
    /** Local working directory of the LMDB state (default: a fresh directory under the OS temp dir). */
    stateDir: z.string().min(1).optional(),
    restartStrategy: z
      .discriminatedUnion('type', [
        z.object({ type: z.literal('none') }).strict(),
        z.object({ type: z.literal('fixedDelay'), attempts: z.number().int().min(1), delayMs: z.number().int().min(0) }).strict(),
      ])
      .default({ type: 'none' }),
  })
  .strict();

/** Options accepted by `runJob`. */
export type RunJobOptions = z.input<typeof RunJobOptionsSchema>;
export type ResolvedRunJobOptions = z.output<typeof RunJobOptionsSchema>;

export function parseRunJobOptions(options: unknown): ResolvedRunJobOptions {
  return parseOptions(RunJobOptionsSchema, options);
}

/**
 * Validates an options object with its zod schema: an unknown key is an UnknownOptionError
 * listing the known ones, any other problem a JobConfigError naming the option and the value.
 *
 * @example const resolved = parseOptions(z.object({ parallelism: z.number().int() }).strict(), { parallelism: 2 });
 */
export function parseOptions<S extends z.ZodType>(schema: S, options: unknown): z.output<S> {
  const parsed = schema.safeParse(options ?? {});
  if (parsed.success) return parsed.data;
  // A misspelled key is both unknown and a missing required one: naming the unknown key says more.
  const issue = parsed.error.issues.find((i) => i.code === 'unrecognized_keys') ?? parsed.error.issues[0];
  if (issue.code === 'unrecognized_keys') {
    const keys = (issue as { keys: string[] }).keys;
    throw new UnknownOptionError([...issue.path, keys[0]].join('.'), keys[0], knownKeysAt(schema, issue.path, options));
  }
  const option = issue.path.length > 0 ? issue.path.join('.') : 'options';
  const received = issue.path.length > 0 ? readPath(options, issue.path) : options;
  throw new JobConfigError(option, `${issue.message} (got ${JSON.stringify(received)})`);
}

/**
 * The keys the object schema at `path` accepts, through optional/default wrappers; in a union, the
 * member whose literal fields (e.g. `type`) match the value given.
 */
function knownKeysAt(schema: z.ZodType, path: readonly PropertyKey[], input: unknown): string[] {
  let current: unknown = schema;
  let value = input;
  for (const key of [...path, undefined]) {
    for (let i = 0; i < 8 && current && !(current instanceof z.ZodObject); i++) {
      const def = (current as { def?: { innerType?: unknown; options?: unknown[] } }).def;
      current = def?.options ? def.options.find((o) => matchesLiterals(o, value)) : def?.innerType;
    }
    if (!(current instanceof z.ZodObject)) return [];
    if (key === undefined) return Object.keys(current.shape);
    current = current.shape[String(key)];
    value = (value as Record<PropertyKey, unknown> | undefined)?.[key];
  }
  return [];
}

/** Whether every literal field of an object schema has the value `value` holds there. */
function matchesLiterals(option: unknown, value: unknown): boolean {
  if (!(option instanceof z.ZodObject)) return false;
  return Object.entries(option.shape as Record<string, unknown>).every(
    ([k, field]) => !(field instanceof z.ZodLiteral) || field.values.has((value as Record<string, unknown> | undefined)?.[k] as never),
  );
}

function readPath(value: unknown, path: readonly PropertyKey[]): unknown {
  let current = value;
  for (const key of path) current = (current as Record<PropertyKey, unknown> | undefined)?.[key];
  return current;
}
