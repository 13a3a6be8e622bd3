// StreamExecutionEnvironment: where a job definition creates its sources and settings.
import { elements } from './sources/elements.ts';
import { JobConfigError, rejectUnknownKeys } from '../runtime/index.ts';
import type { CheckpointingConfig, GraphBuildConfig, JobConfig, JobParam, PreStateHook, PreStateHookContext, Source } from '../runtime/types.ts';
import { DataStream } from './data-stream.ts';
import { GraphBuilder } from './graph-builder.ts';
import type { StreamContext } from './stream-context.ts';

interface MutableJobConfig {
  autoWatermarkIntervalMs: number;
  checkpointing?: CheckpointingConfig;
}

/** The keys `enableCheckpointing` accepts (any other is an UnknownOptionError). */
const CHECKPOINTING_KEYS = ['intervalMs', 'mode', 'alignedTimeoutMs', 'timeoutMs', 'minPauseMs', 'tolerableFailures', 'retain', 'unaligned', 'materialization'];

/**
 * Passed to the function given to `defineJob`; the same code runs in every worker thread.
 *
 * @example
 * export default defineJob((env) => {
 *   env.fromSource(Sources.sequence({ from: 1, to: 100 }), 'numbers').sinkTo(Sinks.collect());
 * });
 */
export class StreamExecutionEnvironment {
  private readonly graph: GraphBuilder;
  private readonly settings: MutableJobConfig = { autoWatermarkIntervalMs: 200 };
  private readonly hooks: PreStateHook[] = [];
  private readonly context: StreamContext;

  constructor(
    /** Default parallelism of operators that do not set their own (from runJob's `parallelism`). */
    readonly parallelism: number,
    readonly maxParallelism: number,
    /** Parameters passed to runJob as `params`, the same in every thread. */
    readonly params: Readonly<Record<string, JobParam>> = {},
    /** @internal Settings a runner imposes (see GraphBuildConfig.overrides). */
    private readonly overrides: GraphBuildConfig['overrides'] = undefined,
  ) {
    this.graph = new GraphBuilder(parallelism);
    if (overrides?.autoWatermarkIntervalMs !== undefined) this.settings.autoWatermarkIntervalMs = overrides.autoWatermarkIntervalMs;
    this.context = { graph: this.graph, config: this.settings };
  }

  /** Reads records from a source, e.g. `Sources.sequence(...)` or `Sources.file(...)`. */
  fromSource<T>(source: Source<T>, name?: string): DataStream<T> {
    if (!source || typeof source.createReader !== 'function' || typeof source.createSplits !== 'function') {
      throw new JobConfigError('fromSource', 'expected a source such as Sources.sequence(...) or Sources.file(...)');
    }
    const node = this.graph.add({ kind: 'source', type: 'source', name: name ?? `source:${source.kind}`, inputs: [], source: source as Source<unknown> });
    if (source.maxSourceParallelism !== undefined) node.parallelism = Math.min(node.parallelism, source.maxSourceParallelism);
    return new DataStream<T>(this.context, node, [{ nodeId: node.id, partitioning: 'forward' }]);
  }

  /** A bounded stream of the given values, read by a single subtask. */
  fromElements<T>(...values: T[]): DataStream<T> {
    return this.fromSource(elements(values), 'elements');
  }

  /** Milliseconds between watermarks an assigner emits (0: after every batch). Default 200. */
  setAutoWatermarkInterval(ms: number): this {
    if (!Number.isFinite(ms) || ms < 0) throw new JobConfigError('autoWatermarkIntervalMs', `must be a number >= 0, got ${ms}`);
    // A runner's override (baton/testing) wins over the job's own setting.
    if (this.overrides?.autoWatermarkIntervalMs === undefined) this.settings.autoWatermarkIntervalMs = ms;
    return this;
  }

  /**
   * Takes an exactly-once checkpoint every `intervalMs` (stored where runJob's
   * `checkpointStorage` says).
   *
   * @example
   * env.enableCheckpointing({ intervalMs: 1_000, timeoutMs: 30_000, retain: 3 });
   */
  enableCheckpointing(options: {
    intervalMs: number;
    mode?: 'aligned' | 'unaligned';
    /** Start aligned; a task whose alignment lasts longer than this switches to unaligned for that checkpoint. */
    alignedTimeoutMs?: number;
    timeoutMs?: number;
    minPauseMs?: number;
    tolerableFailures?: number;
    retain?: number;
    /**
     * Unaligned mode: `spill: 'continuous'` persists in-flight input as it arrives (in segments of
     * `segmentBytes`, default 1 MiB, written at least every `flushMs`, default 50), so a checkpoint
     * only flushes; `'barrier'` (default) writes it when the barrier comes.
     */
    unaligned?: { spill?: 'barrier' | 'continuous'; segmentBytes?: number; flushMs?: number };
    /** New base chunk after this many deltas (default 10) or when deltas exceed this × the base's bytes (default 1). */
    materialization?: { maxDeltas?: number; maxDeltaBytesRatio?: number };
  }): this {
    const positive = (name: string, value: number | undefined, fallback: number, min: number) => {
      const v = value ?? fallback;
      if (typeof v !== 'number' || !Number.isFinite(v) || v < min) {
        throw new JobConfigError(`enableCheckpointing ${name}`, `must be a number >= ${min}, got ${String(value)}`);
      }
      return v;
    };
    if (!options || typeof options !== 'object') throw new JobConfigError('enableCheckpointing', 'expected { intervalMs, ... }');
    // A misspelled key (intervalMS) must not fall back to a default in silence.
    rejectUnknownKeys('enableCheckpointing ', options, CHECKPOINTING_KEYS);
    rejectUnknownKeys('enableCheckpointing unaligned.', options.unaligned, ['spill', 'segmentBytes', 'flushMs']);
    rejectUnknownKeys('enableCheckpointing materialization.', options.materialization, ['maxDeltas', 'maxDeltaBytesRatio']);
    const mode = options.mode ?? 'aligned';
    if (mode !== 'aligned' && mode !== 'unaligned') {
      throw new JobConfigError('enableCheckpointing mode', `must be 'aligned' or 'unaligned', got '${String(mode)}'`);
    }
    if (options.alignedTimeoutMs !== undefined && mode === 'unaligned') {
      throw new JobConfigError('enableCheckpointing alignedTimeoutMs', "applies to mode 'aligned' only (unaligned checkpoints never align)");
    }
    const spill = options.unaligned?.spill ?? 'barrier';
    if (options.unaligned !== undefined) {
      if (typeof options.unaligned !== 'object' || options.unaligned === null) throw new JobConfigError('enableCheckpointing unaligned', 'expected { spill, segmentBytes, flushMs }');
      if (spill !== 'barrier' && spill !== 'continuous') {
        throw new JobConfigError('enableCheckpointing unaligned.spill', `must be 'barrier' or 'continuous', got '${String(spill)}'`);
      }
      if (mode !== 'unaligned') throw new JobConfigError('enableCheckpointing unaligned', "applies to mode 'unaligned' only");
    }
    this.settings.checkpointing = {
      intervalMs: positive('intervalMs', options.intervalMs, Number.NaN, 1),
      mode,
      alignedTimeoutMs: options.alignedTimeoutMs === undefined ? undefined : positive('alignedTimeoutMs', options.alignedTimeoutMs, 0, 0),
      timeoutMs: positive('timeoutMs', options.timeoutMs, 60_000, 1),
      minPauseMs: positive('minPauseMs', options.minPauseMs, 0, 0),
      tolerableFailures: Math.floor(positive('tolerableFailures', options.tolerableFailures, 0, 0)),
      retain: Math.floor(positive('retain', options.retain, 3, 1)),
      materialization: {
        maxDeltas: Math.floor(positive('materialization.maxDeltas', options.materialization?.maxDeltas, 10, 0)),
        maxDeltaBytesRatio: positive('materialization.maxDeltaBytesRatio', options.materialization?.maxDeltaBytesRatio, 1, 0),
      },
      ...(spill === 'continuous'
        ? {
            continuousSpill: {
              segmentBytes: Math.floor(positive('unaligned.segmentBytes', options.unaligned?.segmentBytes, 1 << 20, 1)),
              flushMs: positive('unaligned.flushMs', options.unaligned?.flushMs, 50, 1),
            },
          }
        : {}),
    };
    return this;
  }

  /**
   * Runs `hook` in every worker before any state is loaded (status RUNNING_PRE_STATE_HOOKS),
   * e.g. to load reference data.
   */
  onBeforeStateLoad(name: string, hook: (ctx: PreStateHookContext) => void | Promise<void>): this {
    if (typeof name !== 'string' || name.length === 0) throw new JobConfigError('onBeforeStateLoad name', 'must be a non-empty string');
    if (typeof hook !== 'function') throw new JobConfigError(`onBeforeStateLoad '${name}'`, 'hook must be a function');
    if (this.hooks.some((h) => h.name === name)) throw new JobConfigError(`onBeforeStateLoad '${name}'`, 'a hook with this name is already registered');
    this.hooks.push({ name, run: hook });
    return this;
  }

  /** @internal The graph built so far. */
  toJobGraph(): { nodes: GraphBuilder['nodes']; hooks: PreStateHook[]; config: JobConfig } {
    return { nodes: this.graph.nodes, hooks: this.hooks, config: { ...this.settings } };
  }
}
