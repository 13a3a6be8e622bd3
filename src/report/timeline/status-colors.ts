// One fixed colour per job status, so the same status looks the same in every picture.

/** Statuses of DESIGN.md "Job lifecycle" in lifecycle order, which is also the legend's order. */
const LIFECYCLE_COLORS: ReadonlyMap<string, string> = new Map([
  ['CREATED', '#c7c7c7'],
  ['INITIALIZING', '#9e9ac8'],
  ['RUNNING_PRE_STATE_HOOKS', '#fdae6b'],
  ['RESTORING', '#e6550d'],
  ['WAITING_FOR_START_SIGNAL', '#f2cf3a'],
  ['SHADOW', '#756bb1'],
  ['RUNNING', '#31a354'],
  ['STANDBY', '#a1d99b'],
  ['FINISHED', '#3182bd'],
  ['SUSPENDED', '#9ecae1'],
  ['CANCELED', '#636363'],
  ['FAILED', '#d62728'],
  ['RESTARTING', '#e377c2'],
]);

// Unknown statuses still get a stable colour: the same name always hashes to the same entry.
const FALLBACK = ['#8c564b', '#17becf', '#bcbd22', '#7b4173', '#393b79', '#637939', '#843c39', '#5254a3'];

function hash(text: string): number {
  let h = 0;
  for (let i = 0; i < text.length; i++) h = (h * 31 + text.charCodeAt(i)) >>> 0;
  return h;
}

/** Fill colour of a status. @example statusColor('RUNNING') // '#31a354' */
export function statusColor(status: string): string {
  return LIFECYCLE_COLORS.get(status) ?? FALLBACK[hash(status) % FALLBACK.length];
}

/** Black or white, whichever reads better on the fill (`#rrggbb`). @example textColorOn('#636363') // '#ffffff' */
export function textColorOn(fill: string): string {
  const [r, g, b] = [1, 3, 5].map((i) => Number.parseInt(fill.slice(i, i + 2), 16));
  // Perceived brightness (ITU-R BT.601 weights).
  return 0.299 * r + 0.587 * g + 0.114 * b > 140 ? '#111111' : '#ffffff';
}

/**
 * The distinct statuses given, lifecycle statuses first in lifecycle order, then unknown ones in
 * order of first appearance.
 *
 * @example legendOrder(['RUNNING', 'X', 'CREATED', 'RUNNING']) // ['CREATED', 'RUNNING', 'X']
 */
export function legendOrder(statuses: Iterable<string>): string[] {
  const distinct = [...new Set(statuses)];
  const known = [...LIFECYCLE_COLORS.keys()].filter((s) => distinct.includes(s));
  return [...known, ...distinct.filter((s) => !LIFECYCLE_COLORS.has(s))];
}
