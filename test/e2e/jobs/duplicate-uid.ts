// Two operators with the same uid: rejected before anything runs (the hook would leave a marker).
import { writeFileSync } from 'node:fs';
import { defineJob, Sinks, Sources } from 'baton';

export default defineJob((env) => {
  env.onBeforeStateLoad('marker', () => writeFileSync(String(env.params.marker), 'hook ran'));
  env.fromSource(Sources.sequence({ from: 0, to: 10 })).map((n) => n + 1).uid('twice').map((n) => n * 2).uid('twice').sinkTo(Sinks.discard());
});
