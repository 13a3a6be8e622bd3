// Word count over a text file: flatMap → keyBy → reduce, results collected and written to files.
import { defineJob, Sinks, Sources } from 'baton';

export default defineJob((env) => {
  const counts = env
    .fromSource(Sources.file({ path: String(env.params.input), splitBytes: Number(env.params.splitBytes ?? 4096) }), 'lines')
    .uid('lines')
    .flatMap<string>((line, out) => {
      for (const word of line.toLowerCase().split(/[^a-z']+/)) if (word.length > 0) out.collect(word);
    })
    .uid('words')
    .map((word): [string, number] => [word, 1])
    .uid('pairs')
    .keyBy(([word]) => word)
    .reduce((a, b) => [a[0], a[1] + b[1]])
    .uid('counts');
  counts.sinkTo(Sinks.collect<[string, number]>()).uid('collected');
  if (env.params.output) counts.sinkTo(Sinks.file({ path: String(env.params.output) })).uid('files');
});
