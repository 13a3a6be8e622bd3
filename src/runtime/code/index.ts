// The code worker threads run: the compiled runtime and the job module bundled for it.
import { bundleJob } from './job-bundle.ts';
import { runtimeBuild } from './runtime-build.ts';

export { bundleJob } from './job-bundle.ts';
export { codeCacheDir, compileRuntime, fromSources, RUNTIME_ENTRIES, type RuntimeBuild, runtimeBuild } from './runtime-build.ts';

/** What a job's worker threads load: the runtime's worker entry now, the job's bundle once compiled. */
export interface WorkerCode {
  readonly workerUrl: string;
  /** The bundled job module's URL (compiled while the threads start; rejects with JobModuleError). */
  readonly jobModule: Promise<string>;
}

/**
 * Finds (or builds) the runtime and starts compiling the job: threads can start loading the
 * runtime while esbuild bundles the job on this thread.
 *
 * @example const code = await prepareWorkerCode(pathToFileURL('job.ts').href);
 */
export async function prepareWorkerCode(moduleUrl: string): Promise<WorkerCode> {
  const runtime = await runtimeBuild();
  const jobModule = bundleJob(moduleUrl, runtime);
  // Awaited by each attempt; a failure surfaces there, not as an unhandled rejection here.
  jobModule.catch(() => undefined);
  return { workerUrl: runtime.entry('worker'), jobModule };
}
