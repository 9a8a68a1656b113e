import { spawn } from 'node:child_process';
import { resolve } from 'node:path';
import { createTestNamespace, freePort, waitFor, type TestNamespace } from '@bifrost/testing';

const ROOT = resolve(__dirname, '../../..');

describe('runService', () => {
  let ns: TestNamespace;

  /** Runs `libs/service/src/fixtures/<name>.main.ts` on this namespace; `output`: stdout and stderr so far. */
  const runFixture = async (
    name: string,
    env: Record<string, string>,
    stdin: 'ignore' | 'pipe' = 'ignore',
  ) => {
    const child = spawn(
      process.execPath,
      ['-r', '@swc-node/register', `libs/service/src/fixtures/${name}.main.ts`],
      {
        cwd: ROOT,
        env: {
          ...process.env,
          NATS_URL: ns.natsUrl,
          BIFROST_NAMESPACE: ns.namespace,
          PORT: String(await freePort()),
          LOG_LEVEL: 'info',
          ...env,
        },
        stdio: [stdin, 'pipe', 'pipe'],
      },
    );
    let text = '';
    child.stdout?.on('data', (chunk: Buffer) => (text += chunk.toString()));
    child.stderr?.on('data', (chunk: Buffer) => (text += chunk.toString()));
    return { child, output: () => text };
  };

  beforeAll(async () => {
    ns = await createTestNamespace('run');
  });
  afterAll(async () => {
    await ns.cleanup();
  });

  describe.each([
    ['a running service', 'running'],
    ['a service still starting (a start-up hook)', 'startup'],
  ])('When a promise rejection goes unhandled in %s', (_, faultAt) => {
    it('should log it as its last line, at level fatal, and exit 1', async () => {
      const { child, output } = await runFixture('unhandled-rejection', { FAULT_AT: faultAt });

      const code = await new Promise<number | null>((done) => child.once('exit', done));

      const last = JSON.parse(output().trim().split('\n').at(-1) as string) as Record<string, unknown>;
      expect(code).toBe(1);
      expect(last).toMatchObject({
        level: 'fatal',
        service: 'faulty',
        msg: 'unhandled promise rejection: exiting',
        err: { message: 'a fault nobody caught' },
      });
    }, 30_000);
  });

  describe('When its traces cannot be exported (the collector is down)', () => {
    it('should log the failure at level warn', async () => {
      const port = await freePort();
      const collector = `http://127.0.0.1:${await freePort()}`; // nothing listens there
      const { child, output } = await runFixture('plain', {
        PORT: String(port),
        OTEL_EXPORTER_OTLP_ENDPOINT: collector,
      });
      const exited = new Promise((done) => child.once('exit', done));

      try {
        await waitFor(() => output().includes('plain started'), { timeoutMs: 30_000, what: 'the start' });
        // Any request is traced (bar probes and scrapes); its span is exported within seconds.
        await fetch(`http://127.0.0.1:${port}/traced`);

        const logged = await waitFor(
          () => {
            const line = output()
              .split('\n')
              .find((text) => text.includes('trace export failed'));
            // Parsed here, so a line still arriving is waited for rather than failed on.
            return line === undefined ? undefined : (JSON.parse(line) as Record<string, unknown>);
          },
          { timeoutMs: 30_000, what: 'the failure logged' },
        );
        expect(logged).toMatchObject({
          level: 'warn',
          service: 'plain',
          err: { message: expect.stringContaining('ECONNREFUSED') },
          heldBack: 0,
        });
      } finally {
        child.kill('SIGTERM');
        await exited;
      }
    }, 60_000);
  });

  describe.each(['SIGTERM', 'SIGINT'] as const)('When %s comes again while it drains', (signal) => {
    // One Ctrl-C reaches a service run under npm twice (from the terminal and forwarded by npm).
    it('should go on draining and exit 0, not die of the second signal', async () => {
      const { child, output } = await runFixture('slow-shutdown', {}, 'pipe');
      const exited = new Promise<[number | null, string | null]>((done) =>
        child.once('exit', (code, killedBy) => done([code, killedBy])),
      );

      await waitFor(() => output().includes('draining started'), { timeoutMs: 30_000, what: 'the start' });
      child.kill(signal);
      await waitFor(() => output().includes('shutting down'), { what: 'the shutdown' });
      child.kill(signal);
      child.stdin?.end('the shutdown hook may finish\n');

      expect(await exited).toEqual([0, null]);
      expect(JSON.parse(output().trim().split('\n').at(-1) as string)).toMatchObject({ msg: 'stopped' });
    }, 30_000);
  });

  describe.each(['SIGTERM', 'SIGINT'] as const)('When %s comes while the start never ends', (signal) => {
    // The first connect waits for NATS for ever: an unreachable server holds the start.
    it('should give the start up within SHUTDOWN_TIMEOUT_MS and exit 1', async () => {
      const { child, output } = await runFixture('slow-shutdown', {
        NATS_URL: `nats://127.0.0.1:${await freePort()}`,
        SHUTDOWN_TIMEOUT_MS: '500',
      });
      let exit: [number | null, string | null] | undefined;
      child.once('exit', (code, killedBy) => (exit = [code, killedBy]));

      try {
        // Its signal handlers are in place before Nest starts.
        await waitFor(() => output().includes('Starting Nest application'), {
          timeoutMs: 30_000,
          what: 'the start',
        });
        // Twice, as one Ctrl-C under npm.
        child.kill(signal);
        child.kill(signal);

        expect(await waitFor(() => exit, { timeoutMs: 15_000, what: 'the exit' })).toEqual([1, null]);
        expect(output()).toContain(`${signal} while starting`);
      } finally {
        if (exit === undefined) child.kill('SIGKILL');
      }
    }, 60_000);
  });
});
