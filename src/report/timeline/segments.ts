// Resolves a timeline into absolute segments and bounds, the common ground of both renderers.
import type { Segment, TimeBounds, Timeline, TimelineLane } from './types.ts';

function checkTime(at: number, what: string): number {
  if (!Number.isFinite(at)) throw new RangeError(`timeline ${what}: at must be a finite epoch ms, got ${at}`);
  return at;
}

/** Every time of the timeline, checked, with the thing it belongs to named in the error. */
function allTimes(timeline: Timeline): number[] {
  const times: number[] = [];
  for (const lane of timeline.lanes) {
    lane.transitions.forEach((t, i) => times.push(checkTime(t.at, `lane '${lane.name}' transition ${i} (${t.status})`)));
    if (lane.endAt !== undefined) times.push(checkTime(lane.endAt, `lane '${lane.name}' endAt`));
  }
  timeline.markers.forEach((m, i) => times.push(checkTime(m.at, `marker ${i} ('${m.label}')`)));
  return times;
}

/**
 * Earliest and latest time over all transitions, lane ends and markers; `{ start: 0, end: 0 }`
 * for an empty timeline. Throws a RangeError naming the lane or marker whose time is not finite.
 *
 * @example timeBounds({ lanes: [], markers: [{ label: 'x', at: 5 }, { label: 'y', at: 9 }] }) // { start: 5, end: 9 }
 */
export function timeBounds(timeline: Timeline): TimeBounds {
  const times = allTimes(timeline);
  if (times.length === 0) return { start: 0, end: 0 };
  // A loop, not Math.min(...times): spreading a very long list overflows the call stack.
  let start = times[0];
  let end = times[0];
  for (const t of times) {
    if (t < start) start = t;
    if (t > end) end = t;
  }
  return { start, end };
}

/**
 * The lane's segments in time order: each transition lasts until the next one, the last until
 * `lane.endAt` or else `timelineEnd`. An end before its start is clamped to a zero-length segment.
 *
 * @example laneSegments({ name: 'A', transitions: [{ status: 'RUNNING', at: 0 }, { status: 'FINISHED', at: 3 }] }, 5)
 * // [{ status: 'RUNNING', start: 0, end: 3 }, { status: 'FINISHED', start: 3, end: 5 }]
 */
export function laneSegments(lane: TimelineLane, timelineEnd: number): Segment[] {
  // Events may be collected out of order (several threads report them); the sort is stable, so equal times keep their order.
  const sorted = [...lane.transitions].sort((a, b) => a.at - b.at);
  return sorted.map((t, i) => {
    const end = i + 1 < sorted.length ? sorted[i + 1].at : (lane.endAt ?? timelineEnd);
    return { status: t.status, start: t.at, end: Math.max(end, t.at) };
  });
}
