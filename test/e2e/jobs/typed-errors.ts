// Functions that fail with typed errors on worker threads: a storage error raised by baton's own
// storage code, and the job's own registered error class (params.mode: 'storage' | 'payment').
import { BatonError, defineJob, openStorage, registerErrors, Sinks, Sources } from 'baton';

/** The job's own error class: registered, so the main thread revives it as this class. */
export class PaymentDeclinedError extends BatonError {
  static override readonly code: string = 'APP_ERR_PAYMENT_DECLINED';
  override name = 'PaymentDeclinedError';
  constructor(
    readonly orderId: number,
    readonly currency: string,
  ) {
    super(`payment of order ${orderId} declined (${currency})`);
  }
}
registerErrors(PaymentDeclinedError);

export function chargeOrder(orderId: number): number {
  if (orderId === 500) throw new PaymentDeclinedError(orderId, 'EUR');
  return orderId;
}

export async function lookupMissing(storageUri: string, n: number): Promise<number> {
  if (n === 500) await openStorage(storageUri).get(`prices/${n}`);
  return n;
}

export default defineJob((env) => {
  const p = env.params;
  const numbers = env.fromSource(Sources.sequence({ from: 0, to: 1_000 }), 'numbers').uid('numbers');
  const failing =
    p.mode === 'payment'
      ? numbers.map(chargeOrder).uid('charge')
      : numbers.asyncMap((n: number) => lookupMissing(String(p.storage), n), { capacity: 4, timeoutMs: 30_000 }).uid('lookup');
  failing.sinkTo(Sinks.collect<number>()).uid('out');
});
