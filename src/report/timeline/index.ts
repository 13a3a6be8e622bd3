// Handover timeline renderers: the same timeline as terminal text or as a standalone SVG picture.
export { renderTimelineSvg } from './render-svg.ts';
export { renderTimelineText } from './render-text.ts';
export type { Timeline, TimelineLane, TimelineMarker, TimelineSvgOptions, TimelineTransition } from './types.ts';
