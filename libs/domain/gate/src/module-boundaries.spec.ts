import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';

// Guards the guard: if the ESLint config or the Nx project graph stopped enforcing the domain
// boundary (STYLE.md), domain code could quietly start importing frameworks. The fixtures are fed
// through stdin under a file name inside this project, so nothing is written to the tree.

const FIXTURE_FILENAME = 'libs/domain/gate/src/boundary-fixture.ts';
const TIMEOUT_MS = 60_000;

function findWorkspaceRoot(start: string): string {
  let dir = start;
  while (!existsSync(join(dir, 'nx.json'))) {
    const parent = dirname(dir);
    if (parent === dir) throw new Error(`no nx.json above ${start}`);
    dir = parent;
  }
  return dir;
}

const root = findWorkspaceRoot(__dirname);
const nxPackage = JSON.parse(readFileSync(join(root, 'node_modules/nx/package.json'), 'utf8')) as {
  bin: { nx: string };
};
const nxBin = join(root, 'node_modules/nx', nxPackage.bin.nx);
const childEnv = { ...process.env, NX_DAEMON: 'false', NX_NO_CLOUD: 'true' };

interface LintResult {
  readonly code: number | null;
  readonly output: string;
}

function lintSource(source: string): Promise<LintResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(
      process.execPath,
      [join(root, 'node_modules/eslint/bin/eslint.js'), '--stdin', '--stdin-filename', FIXTURE_FILENAME],
      { cwd: root, env: childEnv, stdio: ['pipe', 'pipe', 'pipe'] },
    );
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, output }));
    child.stdin.end(source);
  });
}

describe('Module boundaries of a type:domain project', () => {
  beforeAll(() => {
    // The Nx rule reads the cached project graph; on a fresh clone it is missing and after adding a
    // project it is stale (the new project would be unknown and nothing would be enforced).
    const result = spawnSync(process.execPath, [nxBin, 'show', 'projects'], {
      cwd: root,
      env: childEnv,
      encoding: 'utf8',
    });
    if (result.status !== 0) {
      throw new Error(
        `nx show projects failed (${String(result.status)}):\n${result.stdout}${result.stderr}`,
      );
    }
  }, TIMEOUT_MS);

  describe('When domain code imports a framework package', () => {
    it.each([
      [
        '@nestjs/common',
        "import { Injectable } from '@nestjs/common';\n\nexport const decorator = Injectable;\n",
      ],
      [
        '@nats-io/jetstream',
        "import { jetstream } from '@nats-io/jetstream';\n\nexport const factory = jetstream;\n",
      ],
    ])(
      'should fail lint for %s',
      async (importPath, source) => {
        const { code, output } = await lintSource(source);

        expect(code).not.toBe(0);
        expect(output).toContain('@nx/enforce-module-boundaries');
        expect(output).toContain(importPath);
      },
      TIMEOUT_MS,
    );
  });

  describe('When domain code imports the contracts library', () => {
    it(
      'should lint clean',
      async () => {
        const { code, output } = await lintSource(
          "import { createNaming } from '@bifrost/contracts';\n\nexport const naming = createNaming;\n",
        );

        expect(output).toBe('');
        expect(code).toBe(0);
      },
      TIMEOUT_MS,
    );
  });
});
