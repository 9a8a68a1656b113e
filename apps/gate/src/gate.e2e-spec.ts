import { spawn } from 'node:child_process';
import { resolve } from 'node:path';
import { createTestNamespace, freePort, infra, waitFor, type TestNamespace } from '@bifrost/testing';

const repoRoot = resolve(__dirname, '../../..');

describe('gate process', () => {
  let ns: TestNamespace;

  beforeAll(async () => {
    ns = await createTestNamespace('gproc');
  });
  afterAll(async () => {
    await ns.cleanup();
  });

  it('should start from main.ts, become ready, and exit 0 after draining on SIGTERM', async () => {
    const port = await freePort();
    const { natsUrl } = await infra();
    const child = spawn(process.execPath, ['-r', '@swc-node/register', 'apps/gate/src/main.ts'], {
      cwd: repoRoot,
      env: {
        ...process.env,
        NATS_URL: natsUrl,
        BIFROST_NAMESPACE: ns.namespace,
        PORT: String(port),
        LOG_LEVEL: 'info',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    const exited = new Promise<number | null>((done) => child.once('exit', (code) => done(code)));

    await waitFor(
      async () =>
        (await fetch(`http://127.0.0.1:${port}/health/ready`).catch(() => undefined))?.status === 200,
      { timeoutMs: 30_000, intervalMs: 100, what: 'the gate to become ready' },
    );
    child.kill('SIGTERM');

    expect(await exited).toBe(0);
    expect(output).toContain('"msg":"shutting down');
    expect(output).toContain('"msg":"stopped"');
  }, 45_000);

  it('should refuse to start with an invalid environment and list every problem', async () => {
    const child = spawn(process.execPath, ['-r', '@swc-node/register', 'apps/gate/src/main.ts'], {
      cwd: repoRoot,
      env: { ...process.env, PORT: 'eighty', LOG_LEVEL: 'loud', BIFROST_NAMESPACE: 'a.b' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const code = await new Promise<number | null>((done) => child.once('exit', done));

    expect(code).toBe(1);
    expect(stderr).toMatch(/PORT:/);
    expect(stderr).toMatch(/LOG_LEVEL:/);
    expect(stderr).toMatch(/BIFROST_NAMESPACE:/);
  }, 30_000);
});
