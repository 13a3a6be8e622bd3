// The built-in sinks, as `Sinks.*`.
import { postgres } from '../../connectors/postgres/index.ts';
import { collect } from './collect.ts';
import { discard } from './discard.ts';
import { file } from './file.ts';

export type { FileSinkOptions } from './file.ts';
export type { PostgresConnection, PostgresSinkOptions } from '../../connectors/postgres/index.ts';

/**
 * Built-in sinks.
 *
 * @example
 * const out = Sinks.collect<string>();
 * const files = Sinks.file<string>({ path: './out' });
 * const nowhere = Sinks.discard<string>();
 * const rows = Sinks.postgres<{ user: string; n: number }>({ connection: 'postgres://app@127.0.0.1/shop', mode: 'exactly-once', table: 'clicks', columns: ['user', 'n'] });
 */
export const Sinks = { collect, file, discard, postgres } as const;
