// `baton check <job>`: type-checks a job module and validates its graph without running it.
import type { Command } from 'commander';
import type { JobParam } from '../../runtime/types.ts';
import { describeParams } from '../../api/index.ts';
import { checkJob } from '../check/index.ts';
import { parseParam, parsePositiveInt } from '../parse-params.ts';

/** Exit code of `baton check` when the job has problems (one line each on stdout). */
export const CHECK_PROBLEMS_EXIT_CODE = 1;

interface CheckFlags {
  parallelism?: number;
  maxParallelism?: number;
  param: Record<string, JobParam>;
  typeCheck: boolean;
}

/**
 * Registers `baton check`: problems on stdout (one line each) and exit code 1, warnings (what
 * could not be checked) on stderr; exit code 0 and one `ok` line when the job is clean.
 *
 * @example registerCheckCommand(program, io.out, io.err, (code) => { exitCode = code; });
 */
export function registerCheckCommand(program: Command, out: (line: string) => void, err: (line: string) => void, setExitCode: (code: number) => void): void {
  program
    .command('check')
    .description('type-check a job module and validate its graph without running it (exit code 0 clean, 1 with one line per problem)')
    .argument('<job>', 'path or file URL of the job module')
    .option('-p, --parallelism <n>', 'default operator parallelism, as for run', parsePositiveInt('--parallelism'))
    .option('--max-parallelism <n>', 'number of key groups, as for run', parsePositiveInt('--max-parallelism'))
    .option('--param <key=value>', 'job parameter, as for run (repeatable)', parseParam, {})
    .option('--no-type-check', 'validate the graph only')
    .action(async (job: string, flags: CheckFlags) => {
      const report = await checkJob(job, { parallelism: flags.parallelism, maxParallelism: flags.maxParallelism, params: flags.param, typeCheck: flags.typeCheck });
      for (const warning of report.warnings) err(`warning: ${warning}`);
      for (const problem of report.problems) out(problem);
      // The declared params, with or without problems: what to pass as --param.
      const params = report.params ? describeParams(report.params) : [];
      if (report.problems.length > 0) {
        if (params.length > 0) for (const line of ['the job declares these params:', ...params.map((p) => `  ${p}`)]) err(line);
        setExitCode(CHECK_PROBLEMS_EXIT_CODE);
        return;
      }
      const types =
        report.typeCheck?.kind === 'checked'
          ? `types checked with typescript ${report.typeCheck.typescriptVersion} (${report.typeCheck.configFile ?? "no tsconfig.json: TypeScript's defaults"})`
          : 'types not checked';
      out(`${job}: ok: ${types}; graph of ${report.graph?.nodes.length ?? 0} operators valid`);
      for (const line of params) out(`  param ${line}`);
    });
}
