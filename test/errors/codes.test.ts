// One error hierarchy: every error class in src/ extends BatonError, is exported, and has its own
// stable code (unique, BATON_ERR_...), registered so it can cross threads; no bare Error is thrown.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { BatonError } from '../../src/index.ts';
import { errorClassOf } from '../../src/errors/index.ts';
import { exportedErrorClasses, samples } from './samples.ts';

const src = fileURLToPath(new URL('../../src/', import.meta.url));
const CODE = /^BATON_ERR_[A-Z0-9]+(_[A-Z0-9]+)*$/;

function sourceFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? sourceFiles(path) : name.endsWith('.ts') ? [path] : [];
  });
}

/** Names of the classes in src/ that are errors: extend Error, or a class that does (to a fixpoint). */
function errorClassesInSource(): Map<string, string> {
  const extendsOf = new Map<string, { base: string; file: string }>();
  for (const file of sourceFiles(src)) {
    for (const m of readFileSync(file, 'utf8').matchAll(/^\s*(?:export )?(?:abstract )?class (\w+) extends (\w+)/gm)) extendsOf.set(m[1], { base: m[2], file: relative(src, file) });
  }
  const errors = new Map<string, string>();
  let grew = true;
  while (grew) {
    grew = false;
    for (const [name, { base, file }] of extendsOf) {
      if (!errors.has(name) && (base === 'Error' || errors.has(base))) {
        errors.set(name, file);
        grew = true;
      }
    }
  }
  return errors;
}

describe('error codes', () => {
  it('every exported error class extends BatonError and has its own code, unique, non-empty, BATON_ERR_...', async () => {
    const classes = await exportedErrorClasses();
    expect(classes.size).toBeGreaterThan(50);
    const byCode = new Map<string, string>();
    for (const [name, errorClass] of classes) {
      expect(errorClass === BatonError || errorClass.prototype instanceof BatonError, `${name} extends BatonError`).toBe(true);
      expect(Object.hasOwn(errorClass, 'code'), `${name} has a static code of its own`).toBe(true);
      const code = (errorClass as unknown as { code: unknown }).code;
      expect(typeof code === 'string' && CODE.test(code), `${name}.code ${String(code)} matches ${CODE}`).toBe(true);
      expect(byCode.get(code as string), `${code} is the code of ${name} only`).toBeUndefined();
      byCode.set(code as string, name);
      // Registered: an error of this class thrown in a worker revives as this class.
      expect(errorClassOf(code as string), `${name} is registered under ${code}`).toBe(errorClass);
    }
  });

  it('every error class in src/ is one of them (none outside the hierarchy, none unexported)', async () => {
    const exported = await exportedErrorClasses();
    const missing = [...errorClassesInSource()].filter(([name]) => !exported.has(name)).map(([name, file]) => `${name} (${file})`);
    expect(missing).toEqual([]);
  });

  it("an instance carries its class's code and name, and every exported class has a sample for the round-trip tests", async () => {
    for (const name of (await exportedErrorClasses()).keys()) expect(samples[name], `a sample of ${name} in test/errors/samples.ts`).toBeDefined();
    for (const [name, make] of Object.entries(samples)) {
      const error = make() as BatonError;
      expect(error.constructor.name).toBe(name);
      if (name === 'ForeignError') continue; // carries the foreign error's name and code
      expect(error.name).toBe(name);
      expect(error.code).toBe((error.constructor as unknown as { code: string }).code);
      expect(Object.keys(error)).toContain('code'); // an own property: loggers that copy own fields (pino) show it
    }
  });

  it('no bare Error is thrown or rejected with in src/ (a typed error, or BatonInternalError for a broken invariant)', () => {
    const bare = sourceFiles(src).flatMap((file) =>
      readFileSync(file, 'utf8')
        .split('\n')
        .flatMap((line, i) => (/(throw|reject\()\s*new Error\(/.test(line) ? [`${relative(src, file)}:${i + 1}`] : [])),
    );
    expect(bare).toEqual([]);
  });
});
