// Options of runJob, validated with zod before anything starts; errors name the option.
import { z } from 'zod';
import { DEFAULT_MAX_PARALLELISM, MAX_MAX_PARALLELISM } from '../../state/key-groups.ts';
import { JobConfigError } from '../errors.ts';

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
  })
  .strict();

/** Options accepted by `runJob`. */
export type RunJobOptions = z.input<typeof RunJobOptionsSchema>;
export type ResolvedRunJobOptions = z.output<typeof RunJobOptionsSchema>;

export function parseRunJobOptions(options: unknown): ResolvedRunJobOptions {
  const parsed = RunJobOptionsSchema.safeParse(options ?? {});
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0];
  if (issue.code === 'unrecognized_keys') {
    const keys = (issue as { keys: string[] }).keys;
    throw new JobConfigError(keys[0], `unknown option '${keys.join("', '")}' (known: ${Object.keys(RunJobOptionsSchema.shape).join(', ')})`);
  }
  const option = issue.path.length > 0 ? issue.path.join('.') : 'options';
  const received = issue.path.length > 0 ? readPath(options, issue.path) : options;
  throw new JobConfigError(option, `${issue.message} (got ${JSON.stringify(received)})`);
}

function readPath(value: unknown, path: readonly PropertyKey[]): unknown {
  let current = value;
  for (const key of path) current = (current as Record<PropertyKey, unknown> | undefined)?.[key];
  return current;
}
