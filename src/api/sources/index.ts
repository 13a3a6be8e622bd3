// The built-in sources, as `Sources.*`.
import { elements } from './elements.ts';
import { file } from './file.ts';
import { sequence } from './sequence.ts';

export type { ElementsSplit } from './elements.ts';
export type { FileSourceOptions, FileSplit } from './file.ts';
export type { SequenceOptions, SequenceSplit } from './sequence.ts';

/**
 * Built-in sources.
 *
 * @example
 * const numbers = Sources.sequence({ from: 1, to: 100 });
 * const lines = Sources.file({ path: './input.txt' });
 * const words = Sources.elements(['a', 'b', 'c']);
 */
export const Sources = { sequence, file, elements } as const;
