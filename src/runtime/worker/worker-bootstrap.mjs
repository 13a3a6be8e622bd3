// Plain-JS entry of every worker thread: loads the TypeScript worker through tsx's module API.
// Node 20 does not apply `--import tsx` hooks to dynamic imports in worker threads; a tsImport
// namespace does, and it also loads the user's job (and its `baton` import) as the same module
// instances as the worker's own, so classes and symbols match.
import { tsImport } from 'tsx/esm/api';

const entry = await tsImport('./worker-entry.ts', import.meta.url);
export default entry.default;
