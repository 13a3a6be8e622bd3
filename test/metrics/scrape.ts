// Helpers of the metrics tests: scrape an endpoint over HTTP and read one sample of the text format.

/** GET `url`; the body with status and content type. */
export async function scrape(url: string): Promise<{ status: number; contentType: string | null; body: string }> {
  const res = await fetch(url);
  return { status: res.status, contentType: res.headers.get('content-type'), body: await res.text() };
}

/**
 * The value of the sample `name` whose labels include `labels`, or undefined when none matches.
 * E.g. sample(body, 'baton_job_status', { job: 'j', status: 'RUNNING' }).
 */
export function sample(body: string, name: string, labels: Record<string, string> = {}): number | undefined {
  for (const line of body.split('\n')) {
    if (line.startsWith('#')) continue;
    const match = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!match || match[1] !== name) continue;
    const found: Record<string, string> = {};
    for (const pair of (match[2] ?? '').matchAll(/([a-zA-Z_]\w*)="((?:[^"\\]|\\.)*)"/g)) found[pair[1]] = pair[2];
    if (Object.entries(labels).every(([k, v]) => found[k] === v)) return Number(match[3]);
  }
  return undefined;
}

/** Resolves with the first event `name` of `emitter` that satisfies `accept`. */
export function nextEvent<T>(emitter: { on(name: string, l: (e: T) => void): unknown; off(name: string, l: (e: T) => void): unknown }, name: string, accept: (e: T) => boolean = () => true): Promise<T> {
  return new Promise((resolve) => {
    const listener = (e: T) => {
      if (!accept(e)) return;
      emitter.off(name, listener);
      resolve(e);
    };
    emitter.on(name, listener);
  });
}
