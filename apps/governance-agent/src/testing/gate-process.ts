import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { freePort, waitFor, type TestNamespace } from '@bifrost/testing';

export interface GateProcess {
  readonly url: string;
  stop(): Promise<void>;
}

const repoRoot = join(__dirname, '..', '..', '..', '..');

/**
 * The real gate, started as its own process on the test's namespace (apps do not import other
 * apps): `node -r @swc-node/register apps/gate/src/main.ts`, ready once /health/ready answers 200.
 */
export async function startGateProcess(ns: TestNamespace): Promise<GateProcess> {
  const port = await freePort();
  const child = spawn(process.execPath, ['-r', '@swc-node/register', 'apps/gate/src/main.ts'], {
    cwd: repoRoot,
    env: {
      ...process.env,
      NATS_URL: ns.natsUrl,
      BIFROST_NAMESPACE: ns.namespace,
      PORT: String(port),
      LOG_LEVEL: 'warn',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  const keep = (chunk: Buffer) => {
    output = (output + chunk.toString()).slice(-20_000);
  };
  child.stdout.on('data', keep);
  child.stderr.on('data', keep);
  const exited = new Promise<number | null>((done) => child.once('exit', (code) => done(code)));
  const url = `http://127.0.0.1:${port}`;
  const ready = waitFor(
    async () => (await fetch(`${url}/health/ready`).catch(() => undefined))?.status === 200,
    {
      timeoutMs: 90_000,
      intervalMs: 100,
      what: 'the gate process to become ready',
    },
  );
  const died = exited.then((code) => {
    throw new Error(`the gate exited with ${code} before it was ready:\n${output}`);
  });
  ready.catch(() => undefined);
  died.catch(() => undefined);
  try {
    await Promise.race([ready, died]);
  } catch (error) {
    child.kill('SIGKILL');
    throw new Error(`${(error as Error).message}\n--- gate output ---\n${output}`);
  }
  return {
    url,
    async stop() {
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
      await exited;
      clearTimeout(timer);
    },
  };
}
