import { execFile } from 'node:child_process';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import { type AddressInfo } from 'node:net';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { trace } from '@opentelemetry/api';
import { startTelemetry, throttleErrors, tracesUrl } from './telemetry';

const ROOT = join(__dirname, '../../..');
const FIXTURE = join(__dirname, 'testing/telemetry-fixture.ts');

describe('startTelemetry', () => {
  describe('Given no OTLP endpoint', () => {
    it('should start nothing and hand back a no-op', async () => {
      const telemetry = startTelemetry({ serviceName: 'gate' });

      const span = trace.getTracer('spec').startSpan('ignored');

      expect(span.isRecording()).toBe(false);
      await expect(telemetry.shutdown()).resolves.toBeUndefined();
    });
  });

  // The OTLP exporter loads `http` through a dynamic import(), which Jest's sandbox refuses, so the
  // SDK runs in a plain Node child process against a real HTTP collector here.
  describe('Given an OTLP/HTTP collector', () => {
    let collector: Server;
    const received: { url: string | undefined; body: string }[] = [];

    beforeAll(async () => {
      collector = createServer((request: IncomingMessage, response) => {
        const chunks: Buffer[] = [];
        request.on('data', (chunk: Buffer) => chunks.push(chunk));
        request.on('end', () => {
          received.push({ url: request.url, body: Buffer.concat(chunks).toString() });
          response.writeHead(200, { 'content-type': 'application/json' }).end('{}');
        });
      });
      await new Promise<void>((resolve) => collector.listen(0, '127.0.0.1', resolve));
    });

    afterAll(async () => {
      await new Promise((resolve) => collector.close(resolve));
    });

    it('should export HTTP spans with the service name to <endpoint>/v1/traces, flushed on shutdown', async () => {
      const { port } = collector.address() as AddressInfo;

      await runFixture(`http://127.0.0.1:${port}/`);

      const traces = received.filter((request) => request.url === '/v1/traces');
      expect(traces.length).toBeGreaterThan(0);
      const body = traces.map((request) => request.body).join('\n');
      expect(body).toContain('"stringValue":"fixture"');
      expect(body).toContain('"stringValue":"1.2.3"');
      expect(body).toContain('"kind":2'); // SERVER span of the incoming /ping
      expect(body).toContain('"kind":3'); // CLIENT span of the outgoing request
    }, 30_000);

    it('should still shut down cleanly when the collector is unreachable', async () => {
      await expect(runFixture('http://127.0.0.1:1')).resolves.toBeUndefined();
    }, 30_000);
  });
});

describe('throttleErrors', () => {
  const setUp = () => {
    let time = 0;
    const reported: [unknown, number][] = [];
    const errors = throttleErrors(
      (error, heldBack) => reported.push([error, heldBack]),
      60_000,
      () => time,
    );
    return { errors, reported, at: (ms: number) => (time = ms) };
  };

  describe('When errors keep coming (a collector that is down)', () => {
    it('should pass the first on at once, then one per interval with how many were held back', () => {
      const { errors, reported, at } = setUp();

      for (let ms = 0; ms <= 130_000; ms += 5_000) {
        at(ms);
        errors.report(`failure at ${ms}`);
      }

      expect(reported).toEqual([
        ['failure at 0', 0],
        ['failure at 60000', 11],
        ['failure at 120000', 11],
      ]);
    });
  });

  describe('When an error is forced (shutdown)', () => {
    it('should pass it on within the interval, with the count held back so far', () => {
      const { errors, reported, at } = setUp();
      errors.report('first');
      at(1_000);
      errors.report('held back');

      at(2_000);
      errors.report('at shutdown', true);

      expect(reported).toEqual([
        ['first', 0],
        ['at shutdown', 1],
      ]);
    });
  });
});

describe('tracesUrl', () => {
  it('should append /v1/traces to the base endpoint', () => {
    expect(tracesUrl('http://otel:4318')).toBe('http://otel:4318/v1/traces');
    expect(tracesUrl('http://otel:4318/')).toBe('http://otel:4318/v1/traces');
  });
});

async function runFixture(endpoint: string): Promise<void> {
  await promisify(execFile)(process.execPath, ['-r', '@swc-node/register', FIXTURE, endpoint], {
    cwd: ROOT,
    timeout: 25_000,
  });
}
