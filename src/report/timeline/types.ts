// Types of the handover timeline: the input both renderers draw, and the pieces they share.

/** One status change of a deployment, at an epoch time in ms. */
export interface TimelineTransition {
  readonly status: string;
  readonly at: number;
}

/**
 * One deployment (e.g. A, the old job, or B, the new one) as the statuses it went through.
 * Segment i lasts from `transitions[i].at` to `transitions[i + 1].at`, the last one to `endAt`
 * or, without it, to the timeline's last time.
 */
export interface TimelineLane {
  /** Shown as the lane's heading, e.g. 'A (blue)'. */
  readonly name: string;
  readonly transitions: ReadonlyArray<TimelineTransition>;
  /** Epoch ms where the last segment ends; the timeline's last time when absent. */
  readonly endAt?: number;
}

/**
 * A point in time worth a vertical line, e.g. 'chk-5 COMPLETED'. The labels 'A last record' and
 * 'B first record' have a meaning: together they bound the downtime band.
 */
export interface TimelineMarker {
  readonly label: string;
  readonly at: number;
  /** Name of the lane the event belongs to, if any. */
  readonly lane?: string;
}

/** What the renderers draw: the lanes of the deployments, markers, and handover metrics. */
export interface Timeline {
  readonly lanes: readonly TimelineLane[];
  readonly markers: readonly TimelineMarker[];
  readonly metrics?: Readonly<Record<string, number | boolean | string>>;
}

/** Options of {@link renderTimelineSvg}. */
export interface TimelineSvgOptions {
  /** Width of the picture in px (default 960, at least 320). */
  readonly width?: number;
  /** Heading drawn above the chart and used as the document's `<title>`. */
  readonly title?: string;
}

/** One status of one lane with its resolved start and end (epoch ms, end >= start). */
export interface Segment {
  readonly status: string;
  readonly start: number;
  readonly end: number;
}

/** Earliest and latest time of a timeline (epoch ms). */
export interface TimeBounds {
  readonly start: number;
  readonly end: number;
}

/** Axis ticks: a step that reads well and the tick offsets from 0 it yields (both in ms). */
export interface Ticks {
  readonly stepMs: number;
  readonly ticks: readonly number[];
}

/** The stretch between A's last and B's first record (B before A means the two overlapped). */
export interface DowntimeWindow {
  readonly lastA: number;
  readonly firstB: number;
}

/** Maps epoch ms to x in px across the plot area of the SVG. */
export interface TimeScale {
  /** Epoch ms at the left edge. */
  readonly start: number;
  /** Ms between the left and right edge (> 0). */
  readonly span: number;
  readonly left: number;
  readonly right: number;
  readonly x: (at: number) => number;
}
