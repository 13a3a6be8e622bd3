// The downtime of a handover, from the two markers that bound it (DESIGN.md "Handover": A's last record to B's first).
import { formatMs } from './format.ts';
import type { DowntimeWindow, TimelineMarker } from './types.ts';

/** Marker labels that bound the downtime. */
export const A_LAST_RECORD = 'A last record';
export const B_FIRST_RECORD = 'B first record';

/**
 * A's last and B's first record when the timeline has markers for both, else undefined. With
 * several of a kind, the latest 'A last record' and the earliest 'B first record' count.
 *
 * @example downtimeWindow([{ label: 'A last record', at: 10 }, { label: 'B first record', at: 25 }]) // { lastA: 10, firstB: 25 }
 */
export function downtimeWindow(markers: readonly TimelineMarker[]): DowntimeWindow | undefined {
  const a = markers.filter((m) => m.label === A_LAST_RECORD).map((m) => m.at);
  const b = markers.filter((m) => m.label === B_FIRST_RECORD).map((m) => m.at);
  if (a.length === 0 || b.length === 0) return undefined;
  return { lastA: Math.max(...a), firstB: Math.min(...b) };
}

/**
 * The downtime in words, or the overlap when B's first record came before A's last.
 *
 * @example downtimeText({ lastA: 10, firstB: 130 }) // 'downtime 120 ms'
 */
export function downtimeText(window: DowntimeWindow): string {
  const ms = window.firstB - window.lastA;
  return ms >= 0 ? `downtime ${formatMs(ms)} ms` : `overlap ${formatMs(-ms)} ms`;
}
