// A fast source feeding a deliberately slow sink in another thread: exercises backpressure.
import { defineJob, type Sink, Sources } from 'baton';

function slowSink(microsPerRecord: number): Sink<number> {
  return {
    kind: 'slow',
    validate() {},
    createWriter() {
      let received = 0;
      return {
        write() {
          const until = performance.now() + microsPerRecord / 1000;
          while (performance.now() < until) {
            // busy: a sink that cannot keep up
          }
          received++;
        },
        finish() {},
        abort() {},
        result: () => [received],
      };
    },
  };
}

export default defineJob((env) => {
  env
    .fromSource(Sources.sequence({ from: 1, to: Number(env.params.count ?? 60_000) }), 'fast')
    .setParallelism(1)
    .sinkTo(slowSink(Number(env.params.micros ?? 5)))
    .setParallelism(2)
    .uid('slow');
});
