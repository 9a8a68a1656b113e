import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';

// Repo root is three levels up from libs/audit/src; the vectors live beside the checkout.
const REPO_ROOT = resolve(__dirname, '..', '..', '..');

export const TESTVECTORS_DIR =
  process.env['TESTVECTORS_DIR'] ?? resolve(REPO_ROOT, '..', 'shared', 'testvectors');

/** Absolute path of a folder of the test vectors; fails loudly rather than yielding zero tests. */
export function vectorsDir(...segments: string[]): string {
  const dir = join(TESTVECTORS_DIR, ...segments);
  if (!existsSync(dir)) {
    throw new Error(`Test vectors not found at ${dir}: set TESTVECTORS_DIR to the testvectors folder`);
  }
  return dir;
}

/** Every `.json` file under `dir`, recursively, as [path relative to dir, parsed content]. */
export function jsonFilesUnder<T>(dir: string): Array<[string, T]> {
  return filesUnder(dir)
    .filter((file) => file.endsWith('.json'))
    .map((file) => [relative(dir, file), JSON.parse(readFileSync(file, 'utf8')) as T]);
}

function filesUnder(dir: string): string[] {
  return readdirSync(dir)
    .sort()
    .flatMap((name) => {
      const path = join(dir, name);
      return statSync(path).isDirectory() ? filesUnder(path) : [path];
    });
}
