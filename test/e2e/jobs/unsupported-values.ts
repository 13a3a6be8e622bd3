// Records a channel cannot carry faithfully (param `bad`: function | class | nan-key) at one record (`at`), to check they fail the same way on every path.
import { defineJob, Sinks, Sources } from 'baton';

interface Reading {
  n: number;
  payload: Record<string, unknown>;
}

class Celsius {
  constructor(readonly degrees: number) {}
}

export const KEYS = 8;

function reading(n: number, bad: string, at: number): Reading {
  if (n !== at) return { n, payload: { ok: true } };
  if (bad === 'function') return { n, payload: { fn: () => n } };
  if (bad === 'class') return { n, payload: { temperature: new Celsius(n) } };
  return { n, payload: { ok: true } };
}

export default defineJob((env) => {
  const p = env.params;
  const bad = String(p.bad);
  const at = Number(p.at);
  env
    .fromSource(Sources.sequence({ from: 1, to: Number(p.to ?? 2_000) }), 'numbers')
    .uid('numbers')
    .map((n) => reading(n, bad, at))
    .uid('readings')
    .keyBy((r) => (bad === 'nan-key' && r.n === at ? Number.NaN : r.n % KEYS))
    .reduce((a, b) => ({ n: b.n, payload: { ...a.payload, ...b.payload } }))
    .uid('latest')
    .sinkTo(Sinks.discard())
    .uid('out');
});
