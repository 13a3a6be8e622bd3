// Stateful operators whose uid is derived from their position: with checkpointing on, their state
// is stored under that uid, so adding or removing an operator before them changes it and a
// restore no longer finds their state (it fails, or drops it with allowNonRestoredState).
import type { GraphNode, JobGraph } from '../types.ts';

/** A stateful operator without an explicit `.uid(...)` in a job that checkpoints. */
export interface MissingUid {
  /** The uid the operator got from its position, e.g. `reduce-3`. */
  readonly uid: string;
  readonly name: string;
  /** What makes it stateful: keyed state, source offsets, or a sink's staged output. */
  readonly state: 'keyed state' | 'source offsets' | 'staged sink output';
  /** One line for a log, naming the operator and the fix. */
  readonly message: string;
}

/**
 * The stateful operators of a checkpointing job that have no explicit uid (none when checkpointing is off).
 *
 * @example
 * for (const m of findMissingUids(graph)) console.warn(`warning: ${m.message}`);
 */
export function findMissingUids(graph: JobGraph): MissingUid[] {
  if (graph.config.checkpointing === undefined) return [];
  const missing: MissingUid[] = [];
  for (const node of graph.nodes) {
    const state = checkpointedState(node);
    if (state === undefined || node.uidExplicit) continue;
    missing.push({
      uid: node.uid,
      name: node.name,
      state,
      message:
        `operator '${node.uid}' (${node.name}) checkpoints ${state} under a uid derived from its position: ` +
        `adding or removing an operator before it loses that state on restore; give it a stable one with .uid('...')`,
    });
  }
  return missing;
}

function checkpointedState(node: GraphNode): MissingUid['state'] | undefined {
  if (node.keyed) return 'keyed state';
  if (node.kind === 'source') return 'source offsets';
  // A sink with checkpointed state checks it on restore (Sink.checkRestoredState): the file
  // sink's staged part files. Collect and discard sinks keep nothing in a checkpoint.
  if (node.kind === 'sink' && node.sink?.checkRestoredState !== undefined) return 'staged sink output';
  return undefined;
}
