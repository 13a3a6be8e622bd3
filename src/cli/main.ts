// The `baton` command line: subcommands parsed with commander.
import { Command, CommanderError } from 'commander';
import { FencedError } from '../checkpoint/index.ts';
import { BatonError } from '../runtime/index.ts';
import { registerCheckCommand } from './commands/check.ts';
import { registerCheckpointsCommand } from './commands/checkpoints.ts';
import { registerDemoCommand } from './commands/demo.ts';
import { registerRunCommand } from './commands/run.ts';
import { registerStopAfterCommand } from './commands/stop-after.ts';
import { registerWatchCommand } from './commands/watch.ts';
import { CliUsageError } from './parse-params.ts';

export interface CliIo {
  out: (line: string) => void;
  err: (line: string) => void;
}

const defaultIo: CliIo = {
  out: (line) => process.stdout.write(`${line}\n`),
  err: (line) => process.stderr.write(`${line}\n`),
};

/**
 * Exit code of a command whose job was fenced (FencedError, `BATON_ERR_FENCED`): another run owns
 * the job directory. Distinct from 1 (any other failure) so an orchestrator does not simply
 * start the same deployment again.
 */
export const FENCED_EXIT_CODE = 7;

/** Runs the CLI; resolves to the process exit code. */
export async function main(argv: readonly string[], io: CliIo = defaultIo): Promise<number> {
  const program = new Command('baton')
    .description('stream processing with exactly-once checkpoints and blue/green handover')
    .exitOverride()
    .configureOutput({ writeOut: (s) => io.out(s.trimEnd()), writeErr: (s) => io.err(s.trimEnd()) });
  let exitCode = 0;
  registerRunCommand(program, io.out, io.err);
  registerDemoCommand(program, io.out);
  registerStopAfterCommand(program, io.out);
  registerCheckpointsCommand(program, io.out, (code) => {
    exitCode = code;
  });
  registerWatchCommand(program, io.out, (code) => { exitCode = code; });
  registerCheckCommand(program, io.out, io.err, (code) => {
    exitCode = code;
  });
  try {
    await program.parseAsync([...argv]);
    return exitCode;
  } catch (error) {
    if (error instanceof CommanderError) return error.exitCode === 0 ? 0 : 2;
    if (error instanceof CliUsageError) {
      io.err(`baton: ${error.message}`);
      return 2;
    }
    if (error instanceof FencedError) {
      io.err(`baton: fenced (${error.code}): ${error.message}`);
      return FENCED_EXIT_CODE;
    }
    if (error instanceof BatonError) {
      io.err(`baton: ${error.message}`);
      for (const line of declaredParams(error)) io.err(line);
      return 1;
    }
    io.err(`baton: ${(error as Error)?.stack ?? String(error)}`);
    return 1;
  }
}

/**
 * After a JobParamError, the params the job declares. Matched by code, not class: the job module
 * may have loaded its own copy of baton.
 */
function declaredParams(error: BatonError): string[] {
  const e = error as BatonError & { code?: unknown; declared?: unknown };
  if (e.code !== 'BATON_ERR_JOB_PARAM' || !Array.isArray(e.declared) || e.declared.length === 0) return [];
  return ['the job declares these params:', ...e.declared.map((d) => `  ${String(d)}`)];
}
