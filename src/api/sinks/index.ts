// The built-in sinks, as `Sinks.*`.
import { collect } from './collect.ts';
import { discard } from './discard.ts';
import { file } from './file.ts';

export type { FileSinkOptions } from './file.ts';

/**
 * Built-in sinks.
 *
 * @example
 * const out = Sinks.collect<string>();
 * const files = Sinks.file<string>({ path: './out' });
 * const nowhere = Sinks.discard<string>();
 */
export const Sinks = { collect, file, discard } as const;
