import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import { Test } from '@nestjs/testing';
import { Counter, type Registry } from 'prom-client';
import { HEALTH_CHECK_TIMEOUT_MS, type HealthIndicator, HealthRegistry } from './health';
import { ObservabilityModule } from './observability.module';
import { METRICS_REGISTRY } from './tokens';

describe('HealthRegistry', () => {
  describe('Given no indicators', () => {
    it('should be ready', async () => {
      await expect(new HealthRegistry().readiness()).resolves.toEqual({ ok: true, checks: {} });
    });
  });

  describe('Given a throwing, a hanging and a healthy indicator', () => {
    it('should report each, not ok overall, within the per-check timeout', async () => {
      const health = new HealthRegistry(50);
      health.register({ name: 'db', check: () => ({ ok: true }) });
      health.register({
        name: 'nats',
        check: () => {
          throw new Error('connection refused');
        },
      });
      health.register({ name: 'consumer', check: () => new Promise(() => undefined) });

      const readiness = await health.readiness();

      expect(readiness).toEqual({
        ok: false,
        checks: {
          db: { ok: true },
          nats: { ok: false, detail: 'connection refused' },
          consumer: { ok: false, detail: 'timed out after 50 ms' },
        },
      });
    });
  });

  it('should refuse two indicators with the same name, and forget one when unregistered', async () => {
    const health = new HealthRegistry();
    const unregister = health.register({ name: 'db', check: () => ({ ok: false }) });

    expect(() => health.register({ name: 'db', check: () => ({ ok: true }) })).toThrow(/already registered/);
    unregister();

    await expect(health.readiness()).resolves.toEqual({ ok: true, checks: {} });
  });
});

describe('HealthController on Fastify', () => {
  let app: NestFastifyApplication;
  let health: HealthRegistry;
  let registry: Registry;
  const database = { ok: true, detail: undefined as string | undefined };

  beforeAll(async () => {
    const moduleRef = await Test.createTestingModule({
      imports: [ObservabilityModule.forRoot({ service: 'gate' })],
    })
      .overrideProvider(HEALTH_CHECK_TIMEOUT_MS)
      .useValue(100)
      .compile();
    app = moduleRef.createNestApplication<NestFastifyApplication>(new FastifyAdapter(), { logger: false });
    await app.init();
    await app.getHttpAdapter().getInstance().ready();
    health = app.get(HealthRegistry);
    registry = app.get<Registry>(METRICS_REGISTRY);
    const indicator: HealthIndicator = { name: 'postgres', check: () => ({ ...database }) };
    health.register(indicator);
  });

  afterAll(async () => {
    await app.close();
  });

  it('should answer liveness', async () => {
    const response = await app.inject({ method: 'GET', url: '/health/live' });

    expect(response.statusCode).toBe(200);
    expect(response.json()).toEqual({ status: 'ok' });
  });

  it('should answer 200 while every indicator is ok and 503 once one is not', async () => {
    const ready = await app.inject({ method: 'GET', url: '/health/ready' });
    expect(ready.statusCode).toBe(200);
    expect(ready.json()).toEqual({ status: 'ok', checks: { postgres: { ok: true } } });

    database.ok = false;
    database.detail = 'connection terminated';
    const unavailable = await app.inject({ method: 'GET', url: '/health/ready' });
    expect(unavailable.statusCode).toBe(503);
    expect(unavailable.json()).toEqual({
      status: 'unavailable',
      checks: { postgres: { ok: false, detail: 'connection terminated' } },
    });

    database.ok = true;
    database.detail = undefined;
    const recovered = await app.inject({ method: 'GET', url: '/health/ready' });
    expect(recovered.statusCode).toBe(200);
  });

  it('should serve Prometheus text with default metrics labelled by service', async () => {
    new Counter({
      name: 'bifrost_decisions_total',
      help: 'Decisions by action',
      labelNames: ['action'],
      registers: [registry],
    })
      .labels('ALLOW')
      .inc();

    const response = await app.inject({ method: 'GET', url: '/metrics' });

    expect(response.statusCode).toBe(200);
    expect(response.headers['content-type']).toBe(registry.contentType);
    expect(response.body).toMatch(/^bifrost_process_cpu_user_seconds_total\{service="gate"\} [\d.e-]+$/m);
    expect(response.body).toMatch(/^bifrost_decisions_total\{action="ALLOW",service="gate"\} 1$/m);
  });
});
