// s3rver with AWS's conditional writes (test/support's proxy in front) in a child process: out of the bench's event loop, as a real S3 would be.
import { type ChildProcess, spawn } from 'node:child_process';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { ProxiedExchange } from '../test/support/s3-conditional-proxy.ts';
import { startS3ConditionalProxy } from '../test/support/s3-conditional-proxy.ts';
import { startS3rver } from '../test/support/s3rver.ts';

const CHILD_FLAG = '--s3-server-process';

/** What a bench needs to reach the store. */
export interface S3ServerProcess {
  /** The conditional-write proxy's endpoint (use it as the S3 endpoint). */
  readonly endpoint: string;
  readonly bucket: string;
  readonly region: string;
  readonly credentials: { readonly accessKeyId: string; readonly secretAccessKey: string };
  close(): Promise<void>;
}

/**
 * Starts s3rver and the conditional-write proxy (test/support) in a child Node process and
 * resolves once they listen. In the bench's own process they would share its event loop with the
 * jobs under test: every request a job makes (a successor's probes, say) would then delay the
 * store's answers to the other job, which no deployment has. `exchangesFile`: the child appends
 * every request it answered there as a JSON line ({@link ProxiedExchange}), for looking at the traffic.
 *
 * @example const s3 = await startS3ServerProcess(); // ... s3.endpoint ... await s3.close();
 */
export async function startS3ServerProcess(options: { readonly exchangesFile?: string } = {}): Promise<S3ServerProcess> {
  const child: ChildProcess = spawn(process.execPath, ['--openssl-legacy-provider', '--import', 'tsx', fileURLToPath(import.meta.url), CHILD_FLAG], {
    cwd: fileURLToPath(new URL('..', import.meta.url)),
    env: { ...process.env, NODE_OPTIONS: '', ...(options.exchangesFile ? { BATON_S3_EXCHANGES_FILE: options.exchangesFile } : {}) },
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  const ready = await new Promise<Omit<S3ServerProcess, 'close'>>((resolve, reject) => {
    let out = '';
    child.once('error', reject);
    child.once('exit', (code) => reject(new Error(`the S3 server process exited with code ${code}`)));
    child.stdout?.on('data', (data: Buffer) => {
      out += data.toString();
      if (out.includes('\n')) resolve(JSON.parse(out.split('\n')[0]) as Omit<S3ServerProcess, 'close'>);
    });
  });
  child.removeAllListeners('exit');
  return {
    ...ready,
    close: () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null) return resolve();
        child.once('exit', () => resolve());
        child.kill('SIGTERM');
      }),
  };
}

async function serve(): Promise<void> {
  const { appendFileSync } = await import('node:fs');
  const file = process.env.BATON_S3_EXCHANGES_FILE;
  const s3 = await startS3rver();
  const proxy = await startS3ConditionalProxy(s3.endpoint, file ? { onExchange: (e: ProxiedExchange) => appendFileSync(file, `${JSON.stringify(e)}\n`) } : {});
  process.stdout.write(`${JSON.stringify({ endpoint: proxy.endpoint, bucket: s3.bucket, region: s3.region, credentials: s3.credentials })}\n`);
  // Ends with the bench, even one that crashed: its end of stdin closes.
  const stop = () => {
    void proxy
      .close()
      .then(() => s3.close())
      .finally(() => process.exit(0));
  };
  process.on('SIGTERM', stop);
  process.stdin.on('close', stop).resume();
}

if (process.argv[2] === CHILD_FLAG && import.meta.url === pathToFileURL(process.argv[1]).href) {
  serve().catch((error: unknown) => {
    console.error(error);
    process.exit(1);
  });
}
