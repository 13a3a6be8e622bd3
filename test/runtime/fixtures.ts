// Hand-made stand-ins shared by the runtime unit tests: graph nodes, operator contexts, outputs, transports.
import { HeapKeyedStateBackend } from '../../src/state/heap/heap-keyed-state-backend.ts';
import { keyGroupRangeFor } from '../../src/state/key-groups.ts';
import type { ProcessingTimeService } from '../../src/runtime/time/processing-time-service.ts';
import type { ChannelMessage, OutboundTransport } from '../../src/runtime/channels/types.ts';
import type {
  GraphInput,
  GraphNode,
  JobGraph,
  NodeKind,
  OperatorContext,
  OperatorFactory,
  Output,
  PlannedTask,
  Sink,
  Source,
  StreamOperator,
} from '../../src/runtime/types.ts';

// ---- graphs ----

export const testSource: Source<unknown> = {
  kind: 'test',
  validate() {},
  createSplits() {
    return [];
  },
  createReader() {
    throw new Error('not used in unit tests');
  },
};

export const testSink: Sink<unknown> = {
  kind: 'test',
  validate() {},
  createWriter() {
    return { write() {}, finish() {}, abort() {} };
  },
};

export const testOperator: OperatorFactory = {
  create() {
    throw new Error('not used in unit tests');
  },
};

export interface NodeSpec {
  kind?: NodeKind;
  type?: string;
  uid?: string;
  parallelism?: number;
  inputs?: GraphInput[];
  keyed?: boolean;
}

/** Builds nodes with ids equal to their index; kind defaults to source for the first, else operator. */
export function graph(specs: NodeSpec[], maxParallelism = 128): JobGraph {
  const nodes: GraphNode[] = specs.map((s, id) => {
    const kind = s.kind ?? (id === 0 ? 'source' : 'operator');
    const uid = s.uid ?? `n${id}`;
    return {
      id,
      kind,
      type: s.type ?? kind,
      name: uid,
      uid,
      uidExplicit: s.uid !== undefined,
      parallelism: s.parallelism ?? 1,
      parallelismExplicit: s.parallelism !== undefined,
      inputs: s.inputs ?? [],
      keyed: s.keyed ?? false,
      source: kind === 'source' ? testSource : undefined,
      operator: kind === 'operator' ? testOperator : undefined,
      sink: kind === 'sink' ? testSink : undefined,
    };
  });
  return { nodes, maxParallelism, hooks: [], config: { autoWatermarkIntervalMs: 0 } };
}

export function fwd(nodeId: number): GraphInput {
  return { nodeId, partitioning: 'forward' };
}

export function rebalance(nodeId: number): GraphInput {
  return { nodeId, partitioning: 'rebalance' };
}

export function hash(nodeId: number): GraphInput {
  return { nodeId, partitioning: 'hash', keySelector: (v) => String(v) };
}

// ---- operators ----

export interface ScheduledTimer {
  readonly atMs: number;
  readonly fire: () => void;
  canceled: boolean;
}

export interface TestContext extends OperatorContext {
  readonly scheduled: ScheduledTimer[];
  readonly failures: unknown[];
  /** Runs the callbacks scheduled so far and not canceled (once each), oldest first; not those scheduled meanwhile. */
  fireScheduled(): number;
}

/**
 * A stand-in context. Without `processingTime`, processing time is Date.now() (tests stub it) and
 * scheduled callbacks run only through fireScheduled(); with it, both go through that clock (and
 * are still listed in `scheduled`).
 */
export function operatorContext(options: { uid?: string; subtaskIndex?: number; keyed?: boolean; processingTime?: ProcessingTimeService } = {}): TestContext {
  const scheduled: ScheduledTimer[] = [];
  const failures: unknown[] = [];
  const keyed = options.keyed ?? true;
  const clock = options.processingTime;
  return {
    uid: options.uid ?? 'op',
    name: options.uid ?? 'op',
    subtaskIndex: options.subtaskIndex ?? 0,
    parallelism: 1,
    maxParallelism: 128,
    workerIndex: 0,
    keyedState: keyed ? new HeapKeyedStateBackend({ keyGroupRange: keyGroupRangeFor(0, 1, 128), maxParallelism: 128 }) : undefined,
    currentProcessingTime() {
      return clock ? clock.now() : Date.now();
    },
    scheduleProcessingTime(atMs, fire) {
      const timer: ScheduledTimer = { atMs, fire, canceled: false };
      scheduled.push(timer);
      const cancel = clock?.schedule(atMs, () => {
        timer.canceled = true;
        fire();
      });
      return () => {
        timer.canceled = true;
        cancel?.();
      };
    },
    fail(error) {
      failures.push(error);
    },
    scheduled,
    failures,
    fireScheduled() {
      let fired = 0;
      const count = scheduled.length;
      for (let i = 0; i < count; i++) {
        const timer = scheduled[i];
        if (timer.canceled) continue;
        timer.canceled = true;
        fired++;
        timer.fire();
      }
      return fired;
    },
  };
}

export type OutputEvent = { record: unknown; timestamp: number } | { watermark: number };

export class RecordingOutput implements Output {
  readonly events: OutputEvent[] = [];

  collect(value: unknown, timestamp: number): void {
    this.events.push({ record: value, timestamp });
  }

  emitWatermark(watermark: number): void {
    this.events.push({ watermark });
  }

  get records(): Array<{ record: unknown; timestamp: number }> {
    return this.events.filter((e): e is { record: unknown; timestamp: number } => 'record' in e);
  }

  get watermarks(): number[] {
    return this.events.flatMap((e) => ('watermark' in e ? [e.watermark] : []));
  }

  clear(): void {
    this.events.length = 0;
  }
}

// ---- channels ----

export class RecordingTransport implements OutboundTransport {
  readonly sent: ChannelMessage[] = [];
  closed = false;

  send(message: ChannelMessage): void {
    this.sent.push(message);
  }

  close(): void {
    this.closed = true;
  }

  /** Every record sent so far, in order. */
  get records(): unknown[] {
    return this.sent.flatMap((m) => m.values ?? []);
  }
}

/**
 * A one-operator, non-source task (uid 'op', parallelism 1) whose operator `create` builds: the
 * smallest plan a Subtask runs. `keyed`: the operator gets keyed state (its input counts as keyed).
 */
export function singleOperatorTask(create: (ctx: OperatorContext) => StreamOperator, options: { keyed?: boolean } = {}): { task: PlannedTask; nodes: GraphNode[] } {
  const keyed = options.keyed ?? false;
  const node: GraphNode = {
    id: 0,
    kind: 'operator',
    type: 'map',
    name: 'op',
    uid: 'op',
    uidExplicit: true,
    parallelism: 1,
    parallelismExplicit: true,
    inputs: [],
    keyed,
    operator: { create },
  };
  const task: PlannedTask = { id: 1, name: 'op', parallelism: 1, operators: [{ nodeId: 0, uid: 'op', name: 'op', type: 'map' }], isSource: false, keyed, inputs: [], outputs: [] };
  return { task, nodes: [node] };
}
