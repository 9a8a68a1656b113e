#!/usr/bin/env node
// `npm test`: the whole jest suite (root jest.config.cjs, one project per lib/app), then one summary
// line `N passed, N failed` as the very last line. Extra arguments are passed to jest, e.g.
// `npm test -- libs/contracts` or `npm test -- -t 'maturity'`.
//
// Integration specs need NATS and Postgres; libs/testing reads NATS_URL / DATABASE_URL and falls
// back to the local defaults, so nothing about them is decided here.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = dirname(dirname(fileURLToPath(import.meta.url)));
const reportFile = join(root, 'reports', 'jest.json');
const extraArgs = process.argv.slice(2);
const env = { ...process.env, NX_DAEMON: process.env.NX_DAEMON ?? 'false', NX_NO_CLOUD: 'true' };

function binOf(pkg, name = pkg) {
  const manifest = JSON.parse(readFileSync(join(root, 'node_modules', pkg, 'package.json'), 'utf8'));
  const bin = typeof manifest.bin === 'string' ? manifest.bin : manifest.bin[name];
  return join(root, 'node_modules', pkg, bin);
}

function summary(passed, failed, code) {
  console.log(`${passed} passed, ${failed} failed`);
  process.exit(code);
}

// The module-boundary spec runs ESLint, whose Nx rule reads the cached project graph: missing on a
// fresh clone, stale after a project was added. Build it once before any test runs.
const graph = spawnSync(process.execPath, [binOf('nx'), 'show', 'projects'], {
  cwd: root,
  env,
  encoding: 'utf8',
});
if (graph.status !== 0) {
  process.stderr.write(
    `nx show projects failed (exit ${graph.status}):\n${graph.stdout ?? ''}${graph.stderr ?? ''}\n`,
  );
  summary(0, 1, 1);
}

mkdirSync(dirname(reportFile), { recursive: true });
rmSync(reportFile, { force: true });

// --passWithNoTests only so that jest still writes its report; zero tests is judged below.
const jestArgs = [
  '-c',
  join(root, 'jest.config.cjs'),
  '--json',
  `--outputFile=${reportFile}`,
  '--passWithNoTests',
];
const choosesWorkers = extraArgs.some((arg) => /^(-w|--maxWorkers|-i|--runInBand)(=|$)/.test(arg));
if (!choosesWorkers) jestArgs.push('--maxWorkers=2');
// A spec that leaks a NATS or Postgres connection would keep jest alive forever; CI must end.
if (process.env.CI && !extraArgs.includes('--detectOpenHandles')) jestArgs.push('--forceExit');

const jest = spawn(process.execPath, [binOf('jest'), ...jestArgs, ...extraArgs], {
  cwd: root,
  env,
  stdio: 'inherit',
});

for (const signal of ['SIGINT', 'SIGTERM']) {
  process.on(signal, () => jest.kill(signal));
}

jest.on('error', (error) => {
  console.error(`could not start jest: ${error.message}`);
  summary(0, 1, 1);
});

jest.on('close', (code, signal) => {
  if (!existsSync(reportFile)) {
    console.error(`jest ended (${signal ?? `exit ${code}`}) without writing ${reportFile}`);
    summary(0, 1, 1);
  }
  const report = JSON.parse(readFileSync(reportFile, 'utf8'));
  // A suite can fail without a failing test: it did not compile, a hook threw, or it crashed
  // (numRuntimeErrorTestSuites). Each such suite counts as one failure so it cannot go unnoticed.
  const brokenSuites = (report.testResults ?? []).filter(
    (suite) =>
      suite.status === 'failed' && (suite.assertionResults ?? []).every((t) => t.status !== 'failed'),
  ).length;
  const passed = report.numPassedTests ?? 0;
  const failed = (report.numFailedTests ?? 0) + Math.max(brokenSuites, report.numRuntimeErrorTestSuites ?? 0);

  if (passed + failed === 0) {
    console.error('no tests ran');
    summary(0, 0, 1);
  }
  if (failed === 0 && code !== 0) {
    // Counted as one failure, so that the summary line says the run failed as its exit code does.
    console.error(`jest exited with ${signal ?? `code ${code}`} although no test failed`);
    summary(passed, 1, 1);
  }
  summary(passed, failed, failed > 0 ? 1 : 0);
});
