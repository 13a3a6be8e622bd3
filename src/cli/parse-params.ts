// Parses repeated `--param key=value` flags into job parameters (numbers and booleans typed).
import { BatonError, registerErrors } from '../errors/index.ts';
import type { JobParam } from '../runtime/types.ts';

/**
 * A command line the CLI cannot run (a malformed flag or value); `baton` prints it with its usage.
 *
 * @example parseParam('failAt'); // throws CliUsageError: --param expects key=value, got 'failAt'
 */
export class CliUsageError extends BatonError {
  static override readonly code: string = 'BATON_ERR_CLI_USAGE';
  override name = 'CliUsageError';
}

/**
 * One `--param key=value`: `true`/`false` become booleans and numbers written the way JavaScript
 * prints them (`42`, `-1.5`) become numbers; anything else stays the text as typed (`007`, `1e3`),
 * so a job that declares the parameter a string gets back exactly what was typed.
 */
export function parseParam(entry: string, previous: Record<string, JobParam> = {}): Record<string, JobParam> {
  const at = entry.indexOf('=');
  if (at <= 0) throw new CliUsageError(`--param expects key=value, got '${entry}'`);
  const key = entry.slice(0, at);
  const raw = entry.slice(at + 1);
  let value: JobParam = raw;
  if (raw === 'true' || raw === 'false') value = raw === 'true';
  else if (raw.trim() !== '' && Number.isFinite(Number(raw)) && String(Number(raw)) === raw) value = Number(raw);
  return { ...previous, [key]: value };
}

export function parsePositiveInt(name: string) {
  return (raw: string): number => {
    const value = Number(raw);
    if (!Number.isInteger(value) || value < 1) throw new CliUsageError(`${name} must be an integer >= 1, got '${raw}'`);
    return value;
  };
}

registerErrors(CliUsageError);
