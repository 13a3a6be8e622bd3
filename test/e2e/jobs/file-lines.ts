// A checkpointed job reading lines from a file source (param `input`) into a file sink (param `output`).
import { defineJob, Sinks, Sources } from 'baton';

export default defineJob((env) => {
  const p = env.params;
  env.enableCheckpointing({ mode: 'aligned', intervalMs: 1_000, retain: 3 });
  env
    .fromSource(Sources.file({ path: String(p.input) }), 'lines')
    .uid('lines')
    .map((line) => line.toUpperCase())
    .uid('upper')
    .sinkTo(Sinks.file<string>({ path: String(p.output), format: (line) => line }))
    .uid('out');
});
