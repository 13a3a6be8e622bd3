// Example job: orders enriched with customer profiles from a remote lookup service through async I/O
// (asyncMap), then revenue per customer tier. Run: node bin/baton.mjs run examples/enrichment.ts --param orders=5000
import { setTimeout as sleep } from 'node:timers/promises';
import { type AsyncFunctionContext, defineJob, Sinks, Sources } from 'baton';

export interface Order {
  readonly id: number;
  readonly customer: number;
  readonly cents: number;
}

export type Tier = 'gold' | 'silver' | 'bronze' | 'unknown';

export interface EnrichedOrder extends Order {
  readonly tier: Tier;
  readonly country: string;
}

const COUNTRIES = ['DE', 'FR', 'NL', 'PL', 'SE', 'US'];

/** Order n of a deterministic order stream over 500 customers. */
export function order(n: number): Order {
  const h = Math.imul(n, 2654435761) >>> 0;
  return { id: n, customer: h % 500, cents: 500 + ((h >>> 9) % 20_000) };
}

/** What the profile service knows about a customer (deterministic, so runs can be compared). */
export function profile(customer: number): { tier: Tier; country: string } {
  const h = Math.imul(customer + 1, 40503) >>> 0;
  const tier: Tier = h % 10 === 0 ? 'gold' : h % 3 === 0 ? 'silver' : 'bronze';
  return { tier, country: COUNTRIES[(h >>> 4) % COUNTRIES.length] };
}

/**
 * A stand-in for a remote key-value store: every lookup takes `latencyMs` (a little more for some
 * customers, so answers come back out of order) and honours the abort signal asyncMap passes on
 * timeout or failover, as `fetch` does.
 */
export async function lookupProfile(customer: number, latencyMs: number, signal?: AbortSignal): Promise<{ tier: Tier; country: string }> {
  await sleep(latencyMs + (customer % 7), undefined, { signal });
  return profile(customer);
}

export default defineJob((env) => {
  const p = env.params;
  const latencyMs = Number(p.latencyMs ?? 20);
  env.enableCheckpointing({ intervalMs: 1_000 });
  const enriched = env
    .fromSource(Sources.sequence({ from: 1, to: Number(p.orders ?? 5_000) }), 'orders')
    .uid('orders')
    .map(order)
    .uid('parse')
    // Up to `capacity` lookups in flight per subtask instead of one at a time: with 20 ms per lookup,
    // 50 in flight give ~2 500 orders/s per subtask where a blocking map would give 50. Lookups in
    // flight are checkpointed and made again after a restore: each order is enriched exactly once.
    .asyncMap(
      async (o: Order, ctx: AsyncFunctionContext): Promise<EnrichedOrder> => ({ ...o, ...(await lookupProfile(o.customer, latencyMs, ctx.signal)) }),
      {
        ordered: false,
        capacity: Number(p.capacity ?? 50),
        timeoutMs: 5_000,
        // A lookup that takes too long does not fail the job: the order goes on as 'unknown'.
        onTimeout: (o) => ({ ...o, tier: 'unknown', country: '??' }),
      },
    )
    .uid('enrich');

  enriched.sinkTo(Sinks.collect()).uid('enriched');
  enriched
    .keyBy((o) => o.tier)
    .reduce((a, b) => ({ ...b, cents: a.cents + b.cents }))
    .uid('revenue-per-tier')
    .map((o) => ({ tier: o.tier, cents: o.cents }))
    .uid('revenue')
    .sinkTo(Sinks.collect())
    .uid('revenue-out');
});
