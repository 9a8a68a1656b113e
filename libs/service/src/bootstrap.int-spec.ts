import { Controller, Injectable, type BeforeApplicationShutdown } from '@nestjs/common';
import { MessagePattern } from '@nestjs/microservices';
import { CommonConfig, loadConfig } from '@bifrost/config';
import { Messaging } from '@bifrost/messaging';
import { createTestNamespace, freePort, type TestNamespace } from '@bifrost/testing';
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
      { name: 'slow', app: () => ({ controllers: [SlowController], providers: [Worker] }) },
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

  describe('When it is closed while a request is in flight', () => {
    it('should answer it before the shutdown hooks stop the rest of the service', async () => {
      const reply = client.rpc.request('bifrost.rpc.slow.work', {});
      await handlerStarted;

      await service.close();

      expect(await reply).toEqual({ ok: true, data: { workerRanThroughout: true } });
    });
  });
});
