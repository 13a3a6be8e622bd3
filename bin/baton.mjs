#!/usr/bin/env node
// The `baton` command: loads tsx so the CLI and users' TypeScript job modules run without a build step.
import { register } from 'tsx/esm/api';

register();
const { main } = await import('../src/cli/main.ts');
process.exitCode = await main(process.argv);
