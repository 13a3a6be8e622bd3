// Typed errors of the metrics module.
import { BatonError, registerErrors } from '../errors/index.ts';

/**
 * The /metrics endpoint could not listen (port taken, host not local, no permission).
 *
 * @example
 * try { await startMetricsServer(registry, 9464); }
 * catch (e) { if (e instanceof MetricsServerError) console.error(`port ${e.port} is taken`); }
 */
export class MetricsServerError extends BatonError {
  static override readonly code: string = 'BATON_ERR_METRICS_SERVER';
  override name = 'MetricsServerError';
  readonly host: string;
  readonly port: number;
  constructor(host: string, port: number, options?: { cause?: unknown }) {
    const reason = (options?.cause as { code?: string; message?: string } | undefined)?.code ?? (options?.cause as Error | undefined)?.message ?? 'unknown error';
    super(`metrics server cannot listen on ${host}:${port}: ${reason}`, options);
    this.host = host;
    this.port = port;
  }
}

registerErrors(MetricsServerError);
