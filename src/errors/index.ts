// Error classes every layer shares (api, runtime, state, checkpoint all import them from here),
// the registry of error classes by code, and how errors cross a thread boundary.
export { BatonError, BatonInternalError, ForeignError } from './baton-error.ts';
export { closestKey, JobConfigError, rejectUnknownKeys, UnknownOptionError } from './config-errors.ts';
export { type BatonErrorClass, errorClassOf, registeredErrors, registerErrors } from './registry.ts';
export { reviveError, reviveThrown, type SerializedError, type SerializedThrown, serializeError, serializeThrown } from './transport.ts';
