// Pins a follower (a handover's deployment B) holds on checkpoints it restores from without claiming them: retention keeps them while the lease lives.
import { StorageNotFoundError } from '../storage/errors.ts';
import type { CheckpointStorage } from '../storage/types.ts';
import { folderPrefix, HANDOVER_DIR, PIN_PREFIX, pinKey, runIdOfPinKey } from '../layout.ts';

// The keys are the layout's; re-exported where pins were always found.
export { PIN_PREFIX, pinKey, runIdOfPinKey } from '../layout.ts';

/** More checkpoint ids than this in one pin is not what a follower writes. */
const MAX_PINNED = 64;

/**
 * `handover/pin-<runId>.json`: the checkpoints run `runId` is reading (following or restoring)
 * while another run owns the directory, until `expiresAt` (epoch ms, the writer's clock), renewed
 * while it reads. The owner's retention keeps them (Flink's NO_CLAIM restore).
 */
export interface FollowerPin {
  readonly runId: string;
  readonly checkpoints: readonly number[];
  readonly renewedAt: number;
  readonly expiresAt: number;
}

/** The pins of a job directory, as retention sees them at `now`. */
export interface PinCensus {
  /** Pins whose lease runs: what they name must stay. */
  readonly live: readonly FollowerPin[];
  /** Keys of pins whose lease ran out (their follower died or gave up): ignored, removed by a sweep. */
  readonly expired: readonly string[];
  /** Keys of objects named like pins that are not pins (ignored and reported; one still being written reads like this). */
  readonly invalid: readonly string[];
}

/**
 * Parses a pin read from storage (pure): undefined unless it is exactly what a follower writes,
 * its run id equal to the one in its key, checkpoint ids non-negative safe integers (at most 64),
 * times finite.
 *
 * @example parsePin('{"runId":"ab","checkpoints":[7],"renewedAt":1,"expiresAt":2}', 'ab')
 */
export function parsePin(text: string, runIdFromKey: string): FollowerPin | undefined {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return undefined;
  const v = value as Record<string, unknown>;
  if (v.runId !== runIdFromKey || typeof v.runId !== 'string') return undefined;
  if (!Array.isArray(v.checkpoints) || v.checkpoints.length > MAX_PINNED) return undefined;
  if (!v.checkpoints.every((id) => Number.isSafeInteger(id) && (id as number) >= 0)) return undefined;
  if (!Number.isFinite(v.renewedAt) || !Number.isFinite(v.expiresAt)) return undefined;
  return { runId: v.runId, checkpoints: [...(v.checkpoints as number[])], renewedAt: v.renewedAt as number, expiresAt: v.expiresAt as number };
}

/** Writes (or renews) a pin. @example await writePin(storage, { runId, checkpoints: [7], renewedAt: now, expiresAt: now + 10_000 }) */
export async function writePin(storage: CheckpointStorage, pin: FollowerPin): Promise<void> {
  const key = pinKey(pin.runId);
  if (!pin.checkpoints.every((id) => Number.isSafeInteger(id) && id >= 0) || pin.checkpoints.length > MAX_PINNED) {
    throw new RangeError(`a pin names 0 to ${MAX_PINNED} checkpoint ids, got ${JSON.stringify(pin.checkpoints)}`);
  }
  await storage.put(key, new TextEncoder().encode(JSON.stringify(pin)));
}

/**
 * Every pin in the job directory, sorted into live, expired (at `now`, the reader's clock) and
 * invalid. A pin deleted between the listing and its read is simply gone. Storage failures are
 * thrown: retention that cannot see the pins must not run.
 *
 * @example const { live } = await readPins(storage, Date.now());
 */
export async function readPins(storage: CheckpointStorage, now: number): Promise<PinCensus> {
  const live: FollowerPin[] = [];
  const expired: string[] = [];
  const invalid: string[] = [];
  // Listings are by folder: the stop request and handover reports are in it too.
  for (const key of await storage.list(folderPrefix(HANDOVER_DIR))) {
    if (!key.startsWith(PIN_PREFIX)) continue;
    const runId = runIdOfPinKey(key);
    if (runId === undefined) {
      invalid.push(key);
      continue;
    }
    let bytes: Uint8Array;
    try {
      bytes = await storage.get(key);
    } catch (error) {
      if (error instanceof StorageNotFoundError) continue;
      throw error;
    }
    const pin = parsePin(new TextDecoder().decode(bytes), runId);
    if (pin === undefined) invalid.push(key);
    else if (pin.expiresAt <= now) expired.push(key);
    else live.push(pin);
  }
  return { live, expired, invalid };
}

/** Checkpoint ids some live pin names. @example if (pinnedCheckpoints(census).has(7)) keep(7); */
export function pinnedCheckpoints(census: Pick<PinCensus, 'live'>): Set<number> {
  return new Set(census.live.flatMap((p) => p.checkpoints));
}
