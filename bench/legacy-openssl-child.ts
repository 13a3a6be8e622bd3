// Runs a bench scenario in a child process with Node's legacy OpenSSL provider (s3rver's paged listings need it).
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

/**
 * Runs `moduleUrl` with `flag` (and `--quick`) in a child Node started with
 * `--openssl-legacy-provider --import tsx`; rejects when it exits with another code than 0.
 *
 * @example await runScenarioChild(import.meta.url, '--handover-scenario', options.quick, 'the handover scenario');
 */
export async function runScenarioChild(moduleUrl: string, flag: string, quick: boolean, name: string): Promise<void> {
  const child = spawn(process.execPath, ['--openssl-legacy-provider', '--import', 'tsx', fileURLToPath(moduleUrl), flag, ...(quick ? ['--quick'] : [])], {
    cwd: fileURLToPath(new URL('..', import.meta.url)),
    // Node 20: the AWS SDK would print its Node-version notice once per worker thread.
    env: { AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true', ...process.env },
    stdio: 'inherit',
  });
  const code = await new Promise<number | null>((resolve, reject) => {
    child.on('error', reject);
    child.on('exit', resolve);
  });
  if (code !== 0) throw new Error(`${name} exited with code ${code}`);
}
