// `baton stop-after <job-dir> <n>`: asks the job running on a directory to end right after checkpoint n.
import type { Command } from 'commander';
import { requireJobDirectory } from '../../checkpoint/status/job-directory.ts';
import { writeStopRequest } from '../../checkpoint/index.ts';
import { openStorage } from '../../checkpoint/storage/index.ts';
import { parsePositiveInt } from '../parse-params.ts';

export function registerStopAfterCommand(program: Command, out: (line: string) => void): void {
  program
    .command('stop-after')
    .description('ask the job running on <job-dir> to end right after checkpoint <n> (it polls the request)')
    .argument('<job-dir>', 'URI or path of the directory holding chk-<n>')
    .argument('<n>', 'checkpoint number', parsePositiveInt('<n>'))
    .action(async (jobDir: string, n: number) => {
      const storage = openStorage(jobDir);
      try {
        // A wrong path must not get a request no job reads (nor a directory created for it).
        await requireJobDirectory(storage);
        await writeStopRequest(storage, n, 'baton stop-after');
        out(`requested: stop right after chk-${n} (${storage.uri})`);
      } finally {
        await storage.close();
      }
    });
}
