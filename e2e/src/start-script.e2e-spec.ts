import { spawn, type ChildProcess } from 'node:child_process';
import { resolve } from 'node:path';
import type { CanaryStatus } from '@bifrost/contracts';
import {
  createTestDatabase,
  createTestNamespace,
  freePort,
  infra,
  waitFor,
  type TestNamespace,
} from '@bifrost/testing';
import { connectProbe } from './stack.harness';

const repoRoot = resolve(__dirname, '../..');
/** Ports' offsets from BIFROST_START_PORT_BASE (scripts/start.mjs). */
const OFFSETS: Record<string, number> = { 'api-gateway': 0, tripwire: 4 };
const TRIPWIRE_OFFSET = OFFSETS['tripwire'] as number;

/** `npm start` as an operator runs it, limited to a few services on ports of the test's choosing. */
interface NpmStart {
  readonly npm: ChildProcess;
  readonly port: number;
  readonly exited: Promise<void>;
  output(): string;
}

async function npmStart(
  ns: TestNamespace,
  apps = ['tripwire'],
  env: Record<string, string> = {},
): Promise<NpmStart> {
  const port = await freePort();
  const npm = spawn('npm', ['start'], {
    cwd: repoRoot,
    // Its own process group, as a terminal gives it: the group is what Ctrl-C signals.
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: {
      ...process.env,
      NATS_URL: ns.natsUrl,
      DATABASE_URL: (await infra()).databaseUrl,
      BIFROST_NAMESPACE: ns.namespace,
      BIFROST_START_APPS: apps.join(','),
      BIFROST_START_PORT_BASE: String(port - TRIPWIRE_OFFSET),
      GATEWAY_JWT_SECRET: 'e2e-start-script-secret-of-32-characters',
      GATEWAY_BOOTSTRAP_OWNER_KEY: 'e2e-start-script-owner-key',
      ...env,
    },
  });
  let output = '';
  const keep = (chunk: Buffer) => (output += chunk.toString());
  npm.stdout?.on('data', keep);
  npm.stderr?.on('data', keep);
  const exited = new Promise<void>((done) => npm.once('exit', () => done()));
  const started: NpmStart = { npm, port, exited, output: () => output };
  try {
    await waitFor(() => output.includes('Bifrost is up') || npm.exitCode !== null, {
      timeoutMs: 90_000,
      intervalMs: 100,
      what: '`npm start` to report the stack up',
    });
    expect(output).toContain('Bifrost is up');
    const base = port - TRIPWIRE_OFFSET;
    expect(await answers(base + (OFFSETS[apps[0] as string] ?? TRIPWIRE_OFFSET))).toBe(true);
  } catch (error) {
    // Not handed to the caller, so not stopped by its afterEach: stopped here.
    killAll(started);
    throw error;
  }
  return started;
}

/** Everything `npm start` ran: its process group, and the services, which run in groups of their own. */
function killAll(started: NpmStart): void {
  kill(-(started.npm.pid as number), 'SIGKILL');
  for (const pid of servicePids(started.output())) kill(pid, 'SIGKILL');
}

async function answers(port: number): Promise<boolean> {
  const response = await fetch(`http://127.0.0.1:${port}/health/live`).catch(() => undefined);
  return response?.ok === true;
}

/** The pids of the services `npm start` ran (from their logs), so a failed spec leaves nothing behind. */
function servicePids(output: string): number[] {
  return [...output.matchAll(/^\[[a-z-]+\] .*"pid":(\d+)/gm)].map((m) => Number(m[1]));
}

function kill(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(pid, signal);
  } catch {
    // already gone
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

async function stopped(started: NpmStart): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`npm start did not stop:\n${started.output()}`)), 40_000);
  });
  try {
    await Promise.race([started.exited, late]);
  } finally {
    clearTimeout(timer);
  }
}

describe('npm start (scripts/start.mjs)', () => {
  let ns: TestNamespace;
  let started: NpmStart | undefined;

  beforeEach(async () => {
    ns = await createTestNamespace('start');
  });

  afterEach(async () => {
    if (started) {
      killAll(started);
      started = undefined;
    }
    await ns.cleanup();
  });

  describe('Given the stack started by `npm start`', () => {
    it('should drain the services and stop when npm alone is sent SIGTERM (a process manager, `kill <pid>`)', async () => {
      started = await npmStart(ns);

      kill(started.npm.pid as number, 'SIGTERM');
      await stopped(started);

      expect(started.output()).toContain('[start] SIGTERM received');
      expect(started.output()).toMatch(/\[start\] stopped\n/);
      expect(await answers(started.port)).toBe(false);
    }, 150_000);

    it("should stop gracefully, once, on a terminal's Ctrl-C (SIGINT to npm's whole process group)", async () => {
      started = await npmStart(ns);

      kill(-(started.npm.pid as number), 'SIGINT');
      await stopped(started);

      expect(started.output()).toContain('[start] SIGINT received');
      expect(started.output()).not.toContain('second signal');
      expect(started.output()).toMatch(/\[start\] stopped\n/);
      expect(await answers(started.port)).toBe(false);
    }, 150_000);

    it('should not leave its services running when it is killed hard (SIGKILL to npm and the launcher)', async () => {
      started = await npmStart(ns);
      const services = servicePids(started.output());
      expect(services.length).toBeGreaterThan(0);

      kill(-(started.npm.pid as number), 'SIGKILL');
      await stopped(started);

      // The services run in their own process groups, out of the signal's reach: they stop by themselves.
      await waitFor(() => services.every((pid) => !alive(pid)), {
        timeoutMs: 40_000,
        intervalMs: 200,
        what: 'the orphaned services to stop',
      });
      expect(await answers(started.port)).toBe(false);
    }, 150_000);

    it("should point the canary's default readiness probes at the services it started, on their ports", async () => {
      started = await npmStart(ns, ['tripwire', 'canary']);
      const probe = await connectProbe({ ns });
      try {
        const status = await probe.rpc.call<CanaryStatus>('bifrost.rpc.canary.status', {});
        const http = status.probes.filter((view) => view.probe.kind === 'http').map((view) => view.probe);
        expect(http.map(({ name, target }) => ({ name, target }))).toEqual([
          { name: 'tripwire-ready', target: `http://127.0.0.1:${started.port}/health/ready` },
        ]);
      } finally {
        await probe.drain();
      }
    }, 150_000);
  });

  describe('Given a NATS_URL nothing answers on', () => {
    it('should stop at once with exit 1 and say so, rather than start services that wait for ever', async () => {
      const run = await new Promise<{ code: number | null; output: string }>((done) => {
        const child = spawn('node', ['scripts/start.mjs'], {
          cwd: repoRoot,
          stdio: ['ignore', 'pipe', 'pipe'],
          env: {
            ...process.env,
            NATS_URL: 'nats://alice:s3cret@127.0.0.1:1',
            BIFROST_START_APPS: 'tripwire',
          },
        });
        let output = '';
        child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
        child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
        child.once('exit', (code) => done({ code, output }));
      });

      expect(run.code).toBe(1);
      // Without the password it holds.
      expect(run.output).toContain('NATS_URL nats://alice:***@127.0.0.1:1 does not answer');
      expect(run.output).not.toContain('s3cret');
      expect(run.output).not.toContain('starting tripwire');
    }, 30_000);
  });

  describe('Given a database that already has an active owner key', () => {
    it('should say that the configured owner key was not installed, rather than print it as the key to use', async () => {
      const db = await createTestDatabase('startowner');
      try {
        const first = await npmStart(ns, ['api-gateway'], {
          DATABASE_URL: db.url,
          GATEWAY_BOOTSTRAP_OWNER_KEY: 'e2e-start-script-first-owner-key',
        });
        started = first;
        expect(first.output()).toContain('owner key e2e-start-script-first-owner-key   (from');
        kill(-(first.npm.pid as number), 'SIGINT');
        await stopped(first);
        started = undefined;

        const second = await npmStart(ns, ['api-gateway'], {
          DATABASE_URL: db.url,
          GATEWAY_BOOTSTRAP_OWNER_KEY: 'e2e-start-script-other-owner-key',
        });
        started = second;

        expect(second.output()).toContain(
          'owner key e2e-start-script-other-owner-key was NOT installed: this database already has an active owner key',
        );
        expect(second.output()).not.toContain(
          "try:      curl -H 'X-Api-Key: e2e-start-script-other-owner-key'",
        );
      } finally {
        if (started) {
          kill(-(started.npm.pid as number), 'SIGINT');
          await stopped(started);
          started = undefined;
        }
        await db.drop();
      }
    }, 200_000);
  });
});
