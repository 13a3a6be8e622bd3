// Starts the longest test files first. Vitest orders files by its own timing cache, and without one (a
// clean clone, as in CI) by file size: the seeded kill schedules, five-line files that run for minutes,
// then started last and ran alone at the end. test/weights.json holds measured seconds per slow file
// (scripts/test-weights.ts writes it from a JSON report); unknown files keep vitest's order after them.
import { readFileSync } from 'node:fs';
import { relative } from 'node:path';
import { BaseSequencer, type TestSpecification } from 'vitest/node';

function loadWeights(root: string): Record<string, number> {
  try {
    return JSON.parse(readFileSync(`${root}/test/weights.json`, 'utf8')) as Record<string, number>;
  } catch {
    return {};
  }
}

export class SlowFirstSequencer extends BaseSequencer {
  override async sort(files: TestSpecification[]): Promise<TestSpecification[]> {
    const root = this.ctx.config.root;
    const weights = loadWeights(root);
    const weight = (spec: TestSpecification): number => weights[relative(root, spec.moduleId)] ?? 0;
    // Array.prototype.sort is stable: equal weights (the unknown files) keep vitest's own order.
    return (await super.sort(files)).sort((a, b) => weight(b) - weight(a));
  }
}
