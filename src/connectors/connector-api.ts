// Everything the built-in connectors (Redis Streams, PostgreSQL) take from baton, in one place: the
// connector API a user's own connector is written against. Each name here is exported by 'baton'
// too (test/connectors/connector-api.test.ts checks the values), so the built-in connectors show
// that a connector needs nothing internal.
export type { Sink, SinkContext, SinkWriter, Source, SourceReader, SourceReaderContext, SourceSplit } from '../runtime/types.ts';
export { NO_TIMESTAMP } from '../runtime/types.ts';
export type { StoredValueProblem } from '../checkpoint/restore/stored-values.ts';
export { HostileCheckpointError } from '../checkpoint/errors.ts';
export { BatonError, BatonInternalError, JobConfigError, registerErrors, UnknownOptionError } from '../runtime/errors.ts';
