import {
  Controller,
  Inject,
  Injectable,
  type BeforeApplicationShutdown,
  type OnModuleInit,
} from '@nestjs/common';
import { MessagePattern, Payload } from '@nestjs/microservices';
import { Type } from '@sinclair/typebox';
import { createServer } from 'node:net';
import type { Registry } from 'prom-client';
import { CommonConfig, loadConfig } from '@bifrost/config';
import { NotFoundError } from '@bifrost/event-sourcing';
import { Messaging, RPC_OBSERVER, rpcRoute, type RpcObserver } from '@bifrost/messaging';
import { METRICS_REGISTRY } from '@bifrost/observability';
import { TcpProxy, createTestNamespace, freePort, type TestNamespace } from '@bifrost/testing';
import { startService, type RunningService } from './bootstrap';

/** Stands for what a service stops in its shutdown hooks: in-memory state, the risk desk, … */
@Injectable()
class Worker implements BeforeApplicationShutdown {
  stopped = false;
  beforeApplicationShutdown(): void {
    this.stopped = true;
  }
}

let started: () => void;
const handlerStarted = new Promise<void>((resolve) => (started = resolve));

@Controller()
class SlowController {
  constructor(private readonly worker: Worker) {}

  @MessagePattern('bifrost.rpc.slow.work')
  async work(): Promise<{ workerRanThroughout: boolean }> {
    started();
    await new Promise((resolve) => setTimeout(resolve, 300));
    return { workerRanThroughout: !this.worker.stopped };
  }
}

@Controller()
class GreetController {
  @MessagePattern(
    'bifrost.rpc.slow.greet',
    rpcRoute({ request: Type.Object({ name: Type.String({ minLength: 1 }) }) }),
  )
  greet(@Payload() body: { name: string }): { hello: string } {
    if (body.name === 'nobody') throw new NotFoundError('no such person', { code: 'SLOW.NOBODY' });
    return { hello: body.name };
  }
}

/** Stands for a service's start-up hooks: state rebuilt from a snapshot and the event tail. */
let hookEntered: () => void;
const rebuilding = new Promise<void>((resolve) => (hookEntered = resolve));
let finishRebuild: () => void;
const rebuildMayFinish = new Promise<void>((resolve) => (finishRebuild = resolve));

@Injectable()
class Rebuild implements OnModuleInit {
  done = false;
  async onModuleInit(): Promise<void> {
    hookEntered();
    await rebuildMayFinish;
    this.done = true;
  }
}

@Controller()
class StateController {
  constructor(@Inject(Rebuild) private readonly rebuild: Rebuild) {}

  @MessagePattern('bifrost.rpc.booting.state')
  state(): { rebuilt: boolean } {
    return { rebuilt: this.rebuild.done };
  }
}

describe('startService', () => {
  let ns: TestNamespace;
  let client: Messaging;
  let service: RunningService;

  beforeAll(async () => {
    ns = await createTestNamespace('svc');
    client = await Messaging.connect({
      url: ns.natsUrl,
      service: 'caller',
      instanceId: 'c1',
      namespace: ns.namespace,
    });
    const config = loadConfig(CommonConfig, {
      NATS_URL: ns.natsUrl,
      BIFROST_NAMESPACE: ns.namespace,
      PORT: String(await freePort()),
      LOG_LEVEL: 'error',
    });
    service = await startService(
      { name: 'slow', app: () => ({ controllers: [SlowController, GreetController], providers: [Worker] }) },
      config,
      { host: '127.0.0.1' },
    );
  });
  afterAll(async () => {
    await client.drain();
    await ns.cleanup();
  });

  it('should count HTTP answers by method, route template and status, never by raw path', async () => {
    await fetch(`${service.url}/health/live`);
    await fetch(`${service.url}/no/such/route/4f2a`);
    const metrics = await (await fetch(`${service.url}/metrics`)).text();

    expect(metrics).toContain(
      'bifrost_http_requests_total{method="GET",route="/health/live",status="200",service="slow"} 1',
    );
    expect(metrics).toContain(
      'bifrost_http_requests_total{method="GET",route="unmatched",status="404",service="slow"} 1',
    );
    expect(metrics).toMatch(
      /^bifrost_http_request_duration_seconds_count\{[^}]*route="\/health\/live"[^}]*\} 1$/m,
    );
    expect(metrics).not.toContain('4f2a');
  });

  it('should count every NATS request by route subject and outcome, refusals before the handler included', async () => {
    const registry = service.app.get<Registry>(METRICS_REGISTRY);
    const series = async () => (await registry.getSingleMetric('bifrost_rpc_requests_total')!.get()).values;
    // Served routes have their `ok` series from the start, under the canonical (un-namespaced) subject.
    expect(await series()).toContainEqual(
      expect.objectContaining({ labels: { subject: 'bifrost.rpc.slow.ping', outcome: 'ok' }, value: 0 }),
    );
    expect(await series()).toContainEqual(
      expect.objectContaining({ labels: { subject: 'bifrost.rpc.slow.greet', outcome: 'ok' }, value: 0 }),
    );

    const subject = 'bifrost.rpc.slow.greet';
    expect(await client.rpc.request(subject, { name: 'ada' })).toMatchObject({ ok: true });
    const malformed = await client.nc.request(
      ns.naming.qualify(subject),
      new TextEncoder().encode('{"name":'),
      {
        timeout: 2000,
      },
    );
    expect(JSON.parse(new TextDecoder().decode(malformed.data))).toMatchObject({
      error: { code: 'PAYLOAD.MALFORMED' },
    });
    expect(await client.rpc.request(subject, { name: '' })).toMatchObject({
      error: { code: 'RPC.VALIDATION_FAILED' },
    });
    expect(await client.rpc.request(subject, { name: 'nobody' })).toMatchObject({
      error: { code: 'SLOW.NOBODY' },
    });

    const greet = (await series()).filter((v) => v.labels['subject'] === subject);
    expect(greet.map((v) => [v.labels['outcome'], v.value]).sort()).toEqual([
      ['PAYLOAD.MALFORMED', 1],
      ['RPC.VALIDATION_FAILED', 1],
      ['SLOW.NOBODY', 1],
      ['ok', 1],
    ]);
    // A route served again (a new leader's, say) keeps what it counted.
    service.app.get<RpcObserver>(RPC_OBSERVER).serving?.(subject);
    const durations = (await registry.getSingleMetric('bifrost_rpc_request_duration_seconds')!.get()).values;
    expect(durations).toContainEqual(
      expect.objectContaining({
        metricName: 'bifrost_rpc_request_duration_seconds_count',
        labels: { subject },
        value: 4,
      }),
    );
    const text = await (await fetch(`${service.url}/metrics`)).text();
    expect(text).toContain(
      'bifrost_rpc_requests_total{subject="bifrost.rpc.slow.greet",outcome="PAYLOAD.MALFORMED",service="slow"} 1',
    );
    expect(text).not.toContain(ns.namespace + '.bifrost.rpc');
  });

  describe('When it is closed while a request is in flight', () => {
    it('should answer it before the shutdown hooks stop the rest of the service', async () => {
      const reply = client.rpc.request('bifrost.rpc.slow.work', {});
      await handlerStarted;

      await service.close();

      expect(await reply).toEqual({ ok: true, data: { workerRanThroughout: true } });
    });
  });

  describe('When its start-up hooks are still running', () => {
    it('should not join its queue groups until they are done, so nothing is answered from state not yet rebuilt', async () => {
      const config = loadConfig(CommonConfig, {
        NATS_URL: ns.natsUrl,
        BIFROST_NAMESPACE: ns.namespace,
        PORT: String(await freePort()),
        LOG_LEVEL: 'error',
      });
      const starting = startService(
        { name: 'booting', app: () => ({ controllers: [StateController], providers: [Rebuild] }) },
        config,
        { host: '127.0.0.1' },
      );
      await rebuilding;

      const early = await client.rpc.request('bifrost.rpc.booting.state', {}, { timeoutMs: 1000 });
      finishRebuild();
      const booted = await starting;
      try {
        expect(early).toMatchObject({ ok: false, error: { code: 'RPC.NO_RESPONDERS' } });
        expect(await client.rpc.call('bifrost.rpc.booting.state', {})).toEqual({ rebuilt: true });
      } finally {
        await booted.close();
      }
    });
  });

  describe('When it fails to start after joining its queue groups (its port taken)', () => {
    it('should leave nothing running: no NATS route answers for the instance that never started', async () => {
      const taken = createServer();
      await new Promise<void>((done) => taken.listen(0, '127.0.0.1', done));
      const config = loadConfig(CommonConfig, {
        NATS_URL: ns.natsUrl,
        BIFROST_NAMESPACE: ns.namespace,
        PORT: String((taken.address() as { port: number }).port),
        LOG_LEVEL: 'fatal',
      });
      try {
        const failed = await startService(
          { name: 'clash', app: () => ({ controllers: [GreetController] }) },
          config,
          { host: '127.0.0.1' },
        ).then(
          () => 'started',
          (error: unknown) => String(error),
        );

        expect(failed).toMatch(/EADDRINUSE/);
        expect(await client.rpc.request('bifrost.rpc.clash.ping', {}, { timeoutMs: 1000 })).toMatchObject({
          ok: false,
          error: { code: 'RPC.NO_RESPONDERS' },
        });
      } finally {
        await new Promise((done) => taken.close(done));
      }
    });
  });

  describe('When its NATS link is down as it shuts down', () => {
    it('should still close: the connection closed without its drain, nothing left to reject', async () => {
      const { hostname, port } = new URL(ns.natsUrl);
      const proxy = await TcpProxy.start({ host: hostname, port: Number(port) });
      const config = loadConfig(CommonConfig, {
        NATS_URL: proxy.url,
        BIFROST_NAMESPACE: ns.namespace,
        PORT: String(await freePort()),
        LOG_LEVEL: 'fatal',
      });
      const cut = await startService(
        { name: 'cut', app: () => ({ controllers: [GreetController] }) },
        config,
        {
          host: '127.0.0.1',
        },
      );
      const messaging = cut.app.get(Messaging);
      try {
        proxy.pause();

        const closed = await cut.close().then(
          () => 'closed',
          (error: unknown) => `rejected: ${String(error)}`,
        );

        expect(closed).toBe('closed');
        expect(messaging.nc.isClosed()).toBe(true);
      } finally {
        await messaging.nc.close();
        await proxy.stop();
      }
    }, 30_000);
  });
});
